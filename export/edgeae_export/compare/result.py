"""The numbers a comparison produces: plain dataclasses that turn into JSON with ``to_dict``.

Everything a person or a CI script reads is a field here; the arrays a report
plots (per-item errors, example reconstructions, ROC points) ride along in
:class:`Details` and are left out of the JSON.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeae_runtime.bench import Latency

from ..node_error import NodeError

__all__ = [
    "AnomalyStats",
    "ClipStats",
    "CodecStats",
    "Comparison",
    "Details",
    "Latency",
    "ModelStats",
    "QualityStats",
    "Verdict",
]


@dataclass(frozen=True)
class QualityStats:
    """Reconstruction quality of one model against the reference (raw units)."""

    mse: float
    mae: float
    psnr: float
    snr_db: float | None = None
    ssim: float | None = None


@dataclass(frozen=True)
class ClipStats:
    """Clip-level detection of one model (log-mel clips): one score per clip, the
    ``reduce`` (mean or max) of its items' scores, as the device's ClipScorer computes it.

    ``threshold`` is the manifest's clip threshold (``threshold_source`` "manifest clip
    threshold"), else the item threshold, as ClipScorer falls back.
    """

    auroc: float
    pauc: float  # standardized partial AUC, FPR <= 0.1, over clips
    clips: int
    anomalous: int
    items: int  # every item of every clip (not the item comparison's subsample)
    reduce: str
    threshold: float
    threshold_source: str
    tpr: float
    fpr: float


@dataclass(frozen=True)
class AnomalyStats:
    """Anomaly detection of one model on labeled data, at its own threshold."""

    auroc: float
    threshold: float
    threshold_source: str
    precision: float
    recall: float
    f1: float
    flagged: int
    pauc: float = float("nan")  # standardized partial AUC, FPR <= 0.1
    tpr: float = float("nan")
    fpr: float = float("nan")
    operating_point: str = ""  # the manifest's threshold law and its validation rates
    clip: ClipStats | None = None  # clip-level numbers when the data are labelled clips


@dataclass(frozen=True)
class CodecStats:
    """Compressed size and quality after decoding, for one model's encoder/decoder pair.

    ``bits_per_value`` is the rate per input value: bits per pixel for images,
    bits per sample for signals, bits per feature for vectors.
    """

    encoder: str
    decoder: str
    total_bytes: int
    bytes_per_item: float | None = None
    bytes_per_second: float | None = None
    psnr: float | None = None
    snr_db: float | None = None
    bits_per_value: float | None = None
    ssim: float | None = None
    label: str = ""


@dataclass(frozen=True)
class ModelStats:
    """Everything measured on one of the two models."""

    path: str
    size_bytes: int
    quantization: str
    quality: QualityStats
    anomaly: AnomalyStats | None = None
    codec: CodecStats | None = None
    latency: tuple[Latency, ...] = ()  # the runtime's one latency type
    peak_rss_mb: float | None = None
    load_s: float | None = None


@dataclass(frozen=True)
class Verdict:
    """The budget check CI gates on: ``passed`` is False only when a budget was exceeded."""

    metric: str
    value_a: float
    value_b: float
    drop: float
    max_drop: float | None
    passed: bool

    @property
    def line(self) -> str:
        """One human line: ``PASS psnr drop 0.12 <= 0.30 (A 31.20, B 31.08)``."""
        values = f"(A {self.value_a:.4g}, B {self.value_b:.4g})"
        if self.max_drop is None:
            return f"NO BUDGET {self.metric} drop {self.drop:.4g} {values}; give a max drop to gate"
        word, rel = ("PASS", "<=") if self.passed else ("FAIL", ">")
        return f"{word} {self.metric} drop {self.drop:.4g} {rel} {self.max_drop:.4g} {values}"


@dataclass(eq=False)
class Details:
    """Arrays for plots; not part of the JSON.

    ``examples`` holds a few raw inputs, their references and both reconstructions;
    ``layout`` says how to draw them (``NCHW`` images, ``NCW`` signals, ``NF`` vectors,
    or ``image`` for flat vectors that are square images).
    """

    layout: str
    error_a: np.ndarray
    error_b: np.ndarray
    example_inputs: np.ndarray
    example_reference: np.ndarray
    example_a: np.ndarray
    example_b: np.ndarray
    labels: np.ndarray | None = None
    example_labels: np.ndarray | None = None
    scores_a: np.ndarray | None = None
    scores_b: np.ndarray | None = None
    image_shape: tuple[int, ...] | None = None


@dataclass(eq=False)
class Comparison:
    """Model A against model B on the same data: every number, the verdict, and notes."""

    a: ModelStats
    b: ModelStats
    task: str
    items: int
    data: str
    output_difference: QualityStats
    verdict: Verdict
    flags_agree: int | None = None
    nodes: tuple[NodeError, ...] = ()
    notes: tuple[str, ...] = ()
    rd_curve: tuple[CodecStats, ...] = ()  # one point per codec of a quality ladder
    details: Details | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """True when B is within the budget (or no budget was given)."""
        return self.verdict.passed

    def to_dict(self) -> dict[str, Any]:
        """Every number as JSON-ready values (non-finite floats become strings)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "details":
                continue
            out[f.name] = _plain(getattr(self, f.name))
        out["verdict"]["line"] = self.verdict.line
        for key in ("a", "b"):
            for lat, stats in zip(out[key]["latency"], getattr(self, key).latency, strict=True):
                lat["items_per_s"] = _plain(stats.items_per_s)
        return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else str(v)
    if isinstance(value, np.integer):
        return int(value)
    return value
