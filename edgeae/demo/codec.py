"""Demo step: train a compression model for the sensor stream, then code a stretch it never saw.

The sensor recipe is an anomaly model: trained on normal running with masked inputs and a
1 x 16 latent, it reconstructs anomalies badly on purpose, so as a codec it loses them
(docs/compression.md, "Limits"). A codec must reproduce whatever arrives, so this step
trains its own rate-distortion model (the sensor codec of benchmarks/bench_rd_signals.py at a
named quality) on the recording's first part, anomalies included, and codes the rest.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .export import export_checkpoint
from .quantize import quantize_codec
from .results import CodecStep, TrainStep
from .spec import DemoRun

__all__ = ["CODEC_QUALITY", "run"]

#: ``edgeae train --quality`` of the demo's codec (a named ``rate_lambda``).
CODEC_QUALITY = 4
#: The bench's sensor codec: three stride-2 levels, latent 4 x 32, non-overlapping windows.
_MODEL = {"hidden": (32, 64, 64), "latent": 4}
_WINDOW = 256
#: Batch 32 x 150 epochs: about 2.4k Adam steps on 144 s (a rate-distortion model needs
#: >= 2000, docs/compression.md); quick: 2 epochs.
_TRAIN = {"epochs": 150, "batch_size": 32, "patience": 1000}
#: The share of the recording the codec trains on; the rest is coded.
_TRAIN_SHARE = 0.8


def run(trained: TrainStep, demo: DemoRun) -> CodecStep:
    """Train the codec on the first 80 % of ``trained``'s recording, code the last 20 %.

    What a device would send over a slow link: 1 s chunks in, bytes out; 256-byte pieces
    back. int8 encoder and decoder (static, calibrated on the training windows).
    """
    import torch

    from edgeae.data import frame_signal
    from edgeae.data.dataset import Dataset, fingerprint
    from edgeae.train import TrainConfig, load_checkpoint
    from edgeae.train import train as run_training
    from edgeae.train.config import QUALITY
    from edgeae_export.sampling import EXPORT_SAMPLES, sample_items
    from edgeae_runtime import metrics
    from edgeae_runtime.codec import StreamDecoder, StreamEncoder
    from edgeae_runtime.model import Model

    ds = trained.dataset
    signal = np.asarray(ds.signal, np.float32)
    rate = int(ds.sample_rate)
    cut = int(_TRAIN_SHARE * signal.shape[1]) // _WINDOW * _WINDOW
    x = np.ascontiguousarray(frame_signal(signal[:, :cut], _WINDOW, _WINDOW))
    name = f"{ds.name}-codec"
    windows = Dataset(
        name=name, x=x, layout="NCW", fingerprint=fingerprint([x], {"name": name}),
        sample_rate=rate, window=_WINDOW, hop=_WINDOW,
    )  # fmt: skip
    config = TrainConfig(**_TRAIN, rate_lambda=QUALITY[CODEC_QUALITY])
    if demo.quick:
        config = dataclasses.replace(config, epochs=2)
    run_dir = demo.out / "runs" / "sensor-codec"
    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the train step: small models, two busy cores
    try:
        run_training(windows, "conv1d", _MODEL, config, run_dir, progress=False, force=True)
    finally:
        torch.set_num_threads(threads)
    train_seconds = time.perf_counter() - t0

    ckpt = load_checkpoint(run_dir)
    # parity and the entropy tables on THE sample of windows over the training stretch (its
    # first 256 windows, the first 65 s, gave 273 B/s where a sample gave 248 B/s, 17.1 dB)
    exported = export_checkpoint(
        ckpt, sample_items(x, EXPORT_SAMPLES), demo.models_dir("sensor-codec")
    )
    # calibrated on all the training windows: the calibration samples them by the same rule
    files = quantize_codec(exported.files, x)

    test = np.ascontiguousarray(signal[:, cut:])
    enc = StreamEncoder(Model(files.encoder))
    dec = StreamDecoder(Model(files.decoder))
    t1 = time.perf_counter()
    blob = b"".join(enc.push(test[:, i : i + rate]) for i in range(0, test.shape[1], rate))
    blob += enc.flush()
    t2 = time.perf_counter()
    pieces = [dec.push(blob[i : i + 256]) for i in range(0, len(blob), 256)]
    decoded = np.concatenate([*pieces, dec.flush()], axis=1)[:, : test.shape[1]]
    t3 = time.perf_counter()
    seconds = test.shape[1] / rate
    return CodecStep(
        encoder=files.encoder.name,
        decoder=files.decoder.name,
        seconds=seconds,
        channels=test.shape[0],
        sample_rate=rate,
        total_bytes=len(blob),
        snr_db=metrics.snr_db(test, decoded),
        encode_rtf=(t2 - t1) / seconds,
        decode_rtf=(t3 - t2) / seconds,
        quality=CODEC_QUALITY,
        train_seconds=train_seconds,
        train_share=_TRAIN_SHARE,
    )
