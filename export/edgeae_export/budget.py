"""The accuracy budget: keep the most harmful nodes in float until the metric drop is acceptable.

The metric that matters for the task (PSNR in dB on raw units, relative MSE
increase, or anomaly AUROC) is measured on validation data for the float and
the quantized model through the runtime's own :class:`~edgeae_runtime.model.Model`.
If the drop exceeds ``max_drop``, nodes are ranked by the SQNR they lose
(:mod:`edgeae_export.node_error`); at each step the few most harmful are tried
one at a time (re-quantized and re-measured), and the cheapest one that meets
the budget (fewest weights left in float), else the one that helps most, stays
in float, until the budget holds. After quantizing an anomaly
model its anomaly score (center and threshold) is recalibrated on the quantized model's
own errors.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from edgeae_runtime.manifest import AnomalySpec, Manifest
from edgeae_runtime.metrics import auroc, mse, psnr, psnr_peak
from edgeae_runtime.model import Model
from edgeae_runtime.operating_point import LABELLED_METHODS
from edgeae_runtime.preprocess import normalize
from edgeae_runtime.scores import calibrate_anomaly, item_independence

from .errors import BudgetError, CalibrationError, QuantizationError, QuantizationParameterError
from .node_error import NodeError, node_errors

__all__ = [
    "CANDIDATES",
    "METRICS",
    "BudgetReport",
    "TaskMetric",
    "Validation",
    "evaluate",
    "fit_budget",
    "metric_drop",
    "recalibrate_threshold",
]

METRICS = ("psnr", "mse", "auroc")
#: Nodes tried (leave-one-out) at each step of the budget loop, most harmful first.
CANDIDATES = 3
_UNITS = {"psnr": "dB", "mse": "relative increase", "auroc": "AUROC"}
#: Items used to rank nodes by SQNR (every intermediate tensor is kept for them).
RANK_ITEMS = 64


@dataclass(frozen=True, eq=False)
class TaskMetric:
    """A higher-is-better task metric the caller supplies (SI-SNR, PESQ... resolved by the host).

    ``measure(model, validation)`` gets the runtime :class:`Model` under test and
    returns its value; edgeae_export never imports what it computes with. The
    drop is ``float - quantized`` in ``unit``.
    """

    name: str
    unit: str
    measure: Callable[[Model, Validation], float]

    def __str__(self) -> str:
        return self.name


def _metric_name(metric: str | TaskMetric) -> str:
    return metric.name if isinstance(metric, TaskMetric) else metric


@dataclass(frozen=True, eq=False)
class Validation:
    """Raw validation items ``(N, *item_shape)``, optional labels (> 0 = anomaly), a name,
    and optional clean targets (paired denoising data: quality is measured against them).

    ``held_out=False`` says the items are (mostly) what the model was trained on, e.g. the
    calibration source reused: good for an accuracy budget, not for a threshold (training
    items reconstruct better than new ones, so a threshold set on them is too low).
    """

    x: np.ndarray
    labels: np.ndarray | None = None
    name: str = "validation data"
    target: np.ndarray | None = None
    held_out: bool = True

    @property
    def reference(self) -> np.ndarray:
        """What a reconstruction should match: the clean target if known, else the input."""
        return self.x if self.target is None else self.target

    def feeds(self, manifest: Manifest, limit: int = RANK_ITEMS) -> Iterator[dict[str, Any]]:
        """Model-space input dicts for the first ``limit`` items, in batches of 32."""
        n = min(limit, self.x.shape[0])
        for i in range(0, n, 32):
            xb = normalize(self.x[i : min(n, i + 32)], manifest.preprocessing)
            yield {manifest.inputs[0].name: np.ascontiguousarray(xb, np.float32)}


@dataclass(frozen=True)
class BudgetReport:
    """What the budget measured and decided."""

    metric: str
    max_drop: float
    float_value: float
    quantized_value: float
    measured_drop: float
    kept_float: tuple[str, ...]
    ranking: tuple[NodeError, ...] = ()
    steps: tuple[dict[str, Any], ...] = field(default=())
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "metric": self.metric,
            "unit": self.unit or _UNITS.get(self.metric, ""),
            "max_drop": self.max_drop,
            "float": self.float_value,
            "quantized": self.quantized_value,
            "measured_drop": self.measured_drop,
            "kept_float": list(self.kept_float),
            "ranking": [e.to_dict() for e in self.ranking],
            "steps": list(self.steps),
        }


def _with_model(proto: onnx.ModelProto, manifest: Manifest, fn: Callable[[Model], Any]) -> Any:
    """Run ``fn`` on a runtime Model of ``proto`` (written to a temp file for the runtime)."""
    with tempfile.TemporaryDirectory(prefix="edgeae-eval-") as tmp:
        path = Path(tmp) / "model.onnx"
        onnx.save(proto, str(path))
        return fn(Model(path, manifest=manifest, threads=1))


def evaluate(
    proto: onnx.ModelProto, manifest: Manifest, metric: str | TaskMetric, validation: Validation
) -> float:
    """The metric of one model on the validation data (raw units for psnr/mse)."""
    if isinstance(metric, TaskMetric):
        return float(_with_model(proto, manifest, lambda m: metric.measure(m, validation)))
    if metric not in METRICS:
        raise QuantizationParameterError(
            f"must be one of {', '.join(METRICS)}, got {metric!r}", param="metric"
        )
    if manifest.role != "autoencoder":
        raise QuantizationParameterError(
            f"a budget needs the full autoencoder (model.onnx), this is the {manifest.role}; "
            "quantize model.onnx with a budget, or the encoder/decoder without one",
            param="max_drop",
        )
    if metric == "auroc":
        labels = validation.labels
        if labels is None or not (np.any(labels > 0) and np.any(labels == 0)):
            raise CalibrationError(
                f"{validation.name}: auroc needs anomaly labels with both normal (0) "
                "and anomalous (> 0) items; use psnr or data with labels",
                param="metric",
            )
        scores = _with_model(proto, manifest, lambda m: m.score(validation.x))
        return auroc(scores, labels)
    recon = _with_model(proto, manifest, lambda m: m.reconstruct(validation.x))
    if metric == "mse":
        return mse(validation.reference, recon)
    return psnr(validation.reference, recon, psnr_peak(manifest.preprocessing.value_range))


def metric_drop(metric: str | TaskMetric, float_value: float, quantized_value: float) -> float:
    """How much worse the quantized model is: dB for psnr, relative increase for mse, AUROC."""
    if metric == "mse":
        return (quantized_value - float_value) / max(float_value, 1e-12)
    if math.isinf(float_value) and math.isinf(quantized_value):
        return 0.0
    return float_value - quantized_value


def fit_budget(
    build: Callable[[tuple[str, ...]], onnx.ModelProto],
    *,
    float_model: onnx.ModelProto,
    rank_model: onnx.ModelProto,
    manifest: Manifest,
    metric: str | TaskMetric,
    max_drop: float,
    validation: Validation,
    start: onnx.ModelProto | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[onnx.ModelProto, BudgetReport]:
    """Quantize within ``max_drop``; raise QuantizationError if even all-float-nodes cannot.

    ``build(kept_float)`` quantizes with those nodes excluded; ``rank_model`` is
    a QDQ quantization of ``float_model`` used to rank nodes by their SQNR loss.
    """
    say = progress or (lambda _msg: None)
    if not (max_drop >= 0 and math.isfinite(max_drop)):  # nan would never fail the budget
        raise QuantizationParameterError(
            f"must be a finite number >= 0, got {max_drop}", param="max_drop"
        )
    f_value = evaluate(float_model, manifest, metric, validation)
    current = build(()) if start is None else start
    q_value = evaluate(current, manifest, metric, validation)
    drop = metric_drop(metric, f_value, q_value)
    steps: list[dict[str, Any]] = [{"kept_float": [], "value": q_value, "drop": drop}]
    say(f"{metric}: float {f_value:.4f}, quantized {q_value:.4f}, drop {drop:.4f}")
    kept: list[str] = []
    ranking: tuple[NodeError, ...] = ()
    best = (drop, current, q_value, ())
    if drop > max_drop:
        ranking = tuple(node_errors(float_model, rank_model, validation.feeds(manifest)))
        weights = _weights_per_node(float_model)
        remaining = list(ranking)
        while remaining:
            # Leave-one-out over the few most harmful nodes: measure each, then keep in
            # float the cheapest one that meets the budget, else the one that helps most.
            trials = []
            for err in remaining[:CANDIDATES]:
                proto = build((*kept, err.name))
                value = evaluate(proto, manifest, metric, validation)
                trials.append((metric_drop(metric, f_value, value), err, proto, value))
            meeting = [t for t in trials if t[0] <= max_drop]
            if meeting:
                pick = min(meeting, key=lambda t: (weights.get(t[1].name, 0), t[0]))
            else:
                pick = min(trials, key=lambda t: t[0])
            drop, err, current, q_value = pick
            kept.append(err.name)
            remaining.remove(err)
            steps.append({"kept_float": list(kept), "value": q_value, "drop": drop})
            say(f"kept {err.name} ({err.op_type}, -{err.harm_db:.1f} dB) float: drop {drop:.4f}")
            if drop < best[0]:
                best = (drop, current, q_value, tuple(kept))
            if drop <= max_drop:
                break
        else:
            raise BudgetError(
                f"the budget {max_drop} ({metric}) cannot be met: the best drop "
                f"was {best[0]:.4f} with {len(best[3])} node(s) in float "
                f"({', '.join(best[3]) or 'none'}); raise the budget or use fp16 mode",
                param="max_drop",
            )
    report = BudgetReport(
        _metric_name(metric), float(max_drop), f_value, q_value, drop, tuple(kept), ranking,
        tuple(steps), metric.unit if isinstance(metric, TaskMetric) else "",
    )  # fmt: skip
    return current, report


def _weights_per_node(model: onnx.ModelProto) -> dict[str, int]:
    """How many weight values each node holds (what keeping it in float costs)."""
    sizes = {init.name: int(np.prod(init.dims)) for init in model.graph.initializer}
    return {n.name: sum(sizes.get(i, 0) for i in n.input) for n in model.graph.node}


def recalibrate_threshold(
    proto: onnx.ModelProto, manifest: Manifest, validation: Validation
) -> AnomalySpec | None:
    """The anomaly spec recalibrated with the same law on the quantized model's own errors.

    Same score law, threshold method and parameters, and event law as the float
    manifest (``calibrate_anomaly(template=...)``): the center of a two-sided
    score and the threshold both come from the quantized model's errors on the
    normal items (label 0) of ``validation`` (all of them without labels); the
    F1/Youden methods also use its anomalies (label > 0), and a per-hour
    false-alarm rate its items as one stream in order.
    Returns None when the manifest has no anomaly section.
    """
    spec = manifest.anomaly
    if spec is None:
        return None
    x = validation.x
    labels = None if validation.labels is None else np.asarray(validation.labels).reshape(-1)
    normal = x if labels is None else x[labels == 0]
    if normal.shape[0] == 0:
        raise QuantizationError(
            f"{validation.name}: no normal (label 0) items to recalibrate the anomaly threshold on"
        )
    anomalous = None
    if spec.method in LABELLED_METHODS:
        if labels is None or not (labels > 0).any():
            raise QuantizationError(
                f"{validation.name}: the {spec.method} threshold needs labelled anomalies "
                "(labels > 0) in the validation data to recalibrate on"
            )
        anomalous = x[labels > 0]
    errors = _with_model(proto, manifest, lambda m: m.errors(normal))
    a_errors = (
        None if anomalous is None else _with_model(proto, manifest, lambda m: m.errors(anomalous))
    )
    sig = manifest.signal
    hop_hours = None if sig is None else sig.hop / sig.sample_rate / 3600.0
    what = f"{normal.shape[0]} normal items" + (
        "" if anomalous is None else f" + {anomalous.shape[0]} anomalies"
    )
    return calibrate_anomaly(
        errors,
        calibrated_on=f"quantized model, {validation.name}, {what}",
        anomaly_errors=a_errors,
        window_hours=hop_hours,
        template=spec,
        independent=item_independence(manifest),
    )
