"""``compare_models``: run two models on the same data and collect every number that matters.

Quality on the task (reconstruction, anomaly detection), the codec, the error of
each quantized activation, size, latency and memory, and a verdict against a
budget, in one :class:`~edgeae_export.compare.result.Comparison`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeae_runtime import metrics
from edgeae_runtime.errors import EdgeAEError, InputError, ModelError
from edgeae_runtime.model import Model

from ..sampling import sample_indices
from . import perf
from .codec import codec_skip_reason, codec_stats, find_codec_pair, rd_curve
from .nodes import node_errors
from .quality import (
    CompareData,
    anomaly_stats,
    as_compare_data,
    clip_stats,
    image_shape,
    quality_stats,
)
from .result import (
    AnomalyStats,
    CodecStats,
    Comparison,
    Details,
    ModelStats,
    QualityStats,
    Verdict,
)

__all__ = ["HIGHER_IS_BETTER", "METRICS", "compare_models", "default_metric", "make_verdict"]

#: Metrics a budget can be set on, and whether a larger value is better.
HIGHER_IS_BETTER = {
    "psnr": True,
    "ssim": True,
    "snr_db": True,
    "auroc": True,
    "f1": True,
    "clip_auroc": True,
}
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
            "(model.onnx); the codec pair is found beside it or given as `codec_a`/`codec_b`"
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
    if metric == "clip_auroc":
        if stats.anomaly is None or stats.anomaly.clip is None:
            raise InputError(
                "metric 'clip_auroc' needs labelled clips of both kinds (a logmel: folder "
                "holding normal and anomaly_* clips)"
            )
        return float(stats.anomaly.clip.auroc)
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
    """Indices of a few items to draw: anomalies first when labeled, else THE sample."""
    n = data.x.shape[0]
    if data.labels is not None and np.any(data.labels > 0):
        normal = np.flatnonzero(data.labels <= 0)[: k // 2]
        odd = np.flatnonzero(data.labels > 0)[: k - normal.size]
        return np.concatenate([normal, odd]).astype(np.int64)
    return sample_indices(n, k)


@dataclass(frozen=True)
class _Reconstructions:
    """Both models' reconstructions and their quality against the reference and each other."""

    a: np.ndarray
    b: np.ndarray
    quality_a: QualityStats
    quality_b: QualityStats
    difference: QualityStats


@dataclass(frozen=True)
class _Anomalies:
    """Both models' scores on labeled data, their detection stats and how often they agree."""

    scores_a: np.ndarray
    scores_b: np.ndarray
    stats_a: AnomalyStats
    stats_b: AnomalyStats
    flags_agree: int


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
    ladder: Sequence[str | Path] = (),
) -> Comparison:
    """Compare model B against model A (usually int8 against float) on the same raw items.

    ``data`` is an array ``(N, *item_shape)`` or a Dataset-like object; ``labels``
    (> 0 = anomaly) switch on the anomaly metrics; ``metric``/``max_drop`` set the
    verdict (default metric: AUROC with labels, PSNR without). Parts that cannot
    run (no codec files, B not QDQ) are skipped with a note, never silently.
    ``ladder`` folders of exported codecs (a quality ladder) add a rate-distortion
    curve on the same data.

    Steps: open both models and the data, reconstruct, score anomalies (labeled
    data), the codec pairs, per-node error, each model's size/latency/memory,
    then the verdict and the arrays a report plots.
    """
    say = progress or (lambda _msg: None)
    notes: list[str] = []
    a, b, cdata = _open(a_path, b_path, data, labels, max_items, threads, notes)
    metric = metric or default_metric(cdata.labels is not None)
    rec = _reconstruct(a, b, cdata, say)
    anomalies = _score_anomalies(a, b, cdata, notes, say)
    codec_stats_a, codec_stats_b = _codecs(a, b, cdata, codec_a, codec_b, threads, notes, say)
    nodes = _node_errors(a, b, cdata, notes, say) if per_node else ()
    an_a, an_b = (anomalies.stats_a, anomalies.stats_b) if anomalies else (None, None)
    measure = functools.partial(
        _model_stats,
        batches=batches,
        latency_budget_s=latency_budget_s,
        measure_memory=measure_memory,
        threads=threads,
        say=say,
    )
    rd = ()
    if ladder:
        say("rate-distortion curve over the ladder")
        rd = rd_curve(ladder, cdata, threads=threads)
    stats_a = measure("A", a, rec.quality_a, an_a, codec_stats_a)
    stats_b = measure("B", b, rec.quality_b, an_b, codec_stats_b)
    return Comparison(
        a=stats_a,
        b=stats_b,
        task="anomaly" if cdata.labels is not None else "reconstruction",
        items=int(cdata.x.shape[0]),
        data=cdata.name,
        output_difference=rec.difference,
        verdict=make_verdict(stats_a, stats_b, metric, max_drop),
        flags_agree=anomalies.flags_agree if anomalies else None,
        nodes=tuple(nodes),
        notes=tuple(notes),
        rd_curve=rd,
        details=_details(a, cdata, rec, anomalies),
    )


def _open(
    a_path: str | Path,
    b_path: str | Path,
    data: Any,
    labels: np.ndarray | None,
    max_items: int | None,
    threads: int,
    notes: list[str],
) -> tuple[Model, Model, CompareData]:
    """Both models (full autoencoders of the same input) and the data; one-class labels dropped."""
    a, b = _load(a_path, threads, "A"), _load(b_path, threads, "B")
    cdata = as_compare_data(data, labels=labels, max_items=max_items)
    _check_same_input(a, b, cdata)
    if cdata.labels is not None and not (np.any(cdata.labels > 0) and np.any(cdata.labels <= 0)):
        notes.append("labels hold a single class: anomaly metrics skipped")
        cdata.labels = None
    return a, b, cdata


def _reconstruct(a: Model, b: Model, cdata: CompareData, say: Progress) -> _Reconstructions:
    """Reconstruct with both models; quality in raw units over the reference's range."""
    say(f"reconstructing {cdata.x.shape[0]} items with both models")
    rec_a, rec_b = a.reconstruct(cdata.x), b.reconstruct(cdata.x)
    ref = cdata.reference
    if ref.shape != rec_a.shape:
        raise InputError(
            f"compare data: reference items of shape {ref.shape[1:]}, {a.path.name} outputs "
            f"{rec_a.shape[1:]}; give targets shaped like the model's output"
        )
    # the one PSNR peak rule (edgeae_runtime.metrics): the model's value range, else the data's
    peak = metrics.psnr_peak(a.manifest.preprocessing.value_range)
    data_range = peak or float(np.ptp(ref)) or 1.0
    return _Reconstructions(
        rec_a,
        rec_b,
        quality_stats(ref, rec_a, cdata.layout, data_range),
        quality_stats(ref, rec_b, cdata.layout, data_range),
        quality_stats(rec_a, rec_b, cdata.layout, data_range),
    )


def _score_anomalies(
    a: Model, b: Model, cdata: CompareData, notes: list[str], say: Progress
) -> _Anomalies | None:
    """Both models' anomaly scores and stats at their own thresholds (None without labels);
    with labelled clips (log-mel sources) their clip-level stats too."""
    if cdata.labels is None:
        return None
    say("scoring anomalies")
    scores_a, scores_b = a.score(cdata.x), b.score(cdata.x)
    stats_a = anomaly_stats(a, scores_a, cdata.labels)
    stats_b = anomaly_stats(b, scores_b, cdata.labels)
    clips = cdata.clips
    if clips is not None:
        say(f"clip scores: every item of {np.unique(clips.ids).size} clips")
        pairs = ((a, scores_a, stats_a), (b, scores_b, stats_b))
        found = [
            clip_stats(m, m.score(clips.x) if clips.subsampled else s, clips, st.threshold)
            for m, s, st in pairs
        ]
        if found[0] is None or found[1] is None:
            notes.append("clip-level: the clips hold a single class (normal or anomalous)")
        else:
            stats_a = dataclasses.replace(stats_a, clip=found[0])
            stats_b = dataclasses.replace(stats_b, clip=found[1])
    agree = int(np.sum((scores_a > stats_a.threshold) == (scores_b > stats_b.threshold)))
    return _Anomalies(scores_a, scores_b, stats_a, stats_b, agree)


def _codecs(
    a: Model,
    b: Model,
    cdata: CompareData,
    codec_a: Sequence[str | Path] | None,
    codec_b: Sequence[str | Path] | None,
    threads: int,
    notes: list[str],
    say: Progress,
) -> tuple[CodecStats | None, CodecStats | None]:
    """Each side's encoder/decoder pair (given, or found beside the model); a note when skipped."""
    reason = codec_skip_reason(cdata)
    if reason is not None and not (codec_a or codec_b):
        notes.append(f"codec: skipped ({reason})")
        return None, None
    out: list[CodecStats | None] = []
    for side, model, given in (("A", a, codec_a), ("B", b, codec_b)):
        pair = tuple(Path(p) for p in given) if given else find_codec_pair(model.path)
        if pair is None:
            notes.append(
                f"codec {side}: no encoder*/decoder* file beside {model.path.name}; "
                f"give `codec_{side.lower()}` (ENCODER DECODER) to measure it"
            )
            out.append(None)
            continue
        say(f"codec {side}: {pair[0].name} + {pair[1].name}")
        try:
            out.append(codec_stats(pair[0], pair[1], cdata, threads=threads))
        except EdgeAEError as exc:
            notes.append(f"codec {side}: skipped ({exc.format_message()})")
            out.append(None)
    return out[0], out[1]


def _node_errors(
    a: Model, b: Model, cdata: CompareData, notes: list[str], say: Progress
) -> tuple[Any, ...]:
    """The SQNR of each quantized activation of B against A (a note when B has no QDQ nodes)."""
    say("per-node error (SQNR of each quantized activation)")
    nodes, note = node_errors(a.path, b.path, a.manifest.preprocessing, cdata.x)
    if note:
        notes.append(note)
    return tuple(nodes)


def _model_stats(
    side: str,
    model: Model,
    quality: QualityStats,
    anomaly: AnomalyStats | None,
    codec: CodecStats | None,
    *,
    batches: Sequence[int],
    latency_budget_s: float,
    measure_memory: bool,
    threads: int,
    say: Progress,
) -> ModelStats:
    """One model's numbers: size, quantization, quality, latency per batch, memory."""
    say(f"latency {side} at batch {', '.join(map(str, batches))}")
    lat = tuple(perf.latency_stats(model, n, budget_s=latency_budget_s) for n in batches)
    load_s = rss = None
    if measure_memory:
        say(f"peak memory {side} (fresh process)")
        load_s, rss = perf.footprint(model.path, batch=max(batches), threads=threads)
    return ModelStats(
        path=str(model.path),
        size_bytes=perf.size_bytes(model.path),
        quantization=_quant_mode(model),
        quality=quality,
        anomaly=anomaly,
        codec=codec,
        latency=lat,
        peak_rss_mb=rss,
        load_s=load_s,
    )


def _details(
    a: Model, cdata: CompareData, rec: _Reconstructions, anomalies: _Anomalies | None
) -> Details:
    """The arrays a report plots: per-item errors, a few examples, the scores."""
    ref = cdata.reference
    idx = _examples(cdata)
    return Details(
        layout=cdata.layout,
        error_a=metrics.per_item_error(ref, rec.a),
        error_b=metrics.per_item_error(ref, rec.b),
        example_inputs=cdata.x[idx],
        example_reference=ref[idx],
        example_a=rec.a[idx],
        example_b=rec.b[idx],
        labels=cdata.labels,
        example_labels=None if cdata.labels is None else cdata.labels[idx],
        scores_a=anomalies.scores_a if anomalies else None,
        scores_b=anomalies.scores_b if anomalies else None,
        image_shape=image_shape(cdata.layout, a.item_shape),
    )
