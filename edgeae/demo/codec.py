"""Demo step: compress the sensor recording with the int8 encoder, decompress it, both chunked."""

from __future__ import annotations

import time

import numpy as np

from .results import CodecStep, QuantizeStep, TrainStep
from .spec import DemoRun

__all__ = ["run"]


def run(trained: TrainStep, quantized: QuantizeStep, demo: DemoRun) -> CodecStep:
    """What a device would send over a slow link: 1 s chunks in, bytes out; 256-byte pieces back.

    Uses the int8 encoder/decoder where the quantize step made them, else the float files.
    """
    from edgeae_runtime import metrics
    from edgeae_runtime.codec import StreamDecoder, StreamEncoder
    from edgeae_runtime.model import Model

    ds = trained.dataset
    signal, rate = ds.signal, int(ds.sample_rate)
    d = demo.models_dir(trained.spec.name)
    pair = quantized.codec
    enc_path = pair.encoder if pair else d / "encoder.onnx"
    dec_path = pair.decoder if pair else d / "decoder.onnx"
    enc = StreamEncoder(Model(enc_path))
    dec = StreamDecoder(Model(dec_path))
    t0 = time.perf_counter()
    blob = b"".join(enc.push(signal[:, i : i + rate]) for i in range(0, signal.shape[1], rate))
    blob += enc.flush()
    t1 = time.perf_counter()
    pieces = [dec.push(blob[i : i + 256]) for i in range(0, len(blob), 256)]
    out = np.concatenate([*pieces, dec.flush()], axis=1)[:, : signal.shape[1]]
    t2 = time.perf_counter()
    seconds = signal.shape[1] / rate
    return CodecStep(
        encoder=enc_path.name,
        decoder=dec_path.name,
        seconds=seconds,
        channels=signal.shape[0],
        sample_rate=rate,
        total_bytes=len(blob),
        snr_db=metrics.snr_db(signal, out),
        encode_rtf=(t1 - t0) / seconds,
        decode_rtf=(t2 - t1) / seconds,
    )
