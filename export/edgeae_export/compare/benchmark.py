"""``bench_model``: latency and throughput over batch sizes and threads, streaming RTF, footprint.

The timing itself is the runtime's (:mod:`edgeae_runtime.bench`: ``batch_latency``,
``stream_rtf``, ``raw_bound``) and the footprint probe is the comparison's
(:func:`~edgeae_export.compare.perf.footprint`), so every number edgeae prints
about speed is measured one way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeae_runtime import bench as rt_bench
from edgeae_runtime.errors import InputError
from edgeae_runtime.model import Model

from . import perf

__all__ = ["BenchResult", "BenchRow", "StreamBench", "bench_model"]


@dataclass(frozen=True)
class BenchRow:
    """One (threads, batch) point: per-call latency and throughput."""

    threads: int
    batch: int
    p50_us: float
    p99_us: float
    items_per_s: float
    repeats: int


@dataclass(frozen=True)
class StreamBench:
    """Streaming a synthetic signal through the StreamDenoiser, against bare onnxruntime."""

    seconds: float
    chunk_ms: float
    rtf: float
    raw_bound_rtf: float
    chunk_p50_ms: float
    chunk_p99_ms: float
    algorithmic_latency_ms: float


@dataclass(frozen=True)
class BenchResult:
    """Everything measured on one model file."""

    path: str
    size_bytes: int
    quantization: str
    item_shape: tuple[int, ...]
    rows: tuple[BenchRow, ...]
    stream: StreamBench | None = None
    load_s: float | None = None
    peak_rss_mb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


def bench_model(
    path: str | Path,
    *,
    batches: Sequence[int] = (1, 32, 256),
    threads: Sequence[int] = (1, 2),
    budget_s: float = 0.5,
    stream_seconds: float = 10.0,
    chunk_ms: float = 100.0,
    memory: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BenchResult:
    """Benchmark one model at every batch size x thread count, stream it, probe its footprint."""
    say = progress or (lambda _m: None)
    if not batches or not threads or min(batches) < 1 or min(threads) < 1:
        raise InputError("bench: batch sizes and thread counts must be >= 1")
    rows = []
    model = None
    for n_threads in threads:
        model = Model(path, threads=n_threads)
        for batch in batches:
            say(f"{model.path.name}: threads {n_threads}, batch {batch}")
            lat = perf.latency_stats(model, batch, budget_s=budget_s)
            rows.append(
                BenchRow(n_threads, batch, lat.median_us, lat.p99_us, lat.items_per_s, lat.calls)
            )
    model = Model(path, threads=min(threads))
    stream = None
    if model.signal is not None and model.role == "autoencoder" and stream_seconds > 0:
        say(f"{model.path.name}: streaming {stream_seconds:g} s in {chunk_ms:g} ms chunks")
        spec = model.signal
        signal = rt_bench.bench_signal(model, stream_seconds)
        st = rt_bench.stream_rtf(model, signal, max(1, round(chunk_ms * spec.sample_rate / 1000)))
        stream = StreamBench(
            seconds=st.seconds,
            chunk_ms=st.chunk_ms,
            rtf=st.rtf,
            raw_bound_rtf=rt_bench.raw_bound(model, signal),
            chunk_p50_ms=st.chunk_p50_ms,
            chunk_p99_ms=st.chunk_p99_ms,
            algorithmic_latency_ms=1000.0 * (spec.window - 1) / spec.sample_rate,
        )
    load_s = rss = None
    if memory:
        say(f"{model.path.name}: import + load + first batch in a fresh process")
        load_s, rss = perf.footprint(path, batch=1, threads=min(threads))
    q = model.manifest.quantization
    return BenchResult(
        path=str(model.path),
        size_bytes=perf.size_bytes(path),
        quantization=q.mode,
        item_shape=model.item_shape,
        rows=tuple(rows),
        stream=stream,
        load_s=load_s,
        peak_rss_mb=rss,
    )
