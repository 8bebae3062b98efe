"""``edgeae-rt decompress``: an edgeae stream file -> the signal (or images) again."""

from __future__ import annotations

import io
import os
import time
from typing import Any

import click
import numpy as np

from ..audio import AudioWriter, open_reader, open_writer
from ..clitools import Command, legacy_argument
from ..codec import StreamDecoder, decode_image_stream, decode_item_stream
from ..codec.format import parse_header
from ..errors import InputError, ModelError, OutputError, StreamError
from ..metrics import psnr, psnr_peak, snr_db
from ..model import Model
from ..npyfile import load_npy
from ..png import drop_opaque_alpha, write_png
from ._codec_io import (
    AtomicBinaryOutput,
    echo_summary,
    pixel_range_option,
    read_chunks,
)
from ._common import (
    force_option,
    json_option,
    model_option,
    output_option,
    pcm_format_option,
    refuse_existing,
    threads_option,
)
from ._image_io import (
    PngFolderWriter,
    is_png_source,
    not_png_hint,
    pixel_range,
    raw_to_pixels,
    read_reference_pixels,
)

__all__ = ["decompress"]


@click.command("decompress", cls=Command)
@model_option()
@click.argument("input_path", metavar="IN")
@output_option()
@legacy_argument("OUT", into="output", flag="-o/--output")
@click.option(
    "--conceal",
    is_flag=True,
    help="Fill lost or corrupted frames (repeat the last latent) and carry on.",
)
@pcm_format_option
@click.option(
    "--reference",
    type=click.Path(),
    default=None,
    help="The original signal (.wav/.npy) or images (.npy, PNG folder), to report SNR/PSNR.",
)
@pixel_range_option
@threads_option()
@force_option
@json_option
def decompress(
    model_path: str,
    input_path: str,
    output: str,
    conceal: bool,
    pcm_format: str,
    reference: str | None,
    range_override: tuple[float, float] | None,
    threads: int,
    force: bool,
    as_json: bool,
) -> None:
    """Decompress an edgeae stream to a signal (chunk by chunk) or to images.

    The model is the decoder (decoder.onnx) of the model that made the stream.
    IN is a stream file or "-" (stdin); -o OUT is a .wav, a .npy or "-" for raw
    PCM on stdout. An existing OUT is refused unless --force. A corrupted, truncated
    or foreign stream is an error naming the frame, unless --conceal is given.

    An image stream decodes to a .npy batch (N, C, H, W) in raw units, or to a
    folder of 8-bit PNGs image_00000.png, image_00001.png, ... in frame order
    (compress --json lists the original names in that order): raw values are
    clipped to the pixel range (--pixel-range) and scaled to 0..255. The folder
    appears only when every image is written; --force replaces a folder of PNGs.
    A whole image compressed in tiles decodes to one .png (or a .npy (C, H, W)) of
    its own size.

    \b
    Examples:
      edgeae-rt decompress -m decoder.onnx speech.eae -o out.wav --reference speech.wav --json
      nc -l 9000 | edgeae-rt decompress -m decoder.onnx --conceal - -o - | aplay -f S16_LE -r 16000
      edgeae-rt decompress -m decoder.onnx digits.eae -o digits_out/ --reference digits/ --json
      edgeae-rt decompress -m decoder.onnx photo.eae -o photo_out.png --reference photo.png
    """
    refuse_existing(output, force)
    model = Model(model_path, threads=threads)
    if model.role != "decoder":
        raise ModelError(
            f"{model.path.name} is the {model.role}; decompress needs the decoder (decoder.onnx)"
        )
    started = time.perf_counter()
    chunks = read_chunks(input_path)
    first = next(chunks, b"")
    if not first:
        raise InputError(f"{input_path}: empty input (no bytes)")
    head = first
    while len(head) < 4096 and parse_header(head) is None:  # enough to read the header
        more = next(chunks, b"")
        if not more:
            break
        head += more
    parsed = parse_header(head)  # bad magic, version or header CRC: StreamError here
    if parsed is not None and parsed[0].canvas:
        summary = _decompress_tiled(
            model, head + b"".join(chunks), output, conceal, range_override, reference
        )
    elif parsed is not None and parsed[0].kind in ("image", "items"):
        summary = _decompress_images(
            model, head + b"".join(chunks), output, conceal, force, range_override, reference
        )
    else:
        ref = None
        if reference is not None:  # read before OUT is written: a bad reference writes nothing
            with open_reader(reference) as reader:
                ref = reader.read_all()
        summary, decoded = _decompress_signal(
            model, head, chunks, output, conceal, pcm_format, ref, reference
        )
        if ref is not None:
            summary["snr_db"] = snr_db(ref, decoded)
    summary.update({"input": input_path, "output": output, "time_s": time.perf_counter() - started})
    echo_summary(summary, output, as_json)


def _decompress_signal(
    model: Model,
    head: bytes,
    chunks: Any,
    output_path: str,
    conceal: bool,
    pcm_format: str,
    ref: np.ndarray | None,
    reference: str | None,
) -> tuple[dict[str, Any], np.ndarray]:
    keep = ref is not None
    decoder = StreamDecoder(model, conceal=conceal)
    writer: AudioWriter | None = None
    kept: list[np.ndarray] = []
    stream_bytes = 0
    try:
        for data in _prepend(head, chunks):
            stream_bytes += len(data)
            samples = decoder.push(data)
            writer = writer or _writer(decoder, output_path, pcm_format)
            _write(writer, samples, kept if keep else None)
        samples = decoder.flush()
        writer = writer or _writer(decoder, output_path, pcm_format)
        _write(writer, samples, kept if keep else None)
        if ref is not None:
            got = (decoder.header.channels if decoder.header else ref.shape[0], decoder.samples)
            if ref.shape != got:
                raise InputError(f"{reference}: shape {ref.shape} differs from the decoded {got}")
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    h = decoder.header
    if h is None:  # pragma: no cover - flush() raises for a stream without header
        raise StreamError(f"{output_path}: stream has no header")
    seconds = decoder.samples / h.sample_rate
    summary: dict[str, Any] = {
        "samples": decoder.samples,
        "seconds": seconds,
        "bytes": stream_bytes,
        "bytes_per_second": stream_bytes / seconds if seconds else None,
        "concealed_frames": decoder.concealed,
        "truncated": decoder.truncated,
    }
    decoded = np.concatenate(kept, axis=1) if kept else np.zeros((h.channels, 0), np.float32)
    return summary, decoded


def _prepend(head: bytes, chunks: Any) -> Any:
    """The already-read head, then the remaining chunks."""
    yield head
    yield from chunks


def _writer(decoder: StreamDecoder, output_path: str, pcm_format: str) -> AudioWriter | None:
    h = decoder.header
    if h is None:
        return None
    if os.path.isdir(output_path):
        raise OutputError(f"{output_path}: is a folder; a signal stream decodes to a file")
    return open_writer(
        output_path, sample_rate=h.sample_rate, channels=h.channels, pcm_format=pcm_format
    )


def _write(writer: AudioWriter | None, samples: np.ndarray, kept: list | None) -> None:
    if writer is not None and samples.shape[1]:
        writer.write(samples)
        if kept is not None:
            kept.append(samples)


def _decompress_images(
    model: Model,
    data: bytes,
    output_path: str,
    conceal: bool,
    force: bool,
    range_override: tuple[float, float] | None,
    reference: str | None,
) -> dict[str, Any]:
    """An image (item) stream -> a .npy batch, or a folder of 8-bit PNGs (atomically)."""
    to_npy = output_path.lower().endswith(".npy")
    if len(model.item_shape) != 3 and not to_npy:
        raise InputError(f"{output_path}: the model's items are decoded to a .npy batch")
    if not to_npy:
        _check_png_channels(output_path, model.item_shape[0])
    low, high = pixel_range(model.manifest.preprocessing, range_override)
    # before OUT is written: a bad reference writes nothing
    ref = _read_reference(reference, model.item_shape[0])
    result = decode_item_stream(model, data, conceal=conceal)
    summary: dict[str, Any] = {
        ("images" if len(model.item_shape) == 3 else "items"): int(result.items.shape[0]),
        "bytes": len(data),
        "concealed_images": list(result.concealed),
    }
    pixels = raw_to_pixels(result.items, low, high) if len(model.item_shape) == 3 else None
    if ref is not None:
        summary["psnr_db"] = _reference_psnr(model, reference, ref, result.items, pixels)
    if to_npy:
        with AtomicBinaryOutput(output_path) as out:
            out.write(_npy_bytes(result.items))
    else:
        with PngFolderWriter(output_path, force=force) as folder:
            folder.write_all(pixels)
        summary["pixel_range"] = [low, high]
    return summary


def _decompress_tiled(
    model: Model,
    data: bytes,
    output_path: str,
    conceal: bool,
    range_override: tuple[float, float] | None,
    reference: str | None,
) -> dict[str, Any]:
    """One whole image in tiles (format version 6) -> one 8-bit .png or a .npy (C, H, W)."""
    to_npy = output_path.lower().endswith(".npy")
    if not to_npy and not output_path.lower().endswith(".png"):
        raise InputError(f"{output_path}: a whole image decodes to one .png or a .npy (C, H, W)")
    if not to_npy:
        _check_png_channels(output_path, model.item_shape[0])
    low, high = pixel_range(model.manifest.preprocessing, range_override)
    # before OUT is written: a bad reference writes nothing
    ref = _read_reference(reference, model.item_shape[0])
    result = decode_image_stream(model, data, conceal=conceal)
    height, width = result.image.shape[1:]
    summary: dict[str, Any] = {
        "image": [int(height), int(width)],
        "bytes": len(data),
        "bits_per_pixel": 8 * len(data) / (height * width),
        "concealed_tiles": list(result.concealed_tiles),
    }
    pixels = raw_to_pixels(result.image[None], low, high)
    if ref is not None:
        summary["psnr_db"] = _reference_psnr(model, reference, ref, result.image, pixels[0])
    if to_npy:
        with AtomicBinaryOutput(output_path) as out:
            out.write(_npy_bytes(result.image))
    else:
        write_png(output_path, pixels[0])
        summary["pixel_range"] = [low, high]
    return summary


def _check_png_channels(output_path: str, channels: int) -> None:
    if not 1 <= channels <= 4:
        raise InputError(
            f"{output_path}: the model's images have {channels} channels, a PNG holds 1 to 4; "
            "decode to a .npy instead"
        )


def _read_reference(reference: str | None, channels: int) -> tuple[bool, np.ndarray] | None:
    """The --reference: (True, 8-bit pixels) for PNGs, (False, raw values) for a .npy."""
    if reference is None:
        return None
    if is_png_source(reference):
        return True, read_reference_pixels(reference)
    hint = not_png_hint(reference, channels)
    if hint:
        raise InputError(f"{reference}: --reference is a PNG, a folder of PNGs or a .npy{hint}")
    return False, _load_npy(reference)


def _reference_psnr(
    model: Model,
    reference: str | None,
    ref: tuple[bool, np.ndarray],
    raw: np.ndarray,
    pixels: np.ndarray | None,
) -> float:
    """PSNR of the decoded 8-bit pixels against PNG references (peak 255), or of the raw
    values against a .npy reference (the manifest's one peak rule)."""
    is_png, values = ref
    if is_png and pixels is not None:
        if pixels.ndim == 3 and len(values) == 1:  # one whole image
            values = values[0]
        values = drop_opaque_alpha(values, pixels.shape[-1])
        _check_shape(reference, values, pixels)
        return _psnr(values.astype(np.float32), pixels.astype(np.float32), 255.0)
    _check_shape(reference, values, raw)
    return _psnr(values, raw, psnr_peak(model.manifest.preprocessing.value_range))


def _check_shape(reference: str | None, ref: np.ndarray, decoded: np.ndarray) -> None:
    if ref.shape != decoded.shape:
        raise InputError(f"{reference}: shape {ref.shape} differs from the decoded {decoded.shape}")


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _load_npy(path: str) -> np.ndarray:
    return load_npy(path)


def _psnr(reference: np.ndarray, decoded: np.ndarray, data_range: float | None = None) -> float:
    if reference.shape != decoded.shape:
        raise InputError(f"reference shape {reference.shape} differs from {decoded.shape}")
    return psnr(reference, decoded, data_range)
