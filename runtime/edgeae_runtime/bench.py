"""Latency and real-time-factor measurement, shared by ``edgeae-rt bench`` and the benchmarks.

Timings use ``time.perf_counter`` around whole calls; percentiles come from all
repeats after a warm-up. The real-time factor (RTF) is processing time divided
by the duration of the signal processed (below 1 keeps up with real time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .framing import as_signal, frame_signal
from .model import Model
from .preprocess import normalize
from .stream import StreamDenoiser, check_signal_model

__all__ = [
    "Latency",
    "StreamStats",
    "batch_latency",
    "bench_signal",
    "raw_bound",
    "stream_rtf",
    "time_calls",
]


@dataclass(frozen=True)
class Latency:
    """THE latency result: wall time of one call (on ``batch`` items), in microseconds.

    Every latency edgeae measures (``edgeae-rt bench``, the exporter's speed gate,
    ``edgeae compare``/``bench``, the benchmarks) is one of these, from
    :func:`time_calls`; the unit is in each field's name.
    """

    median_us: float
    p90_us: float
    p99_us: float
    mean_us: float
    min_us: float
    max_us: float
    calls: int
    batch: int = 1

    @property
    def items_per_s(self) -> float:
        """Throughput at the median: ``batch`` items per median call."""
        return self.batch / (self.median_us * 1e-6) if self.median_us > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class StreamStats:
    """One streaming run: chunk size, real-time factor, per-chunk latency."""

    chunk_ms: float
    rtf: float
    rtf_p50: float  # median chunk time / chunk duration: robust to a busy machine
    chunk_p50_ms: float
    chunk_p99_ms: float
    chunks: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _stats(times: list[float], batch: int = 1) -> Latency:
    us = np.asarray(times) * 1e6
    p50, p90, p99 = (float(v) for v in np.percentile(us, [50, 90, 99]))
    return Latency(
        median_us=p50,
        p90_us=p90,
        p99_us=p99,
        mean_us=float(us.mean()),
        min_us=float(us.min()),
        max_us=float(us.max()),
        calls=len(us),
        batch=batch,
    )


def time_calls(
    fn: Callable[[], object],
    *,
    repeats: int = 100,
    warmup: int = 5,
    budget_s: float | None = None,
    min_repeats: int = 5,
    batch: int = 1,
) -> Latency:
    """Call ``fn`` ``warmup`` times untimed, then up to ``repeats`` times timed.

    With ``budget_s``, timing stops once that much time has passed (after at
    least ``min_repeats`` calls), so slow models cost seconds, not minutes.
    ``batch`` is how many items one call processes (recorded in the result).
    """
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max(1, repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        enough = len(times) >= min_repeats
        if budget_s is not None and enough and time.perf_counter() - start >= budget_s:
            break
    return _stats(times, batch)


def batch_latency(
    model: Model,
    batch: int,
    *,
    repeats: int = 100,
    warmup: int = 5,
    seed: int = 0,
    budget_s: float | None = None,
) -> Latency:
    """Latency of the model's main operation on a random raw batch of ``batch`` items."""
    rng = np.random.default_rng(seed)
    if model.role == "decoder":
        op, shape = model.decode, model.latent_shape
    else:
        op = model.reconstruct if model.role == "autoencoder" else model.encode
        shape = model.item_shape
    x = rng.standard_normal((batch, *shape)).astype(np.float32)
    return time_calls(
        lambda: op(x), repeats=repeats, warmup=warmup, budget_s=budget_s, batch=batch
    )


def _signal_spec(model: Model) -> Any:
    """The model's checked signal spec (a spectral mask model's own check, else the stream's)."""
    if model.manifest.spectral is not None:
        from .spectral import check_spectral_model

        return check_spectral_model(model, None)[0]
    return check_signal_model(model, None)


def bench_signal(model: Model, seconds: float, *, seed: int = 0) -> np.ndarray:
    """A noisy multi-tone test signal ``(channels, n)`` at the model's sample rate."""
    spec = _signal_spec(model)
    n = round(seconds * spec.sample_rate)
    t = np.arange(n) / spec.sample_rate
    rng = np.random.default_rng(seed)
    clean = 0.3 * np.sin(2 * np.pi * 220.0 * t) + 0.2 * np.sin(2 * np.pi * 1230.0 * t)
    noise = 0.05 * rng.standard_normal((spec.channels, n))
    return (clean[None, :] + noise).astype(np.float32)


def raw_bound(model: Model, signal: np.ndarray, *, repeats: int = 3) -> float:
    """RTF of bare onnxruntime: the whole signal framed up front, one batched session call
    (a recurrent model: one call per frame, its items carrying their states).

    Only the ``session.run`` is timed (best of ``repeats``): the floor any
    streaming wrapper around this model can reach.
    """
    spec = _signal_spec(model)
    if model.manifest.spectral is not None:  # a mask model: items from the STFT front-end
        from .spectral import spectral_items

        xn = spectral_items(model, signal)[1]
    else:
        frames = frame_signal(
            as_signal(signal, spec.channels, "bench signal"), spec.window, spec.hop
        )
        xn = normalize(
            frames.reshape((frames.shape[0], *model.item_shape)), model.manifest.preprocessing
        )
    name_in, name_out = model.manifest.inputs[0].name, model.manifest.outputs[0].name
    run = model.session.run
    batches = [xn]
    if model.manifest.spectral is not None and model.manifest.spectral.state > 0:
        from .spectral import run_recurrent  # one frame per call, each after the one before

        fed = run_recurrent(model, xn, None)[1]
        batches = [fed[t : t + 1] for t in range(fed.shape[0])]
    best = float("inf")
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        for batch in batches:
            run([name_out], {name_in: batch})
        best = min(best, time.perf_counter() - t0)
    return best / (signal.shape[1] / spec.sample_rate)


def stream_rtf(
    model: Model, signal: np.ndarray, chunk_samples: int, *, max_batch: int | None = None
) -> StreamStats:
    """Push ``signal`` through a fresh :class:`StreamDenoiser` in fixed chunks, timing each."""
    if model.manifest.spectral is not None:
        from .spectral import SpectralDenoiser

        den: Any = SpectralDenoiser(model, max_batch=max_batch)
    else:
        den = StreamDenoiser(model, max_batch=max_batch)
    spec = den.spec
    n = signal.shape[1]
    times = []
    total0 = time.perf_counter()
    for i in range(0, n, chunk_samples):
        t0 = time.perf_counter()
        den.push(signal[:, i : i + chunk_samples])
        times.append(time.perf_counter() - t0)
    den.flush()
    total = time.perf_counter() - total0
    seconds = n / spec.sample_rate
    st = _stats(times)
    return StreamStats(
        chunk_ms=1000.0 * chunk_samples / spec.sample_rate,
        rtf=total / seconds,
        rtf_p50=st.median_us / (1e6 * chunk_samples / spec.sample_rate),
        chunk_p50_ms=st.median_us / 1e3,
        chunk_p99_ms=st.p99_us / 1e3,
        chunks=len(times),
        seconds=seconds,
    )
