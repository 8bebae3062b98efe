"""Task metrics of two models on the same items: reconstruction quality and anomaly detection.

The data may be a plain array of raw items or any object with the fields of
``edgeae.data.Dataset`` (``x``, and optionally ``target``, ``labels``, ``signal``,
``clean_signal``, ``sample_rate``); this module never imports ``edgeae``. Metrics
are the runtime's own (:mod:`edgeae_runtime.metrics`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeae_runtime import metrics
from edgeae_runtime.anomaly import clip_threshold_of
from edgeae_runtime.errors import InputError
from edgeae_runtime.model import Model
from edgeae_runtime.operating_point import describe_operating_point, rates
from edgeae_runtime.scores import clip_scores

from ..sampling import sample_indices
from .result import AnomalyStats, ClipStats, QualityStats

__all__ = [
    "ClipItems",
    "CompareData",
    "anomaly_stats",
    "as_compare_data",
    "clip_stats",
    "image_shape",
    "quality_stats",
]


@dataclass(eq=False)
class ClipItems:
    """Every item of labelled clips (log-mel sources: ``Dataset.clips``), for clip scores.

    A clip score reduces *all* of a clip's items, as the device's ClipScorer does, so
    these are the data's items before any ``max_items`` subsample (``subsampled``: they
    are not the compared items and are scored apart).
    """

    x: np.ndarray
    ids: np.ndarray  # the clip of each item
    labels: np.ndarray  # > 0 = anomaly, per item
    subsampled: bool


@dataclass(eq=False)
class CompareData:
    """The items both models see, what they are compared against, and optional labels."""

    x: np.ndarray
    reference: np.ndarray
    labels: np.ndarray | None
    name: str
    layout: str
    signal: np.ndarray | None = None
    clean_signal: np.ndarray | None = None
    sample_rate: int | None = None
    clips: ClipItems | None = None


def _subsample(n: int, max_items: int | None) -> np.ndarray | None:
    """THE sample of ``max_items`` indices (spread over all items, so rare labels in any
    stretch are kept in proportion) when there are more than ``max_items`` items."""
    if max_items is None or n <= max_items:
        return None
    return sample_indices(n, max_items)


def as_compare_data(
    data: Any,
    *,
    labels: np.ndarray | None = None,
    max_items: int | None = None,
    name: str | None = None,
) -> CompareData:
    """Normalize an array or a Dataset-like object into :class:`CompareData`.

    ``labels`` (> 0 = anomaly) override the data's own. A Dataset's own ``labels``
    are used through its ``anomaly_labels`` (set for a labeled signal such as
    the sensor dataset): item labels are often classes (digits 0-9), not anomalies.
    A Dataset's ``target`` (clean items of paired denoising data, or the ideal masks
    of a spectral denoiser's items) becomes the reference, else the input. A Dataset's
    ``clips`` (the clip of each item: log-mel sources) with labels give :class:`ClipItems`.
    """
    x = getattr(data, "x", data)
    try:
        x = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InputError(f"compare data: not an array of items ({exc})") from None
    if x.ndim < 2 or x.shape[0] == 0:
        raise InputError(f"compare data: expected a batch of items (N, ...), got shape {x.shape}")
    target = getattr(data, "target", None)
    if labels is None:
        labels = getattr(data, "anomaly_labels", None)
    idx = _subsample(x.shape[0], max_items)
    pick = (lambda a: a) if idx is None else (lambda a: a[idx])
    xs = np.ascontiguousarray(pick(x), dtype=np.float32)
    ref = xs if target is None else np.ascontiguousarray(pick(np.asarray(target)), np.float32)
    if ref.shape[0] != xs.shape[0]:  # per item it may differ: a mask denoiser's target
        raise InputError(f"compare data: {ref.shape[0]} targets for {xs.shape[0]} items")
    lab = None
    if labels is not None:
        lab = np.asarray(labels).reshape(-1)
        if lab.shape[0] != x.shape[0]:
            raise InputError(
                f"compare data: {lab.shape[0]} labels for {x.shape[0]} items; give one per item"
            )
        clips = _clip_items(data, x, lab, idx is not None)
        lab = pick(lab)
    else:
        clips = None
    layout = getattr(data, "layout", None) or {2: "NF", 3: "NCW", 4: "NCHW"}.get(xs.ndim, "NF")
    return CompareData(
        x=xs,
        reference=ref,
        labels=lab,
        name=name or str(getattr(data, "name", "array")),
        layout=str(layout),
        signal=getattr(data, "signal", None),
        clean_signal=getattr(data, "clean_signal", None),
        sample_rate=getattr(data, "sample_rate", None),
        clips=clips,
    )


def _clip_items(data: Any, x: np.ndarray, labels: np.ndarray, subsampled: bool) -> ClipItems | None:
    """The data's labelled clips (every item), or None when it has no clip index."""
    ids = getattr(data, "clips", None)
    if ids is None:
        return None
    ids = np.asarray(ids).reshape(-1)
    if ids.shape[0] != x.shape[0]:
        raise InputError(f"compare data: {ids.shape[0]} clip ids for {x.shape[0]} items")
    return ClipItems(np.ascontiguousarray(x, dtype=np.float32), ids, labels, subsampled)


def image_shape(layout: str, item_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """``(C, H, W)`` to view items as images: NCHW as is, a square flat vector as one channel."""
    if layout == "NCHW":
        return tuple(item_shape)
    if layout == "NF" and len(item_shape) == 1:
        side = math.isqrt(item_shape[0])
        if side >= 4 and side * side == item_shape[0]:
            return (1, side, side)
    return None


def quality_stats(
    reference: np.ndarray, estimate: np.ndarray, layout: str, data_range: float
) -> QualityStats:
    """MSE, MAE, PSNR, and SNR for signals (NCW) or SSIM for images."""
    snr = metrics.snr_db(reference, estimate) if layout == "NCW" else None
    shape = image_shape(layout, tuple(reference.shape[1:]))
    ssim = None
    if shape is not None:
        ssim = metrics.ssim(
            reference.reshape(-1, *shape), estimate.reshape(-1, *shape), data_range=data_range
        )
    return QualityStats(
        mse=metrics.mse(reference, estimate),
        mae=metrics.mae(reference, estimate),
        psnr=metrics.psnr(reference, estimate, data_range=data_range),
        snr_db=snr,
        ssim=ssim,
    )


def anomaly_stats(model: Model, scores: np.ndarray, labels: np.ndarray) -> AnomalyStats:
    """AUROC, pAUC and precision/recall/F1/TPR/FPR at the model's threshold.

    The threshold is the manifest's (its law described in ``operating_point``),
    else the 99th percentile of normals.

    A manifest threshold of 0 means "not calibrated"; then the 99th percentile of
    this model's scores on the items labeled normal stands in, and the result says so.
    """
    spec = model.manifest.anomaly
    point = ""
    if spec is not None and spec.threshold > 0:
        threshold, source = float(spec.threshold), "manifest"
        point = describe_operating_point(spec)
    else:
        normal = scores[np.asarray(labels) <= 0]
        threshold = float(np.percentile(normal, 99.0)) if normal.size else float(np.max(scores))
        source = "p99 of normal items (no threshold in the manifest)"
    flags = scores > threshold
    precision, recall, f1 = metrics.precision_recall_f1(flags, labels)
    y = np.asarray(labels).reshape(-1) > 0
    r = rates(scores[~y], scores[y], threshold)
    return AnomalyStats(
        pauc=metrics.pauc(scores, labels, 0.1),
        tpr=float(r.tpr if r.tpr is not None else float("nan")),
        fpr=r.fpr,
        operating_point=point,
        auroc=metrics.auroc(scores, labels),
        threshold=threshold,
        threshold_source=source,
        precision=precision,
        recall=recall,
        f1=f1,
        flagged=int(flags.sum()),
    )


def clip_stats(
    model: Model, scores: np.ndarray, clips: ClipItems, item_threshold: float
) -> ClipStats | None:
    """Clip AUROC/pAUC and the clip verdicts of ``model`` from its scores of every item of
    ``clips`` (None when the clips hold a single class).

    A clip's score is the ``features.reduce`` (mean or max) of its items' scores
    (:func:`edgeae_runtime.scores.clip_scores`, the law of ClipScorer and of the clip
    calibration); a clip is anomalous when any of its items is labelled so. The verdicts are
    at the threshold ClipScorer applies (:func:`~edgeae_runtime.anomaly.clip_threshold_of`).
    """
    features = model.manifest.features
    reduce = features.reduce if features is not None else "mean"
    cs = clip_scores(scores, clips.ids, reduce)
    cy = clip_scores(np.asarray(clips.labels) > 0, clips.ids, "max") > 0
    if cy.all() or not cy.any():
        return None
    threshold, source = clip_threshold_of(model.manifest.anomaly, item_threshold)
    r = rates(cs[~cy], cs[cy], threshold)
    y = cy.astype(np.int64)
    return ClipStats(
        auroc=metrics.auroc(cs, y),
        pauc=metrics.pauc(cs, y, 0.1),
        clips=int(cs.size),
        anomalous=int(cy.sum()),
        items=int(clips.ids.size),
        reduce=reduce,
        threshold=threshold,
        threshold_source=source,
        tpr=float(r.tpr if r.tpr is not None else float("nan")),
        fpr=r.fpr,
    )
