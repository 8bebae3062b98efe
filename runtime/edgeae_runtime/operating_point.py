"""Threshold laws: where on the score axis an anomaly model flags, chosen by one named rule.

Every law works on anomaly *scores* (the output of :func:`edgeae_runtime.anomaly_scores`)
and returns a threshold ``t``; an item is anomalous when ``score > t``. One
implementation for the trainer's calibration, the quantizer's int8 recalibration,
compare and the benchmarks (through :func:`edgeae_runtime.calibrate_anomaly`).

- ``percentile``: the ``percentile`` of normal scores (linear interpolation).
- ``mean_std``: ``mean + k * std`` of normal scores.
- ``far``: a target false-alarm rate. Per item: the smallest threshold whose
  realised rate on the normal calibration scores is at most ``target_far``. Per
  hour (streams): the smallest threshold whose *events* (under the manifest's
  event rule, :mod:`edgeae_runtime.events`) on the normal calibration stream, in
  time order, are at most ``target_far`` per hour.
- ``f1``: the threshold maximising F1 on labelled validation scores.
- ``youden``: the threshold maximising TPR - FPR (Youden's J) on them.

The label-based laws put the threshold halfway between the chosen score and the
next higher one, so an unseen score equal to a validation anomaly's is flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError

__all__ = [
    "FAR_UNITS",
    "LABELLED_METHODS",
    "METHODS",
    "Rates",
    "choose_threshold",
    "describe_operating_point",
    "rates",
]

METHODS = ("percentile", "mean_std", "far", "f1", "youden")
#: Methods that need labelled validation anomalies.
LABELLED_METHODS = ("f1", "youden")
FAR_UNITS = ("item", "hour")


@dataclass(frozen=True)
class Rates:
    """Detection rates at one threshold: TPR (None without anomalies) and FPR."""

    tpr: float | None
    fpr: float
    normal: int
    anomalies: int


def _scores(values: np.ndarray | None, what: str) -> np.ndarray:
    arr = np.asarray([] if values is None else values, dtype=np.float64).reshape(-1)
    if not np.isfinite(arr).all():
        raise InputError(f"{what}: scores must be finite")
    return arr


def rates(normal: np.ndarray, anomalous: np.ndarray | None, threshold: float) -> Rates:
    """TPR and FPR of ``score > threshold`` on normal and (optional) anomalous scores."""
    n = _scores(normal, "normal scores")
    a = _scores(anomalous, "anomaly scores")
    fpr = float(np.mean(n > threshold)) if n.size else 0.0
    tpr = float(np.mean(a > threshold)) if a.size else None
    return Rates(tpr=tpr, fpr=fpr, normal=int(n.size), anomalies=int(a.size))


def _far_per_item(n: np.ndarray, target: float) -> float:
    """Smallest observed score ``t`` with ``mean(n > t) <= target``."""
    s = np.sort(n)
    # count(s > s[i]) <= n - i - 1 <= n * target; the tolerance absorbs the rounding of
    # n * (1 - target) (1/3 of 9 is 6.000000000000001), so the threshold is the smallest
    i = max(int(np.ceil(s.size * (1.0 - target) - 1e-12 * s.size)) - 1, 0)
    return float(s[i])


def _far_per_hour(
    n: np.ndarray, target: float, hours: float, count_events: Callable[[np.ndarray, float], int]
) -> float:
    """Smallest candidate threshold whose events on the normal stream are <= target per hour.

    Event counts are not monotone at low thresholds (everything merges into one
    long event), so the search comes down from the top: candidate thresholds at
    the normal scores' upper quantiles (1/2, 1/4, ... of windows above) until one
    breaks the target, then a bisection between that one and the last that held.
    The result always holds on the calibration stream.
    """
    allowed = int(np.floor(target * hours + 1e-9))
    cand = np.unique(n)
    hi = cand.size - 1  # max score: no window above it, no event
    lo = None
    step = 1
    while step < cand.size:  # indices cand.size - 1 - (1, 2, 4, ...) coming down
        i = max(cand.size - 1 - step, 0)
        if count_events(n, float(cand[i])) > allowed:
            lo = i
            break
        hi = i
        if i == 0 or 2 * step > cand.size // 2 + 1:  # stop below the median
            break
        step *= 2
    if lo is None:
        return float(cand[hi])
    while hi - lo > 1:  # invariant: count(cand[lo]) > allowed >= count(cand[hi])
        mid = (lo + hi) // 2
        if count_events(n, float(cand[mid])) <= allowed:
            hi = mid
        else:
            lo = mid
    return float(cand[hi])


def _labelled(n: np.ndarray, a: np.ndarray, method: str) -> float:
    """F1- or Youden-optimal threshold; halfway to the next higher distinct score."""
    cand = np.unique(np.concatenate([n, a]))
    # flags at t = cand[j]: score > cand[j]; counts via sorted arrays
    ns, as_ = np.sort(n), np.sort(a)
    fp = n.size - np.searchsorted(ns, cand, side="right")
    tp = a.size - np.searchsorted(as_, cand, side="right")
    # also "flag everything": t just below the smallest score
    fp = np.concatenate([[n.size], fp])
    tp = np.concatenate([[a.size], tp])
    if method == "f1":
        fn = a.size - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            objective = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    else:
        objective = tp / a.size - fp / n.size
    j = int(np.argmax(objective))
    if j == 0:
        return float(cand[0] - max(abs(cand[0]) * 1e-6, 1e-12))
    lower = cand[j - 1]
    upper = cand[j] if j < cand.size else lower
    return float((lower + upper) / 2.0) if j < cand.size else float(lower)


def choose_threshold(
    normal: np.ndarray,
    method: str = "percentile",
    *,
    anomalous: np.ndarray | None = None,
    percentile: float = 99.0,
    k: float = 3.0,
    target_far: float = 0.01,
    far_per: str = "item",
    hours: float | None = None,
    count_events: Callable[[np.ndarray, float], int] | None = None,
) -> float:
    """The threshold of ``method`` on normal (and, for f1/youden, anomalous) scores.

    ``normal`` must be in time order for ``far_per="hour"``, which also needs the
    calibration stream's duration ``hours`` and ``count_events(scores, t)`` (the
    event rule). Raises InputError naming the parameter that is missing or out of range.
    """
    n = _scores(normal, "normal scores")
    if n.size == 0:
        raise InputError("calibration: no normal items to calibrate the threshold on")
    if method not in METHODS:
        raise InputError(f"threshold method: must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "percentile":
        if not 0 < percentile <= 100:
            raise InputError(f"percentile: must be in (0, 100], got {percentile}")
        return float(np.percentile(n, percentile))
    if method == "mean_std":
        if not (np.isfinite(k) and 0 <= k <= 100):
            raise InputError(f"k: must be in [0, 100], got {k}")
        return float(n.mean() + k * n.std())
    if method == "far":
        if far_per not in FAR_UNITS:
            raise InputError(f"far_per: must be one of {', '.join(FAR_UNITS)}, got {far_per!r}")
        if far_per == "item":
            if not 0 < target_far < 1:
                raise InputError(f"target_far: a per-item rate in (0, 1), got {target_far}")
            return _far_per_item(n, target_far)
        if not (np.isfinite(target_far) and target_far > 0):
            raise InputError(f"target_far: false alarms per hour must be > 0, got {target_far}")
        if hours is None or not hours > 0 or count_events is None:
            raise InputError(
                "target_far per hour: needs a signal model (sample rate and hop) and its "
                "normal calibration stream in time order"
            )
        return _far_per_hour(n, target_far, hours, count_events)
    a = _scores(anomalous, "anomaly scores")
    if a.size == 0:
        raise InputError(
            f"threshold method {method!r}: needs labelled anomalies in the validation data "
            "(labels > 0); use percentile, mean_std or far without them"
        )
    return _labelled(n, a, method)


def describe_operating_point(spec: Any) -> str:
    """One line naming an AnomalySpec's threshold law, its parameter and validation rates."""
    m = spec.method
    if m == "percentile":
        text = f"p{spec.percentile:g} of normal"
    elif m == "mean_std":
        text = f"mean + {spec.k:g} std of normal"
    elif m == "far":
        text = f"false alarms <= {spec.target_far:g} per {spec.far_per}"
    else:
        text = {"f1": "F1-optimal", "youden": "Youden-optimal"}.get(m, m)
    rates_ = []
    if spec.val_tpr is not None:
        rates_.append(f"val TPR {spec.val_tpr:.3f}")
    if spec.val_fpr is not None:
        rates_.append(f"val FPR {spec.val_fpr:.4f}")
    if rates_:
        text += f" ({', '.join(rates_)})"
    rule = []
    if spec.hysteresis:
        rule.append(f"hysteresis {spec.hysteresis:g}")
    if spec.vote_n > 1:
        rule.append(f"{spec.vote_k}-of-{spec.vote_n} vote")
    if spec.min_windows > 1:
        rule.append(f"events >= {spec.min_windows} windows")
    if rule:
        text += "; " + ", ".join(rule)
    return text
