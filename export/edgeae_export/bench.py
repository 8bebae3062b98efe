"""Latency measurement of ONNX models on the CPU: one thread, warm-up, median of repeats.

Used by the quantizer's speed gate, ``edgeae bench`` / ``edgeae compare`` and
benchmarks/bench_export.py so every latency edgeae prints is measured the same way
and reported as the runtime's one :class:`~edgeae_runtime.bench.Latency`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgeae_runtime.bench import Latency, time_calls
from edgeae_runtime.session import batch_shape, open_session

__all__ = ["Latency", "measure_callable", "measure_onnx"]


def measure_callable(
    fn: Callable[[], object],
    *,
    batch: int = 1,
    warmup: int = 3,
    min_repeats: int = 5,
    max_repeats: int = 200,
    budget_s: float = 0.5,
) -> Latency:
    """Wall time of ``fn`` within ``budget_s``: the runtime's timing loop and
    :class:`~edgeae_runtime.bench.Latency` (the one latency type, in µs)."""
    return time_calls(
        fn,
        repeats=max_repeats,
        warmup=warmup,
        budget_s=budget_s,
        min_repeats=min_repeats,
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
    x = np.random.default_rng(seed).standard_normal(batch_shape(sess, batch)).astype(np.float32)
    feed = {inp.name: x}
    return measure_callable(lambda: sess.run(None, feed), batch=batch, budget_s=budget_s)
