"""Demo step: a held-out noisy tones recording through the int8 StreamDenoiser in chunks."""

from __future__ import annotations

import time

import numpy as np

from .results import QuantizeStep, StreamStep
from .spec import CHUNK_S, HELD_OUT_TONES, QUICK_HELD_OUT_TONES, DemoRun

__all__ = ["run"]


def run(quantized: QuantizeStep, demo: DemoRun) -> StreamStep:
    """Denoise another seed's recording (never trained on) in 100 ms chunks; SNR in/out, RTF."""
    from edgeae.data import load_source
    from edgeae_runtime import metrics
    from edgeae_runtime.model import Model
    from edgeae_runtime.stream import StreamDenoiser

    source = QUICK_HELD_OUT_TONES if demo.quick else HELD_OUT_TONES
    ds = load_source(source)
    noisy, clean, rate = ds.signal, ds.clean_signal, int(ds.sample_rate)
    den = StreamDenoiser(Model(quantized.path))
    chunk = int(CHUNK_S * rate)
    t0 = time.perf_counter()
    parts = [den.push(noisy[:, i : i + chunk]) for i in range(0, noisy.shape[1], chunk)]
    latency_ms = den.latency_ms
    parts.append(den.flush())
    elapsed = time.perf_counter() - t0
    out = np.concatenate(parts, axis=1)
    seconds = noisy.shape[1] / rate
    span = min(rate // 20, clean.shape[1])  # 50 ms, where the clean signal is loudest
    a = int(np.argmax(np.convolve(clean[0] ** 2, np.ones(span), mode="valid")))
    b = a + span
    return StreamStep(
        source=source,
        model=quantized.path.name,
        seconds=seconds,
        chunk_s=CHUNK_S,
        sample_rate=rate,
        snr_in_db=metrics.snr_db(clean, noisy),
        snr_out_db=metrics.snr_db(clean, out),
        rtf=elapsed / seconds,
        latency_ms=latency_ms,
        clip={"clean": clean[0, a:b], "noisy": noisy[0, a:b], "denoised": out[0, a:b]},
    )
