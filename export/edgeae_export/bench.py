"""Latency measurement of ONNX models on the CPU: one thread, warm-up, median of repeats.

Used by the quantizer's speed gate, ``edgeae bench`` / ``edgeae compare`` and
benchmarks/bench_export.py so every latency edgeae prints is measured the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeae_runtime.bench import time_calls
from edgeae_runtime.session import open_session

__all__ = ["Latency", "measure_callable", "measure_onnx"]


@dataclass(frozen=True)
class Latency:
    """Median and spread of one call's wall time, in microseconds."""

    median_us: float
    min_us: float
    max_us: float
    repeats: int
    batch: int

    @property
    def per_item_us(self) -> float:
        return self.median_us / max(self.batch, 1)


def measure_callable(
    fn: Callable[[], object],
    *,
    batch: int = 1,
    warmup: int = 3,
    min_repeats: int = 5,
    max_repeats: int = 200,
    budget_s: float = 0.5,
) -> Latency:
    """Median wall time of ``fn`` within ``budget_s`` (the runtime's timing loop, in µs)."""
    st = time_calls(
        fn, repeats=max_repeats, warmup=warmup, budget_s=budget_s, min_repeats=min_repeats
    )
    return Latency(
        median_us=st.p50_ms * 1e3,
        min_us=st.min_ms * 1e3,
        max_us=st.max_ms * 1e3,
        repeats=st.calls,
        batch=batch,
    )


def measure_onnx(
    model: str | Path | bytes,
    batch: int,
    *,
    threads: int = 1,
    seed: int = 0,
    budget_s: float = 0.5,
) -> Latency:
    """Latency of one ``session.run`` on a random float32 batch of ``batch`` items."""
    sess = open_session(model, threads=threads)
    inp = sess.get_inputs()[0]
    shape = [batch, *(d if isinstance(d, int) else 1 for d in inp.shape[1:])]
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    feed = {inp.name: x}
    return measure_callable(lambda: sess.run(None, feed), batch=batch, budget_s=budget_s)
