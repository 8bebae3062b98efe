"""Codec part of a comparison: compress the data with each model's encoder, decode, measure.

The codec is the runtime's own (:mod:`edgeae_runtime.codec`): signals go through
the stream encoder/decoder (bytes per second of signal, SNR after decoding),
images and vectors through the batch form (bytes per item, PSNR).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgeae_runtime import codec as rt_codec
from edgeae_runtime import metrics
from edgeae_runtime.errors import InputError
from edgeae_runtime.model import Model

from .quality import CompareData
from .result import CodecStats

__all__ = ["codec_skip_reason", "codec_stats", "find_codec_pair", "ladder_pairs", "rd_curve"]

#: Seconds of a signal streamed through the codec (enough for stable bytes/s and SNR).
MAX_SIGNAL_SECONDS = 10.0


def find_codec_pair(model_path: str | Path) -> tuple[Path, Path] | None:
    """The encoder/decoder files beside a model: ``model.int8.onnx`` -> ``encoder.int8.onnx``...

    The part of the file name after its first dot is kept, so a quantized model
    finds its quantized codec; None when either file is missing.
    """
    p = Path(model_path)
    suffix = p.name[p.name.find(".") :] if "." in p.name else ".onnx"
    enc, dec = p.with_name(f"encoder{suffix}"), p.with_name(f"decoder{suffix}")
    return (enc, dec) if enc.is_file() and dec.is_file() else None


def codec_skip_reason(data: CompareData) -> str | None:
    """Why the codec cannot be measured on ``data`` (None when it can)."""
    if data.layout == "NCW" and data.signal is None:
        return "signal windows without their continuous signal; give a WAV or builtin signal"
    return None


def _peak(model: Model, ref: np.ndarray) -> float:
    """The one PSNR peak rule (edgeae_runtime.metrics): the model's value range, else the data's."""
    return metrics.psnr_peak(model.manifest.preprocessing.value_range) or float(np.ptp(ref)) or 1.0


def codec_stats(
    encoder_path: str | Path,
    decoder_path: str | Path,
    data: CompareData,
    *,
    threads: int = 1,
    label: str = "",
) -> CodecStats:
    """Bytes and quality after a compress/decompress round trip of ``data`` with one codec pair."""
    enc = Model(encoder_path, threads=threads)
    dec = Model(decoder_path, threads=threads)
    names = (Path(encoder_path).name, Path(decoder_path).name)
    signal = data.signal if data.layout == "NCW" else None
    if signal is not None:
        rate = enc.signal.sample_rate
        sig = np.asarray(signal, dtype=np.float32)
        sig = sig[:, : int(MAX_SIGNAL_SECONDS * rate)]
        blob = rt_codec.compress(enc, sig)
        out = rt_codec.decompress(dec, blob)
        ref = sig if data.clean_signal is None else np.asarray(data.clean_signal, np.float32)
        ref = ref[:, : out.shape[-1]]
        seconds = sig.shape[-1] / rate
        return CodecStats(
            encoder=names[0],
            decoder=names[1],
            total_bytes=len(blob),
            bytes_per_second=len(blob) / seconds,
            snr_db=metrics.snr_db(ref, out[:, : ref.shape[-1]]),
            bits_per_value=8 * len(blob) / sig.size,
            label=label,
        )
    blob = rt_codec.compress_items(enc, data.x)
    out = rt_codec.decompress_items(dec, blob)
    ref = data.reference
    peak = _peak(dec, ref)
    return CodecStats(
        encoder=names[0],
        decoder=names[1],
        total_bytes=len(blob),
        bytes_per_item=len(blob) / data.x.shape[0],
        psnr=metrics.psnr(ref, out, data_range=peak),
        bits_per_value=8 * len(blob) / data.x.size,
        ssim=metrics.ssim(ref, out, data_range=peak) if data.layout == "NCHW" else None,
        label=label,
    )


def ladder_pairs(folders: Sequence[str | Path]) -> list[tuple[str, Path, Path]]:
    """(label, encoder, decoder) of every codec in quality-ladder folders, in order.

    A folder holding ``encoder.onnx``/``decoder.onnx`` is one step (its int8 pair,
    ``encoder.int8.onnx``/``decoder.int8.onnx``, another); a folder without them
    stands for its sub-folders (``runs/q1``, ``runs/q2``...), sorted by name.
    InputError names a folder that holds no codec at all.
    """
    found: list[tuple[str, Path, Path]] = []
    for folder in map(Path, folders):
        steps = (
            [folder]
            if (folder / "encoder.onnx").is_file()
            else sorted(p for p in folder.glob("*") if (p / "encoder.onnx").is_file())
        )
        if not steps:
            raise InputError(
                f"{folder}: holds no encoder.onnx/decoder.onnx (nor sub-folders "
                "that do): export each ladder step first",
                param="ladder",
            )
        for step in steps:
            for model in ("model.onnx", "model.int8.onnx"):
                pair = find_codec_pair(step / model)
                if pair is not None:
                    found.append((f"{step.name}{model[5:-5]}", *pair))
    return found


def rd_curve(
    folders: Sequence[str | Path], data: CompareData, *, threads: int = 1
) -> tuple[CodecStats, ...]:
    """Rate and quality of every codec of a quality ladder on the same data, by rate."""
    points = [
        codec_stats(enc, dec, data, threads=threads, label=label)
        for label, enc, dec in ladder_pairs(folders)
    ]
    return tuple(sorted(points, key=lambda p: p.bits_per_value or 0.0))
