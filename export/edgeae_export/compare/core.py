"""``compare_models``: run two models on the same data and collect every number that matters.

Quality on the task (reconstruction, anomaly detection), the codec, the error of
each quantized activation, size, latency and memory, and a verdict against a
budget, in one :class:`~edgeae_export.compare.result.Comparison`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgeae_runtime import metrics
from edgeae_runtime.errors import EdgeAEError, InputError, ModelError
from edgeae_runtime.model import Model

from . import perf
from .codec import codec_skip_reason, codec_stats, find_codec_pair
from .nodes import node_errors
from .quality import CompareData, anomaly_stats, as_compare_data, image_shape, quality_stats
from .result import Comparison, Details, ModelStats, Verdict

__all__ = ["HIGHER_IS_BETTER", "METRICS", "compare_models", "default_metric", "make_verdict"]

#: Metrics a budget can be set on, and whether a larger value is better.
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "snr_db": True, "auroc": True, "f1": True}
METRICS = (*HIGHER_IS_BETTER, "mse", "mae")

Progress = Callable[[str], None]


def default_metric(has_labels: bool) -> str:
    """The metric the task is judged on: AUROC for labeled anomaly data, PSNR otherwise."""
    return "auroc" if has_labels else "psnr"


def _load(path: str | Path, threads: int, side: str) -> Model:
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"model {side}: {p}: no such file")
    model = Model(p, threads=threads)
    if model.role != "autoencoder":
        raise ModelError(
            f"model {side}: {p.name} is the {model.role}; compare needs full autoencoders "
            "(model.onnx); the codec pair is found beside it or given with --codec-a/--codec-b"
        )
    return model


def _check_same_input(a: Model, b: Model, data: CompareData) -> None:
    if a.item_shape != b.item_shape:
        raise InputError(
            f"the models take different inputs: {a.path.name} items {a.item_shape}, "
            f"{b.path.name} items {b.item_shape}; compare two versions of the same model"
        )
    if tuple(data.x.shape[1:]) != a.item_shape:
        raise InputError(
            f"data {data.name!r} has items of shape {tuple(data.x.shape[1:])}, the models take "
            f"{a.item_shape}; give data made for this model (same window/size)"
        )


def _quant_mode(model: Model) -> str:
    q = model.manifest.quantization
    return q.mode if q.mode == "float32" else f"{q.mode} ({q.weight_type or '?'} weights)"


def _metric_value(stats: ModelStats, metric: str) -> float:
    if metric in ("auroc", "f1"):
        if stats.anomaly is None:
            raise InputError(f"metric {metric!r} needs labeled data (anomaly labels > 0)")
        return float(getattr(stats.anomaly, metric))
    value = getattr(stats.quality, metric)
    if value is None:
        raise InputError(f"metric {metric!r} does not apply to this data; use psnr or mse")
    return float(value)


def make_verdict(a: ModelStats, b: ModelStats, metric: str, max_drop: float | None) -> Verdict:
    """How much worse B is than A on ``metric`` (a positive drop = B is worse), against a budget."""
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    va, vb = _metric_value(a, metric), _metric_value(b, metric)
    drop = va - vb if HIGHER_IS_BETTER.get(metric, False) else vb - va
    if math.isnan(drop) or (math.isinf(va) and math.isinf(vb)):
        drop = 0.0 if va == vb else math.inf
    passed = max_drop is None or drop <= max_drop
    return Verdict(metric, va, vb, float(drop), max_drop, bool(passed))


def _examples(data: CompareData, k: int = 4) -> np.ndarray:
    """Indices of a few items to draw: anomalies first when labeled, else evenly spaced."""
    n = data.x.shape[0]
    if data.labels is not None and np.any(data.labels > 0):
        normal = np.flatnonzero(data.labels <= 0)[: k // 2]
        odd = np.flatnonzero(data.labels > 0)[: k - normal.size]
        return np.concatenate([normal, odd]).astype(np.int64)
    return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(np.int64))


def compare_models(
    a_path: str | Path,
    b_path: str | Path,
    data: Any,
    *,
    labels: np.ndarray | None = None,
    max_drop: float | None = None,
    metric: str | None = None,
    max_items: int | None = 4096,
    codec_a: Sequence[str | Path] | None = None,
    codec_b: Sequence[str | Path] | None = None,
    batches: Sequence[int] = (1, 256),
    measure_memory: bool = True,
    per_node: bool = True,
    latency_budget_s: float = 0.5,
    threads: int = 1,
    progress: Progress | None = None,
) -> Comparison:
    """Compare model B against model A (usually int8 against float) on the same raw items.

    ``data`` is an array ``(N, *item_shape)`` or a Dataset-like object; ``labels``
    (> 0 = anomaly) switch on the anomaly metrics; ``metric``/``max_drop`` set the
    verdict (default metric: AUROC with labels, PSNR without). Parts that cannot
    run (no codec files, B not QDQ) are skipped with a note, never silently.
    """
    say = progress or (lambda _msg: None)
    a, b = _load(a_path, threads, "A"), _load(b_path, threads, "B")
    cdata = as_compare_data(data, labels=labels, max_items=max_items)
    _check_same_input(a, b, cdata)
    notes: list[str] = []
    if cdata.labels is not None and not (np.any(cdata.labels > 0) and np.any(cdata.labels <= 0)):
        notes.append("labels hold a single class: anomaly metrics skipped")
        cdata.labels = None
    metric = metric or default_metric(cdata.labels is not None)
    task = "anomaly" if cdata.labels is not None else "reconstruction"

    say(f"reconstructing {cdata.x.shape[0]} items with both models")
    rec_a, rec_b = a.reconstruct(cdata.x), b.reconstruct(cdata.x)
    ref = cdata.reference
    data_range = float(np.ptp(ref)) or 1.0
    qa = quality_stats(ref, rec_a, cdata.layout, data_range)
    qb = quality_stats(ref, rec_b, cdata.layout, data_range)
    diff = quality_stats(rec_a, rec_b, cdata.layout, data_range)

    anomaly_a = anomaly_b = None
    scores_a = scores_b = None
    flags_agree = None
    if cdata.labels is not None:
        say("scoring anomalies")
        scores_a, scores_b = a.score(cdata.x), b.score(cdata.x)
        anomaly_a = anomaly_stats(a, scores_a, cdata.labels)
        anomaly_b = anomaly_stats(b, scores_b, cdata.labels)
        flags_agree = int(
            np.sum((scores_a > anomaly_a.threshold) == (scores_b > anomaly_b.threshold))
        )

    codecs: list = []
    sides = (("A", a, codec_a), ("B", b, codec_b))
    reason = codec_skip_reason(cdata)
    if reason is not None and not (codec_a or codec_b):
        notes.append(f"codec: skipped ({reason})")
        sides = ()
        codecs = [None, None]
    for side, model, given in sides:
        pair = tuple(Path(p) for p in given) if given else find_codec_pair(model.path)
        if pair is None:
            notes.append(
                f"codec {side}: no encoder*/decoder* file beside {model.path.name}; "
                f"give --codec-{side.lower()} ENCODER DECODER to measure it"
            )
            codecs.append(None)
            continue
        say(f"codec {side}: {pair[0].name} + {pair[1].name}")
        try:
            codecs.append(codec_stats(pair[0], pair[1], cdata, threads=threads))
        except EdgeAEError as exc:
            notes.append(f"codec {side}: skipped ({exc.format_message()})")
            codecs.append(None)

    nodes: tuple = ()
    if per_node:
        say("per-node error (SQNR of each quantized activation)")
        nodes, note = node_errors(a.path, b.path, a.manifest.preprocessing, cdata.x)
        if note:
            notes.append(note)

    stats = []
    for side, model, q, an, codec in (
        ("A", a, qa, anomaly_a, codecs[0]),
        ("B", b, qb, anomaly_b, codecs[1]),
    ):
        say(f"latency {side} at batch {', '.join(map(str, batches))}")
        lat = tuple(perf.latency_stats(model, n, budget_s=latency_budget_s) for n in batches)
        load_s = rss = None
        if measure_memory:
            say(f"peak memory {side} (fresh process)")
            load_s, rss = perf.footprint(model.path, batch=max(batches), threads=threads)
        stats.append(
            ModelStats(
                path=str(model.path),
                size_bytes=perf.size_bytes(model.path),
                quantization=_quant_mode(model),
                quality=q,
                anomaly=an,
                codec=codec,
                latency=lat,
                peak_rss_mb=rss,
                load_s=load_s,
            )
        )

    idx = _examples(cdata)
    details = Details(
        layout=cdata.layout,
        error_a=metrics.per_item_error(ref, rec_a),
        error_b=metrics.per_item_error(ref, rec_b),
        example_inputs=cdata.x[idx],
        example_reference=ref[idx],
        example_a=rec_a[idx],
        example_b=rec_b[idx],
        labels=cdata.labels,
        example_labels=None if cdata.labels is None else cdata.labels[idx],
        scores_a=scores_a,
        scores_b=scores_b,
        image_shape=image_shape(cdata.layout, a.item_shape),
    )
    return Comparison(
        a=stats[0],
        b=stats[1],
        task=task,
        items=int(cdata.x.shape[0]),
        data=cdata.name,
        output_difference=diff,
        verdict=make_verdict(stats[0], stats[1], metric, max_drop),
        flags_agree=flags_agree,
        nodes=tuple(nodes),
        notes=tuple(notes),
        details=details,
    )
