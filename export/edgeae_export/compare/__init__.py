"""Compare two models on the same data: task quality, codec, per-node error, size, speed, memory.

``compare_models(a, b, data)`` returns a :class:`Comparison` with every number
and a verdict against a budget; the ``edgeae`` host package renders it as a
table, JSON, or a Markdown report with plots.
"""

from .benchmark import BenchResult, BenchRow, StreamBench, bench_model
from .core import HIGHER_IS_BETTER, METRICS, compare_models, default_metric, make_verdict
from .result import (
    AnomalyStats,
    ClipStats,
    CodecStats,
    Comparison,
    Details,
    Latency,
    ModelStats,
    QualityStats,
    Verdict,
)

__all__ = [
    "HIGHER_IS_BETTER",
    "METRICS",
    "AnomalyStats",
    "BenchResult",
    "BenchRow",
    "ClipStats",
    "CodecStats",
    "Comparison",
    "Details",
    "Latency",
    "ModelStats",
    "QualityStats",
    "StreamBench",
    "Verdict",
    "bench_model",
    "compare_models",
    "default_metric",
    "make_verdict",
]
