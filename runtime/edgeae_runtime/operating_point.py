"""Threshold laws: where on the score axis an anomaly model flags, chosen by one named rule.

Every law works on anomaly *scores* (the output of :func:`edgeae_runtime.anomaly_scores`)
and returns a threshold ``t``; an item is anomalous when ``score > t``. One
implementation for the trainer's calibration, the quantizer's int8 recalibration,
compare and the benchmarks (through :func:`edgeae_runtime.calibrate_anomaly`).

- ``percentile``: the ``percentile`` of normal scores (linear interpolation).
- ``mean_std``: ``mean + k * std`` of normal scores.
- ``far``: a target false-alarm rate. Per item, for *unseen* normal items: with
  enough calibration scores (``target_far * n >= 10``) the conformal quantile, the
  ``ceil((n + 1)(1 - target_far))``-th smallest score, which a new exchangeable
  normal score exceeds with probability <= ``target_far``; with fewer (1 % of 74
  windows: the plug-in quantile is just the max) a generalized Pareto fit to the
  upper scores (peaks over threshold) extrapolates the tail, never below the
  plug-in quantile, so the realised rate on the calibration scores is still at most
  ``target_far``; under 6 scores the max. Per
  hour (streams): the smallest threshold whose *events* (under the manifest's
  event rule, :mod:`edgeae_runtime.events`) on the normal calibration stream, in
  time order, are at most ``target_far`` per hour.
- ``f1``: the threshold maximising F1 on labelled validation scores.
- ``youden``: the threshold maximising TPR - FPR (Youden's J) on them.
- ``accuracy``: the threshold making the most correct decisions on them (TP + TN).
  Accuracy weighs each item alike, so it depends on the validation set's anomaly
  share: it is the right law when that share is the deployment's (validation windows
  cut from the same kind of stream); F1 and Youden trade more false alarms for
  detections by design and land below the best accuracy when anomalies are rare.

The label-based laws put the threshold halfway between the chosen score and the
next higher one, so an unseen score equal to a validation anomaly's is flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np

from .errors import InputError
from .manifest import ThresholdMethod

__all__ = [
    "FAR_FITS",
    "FAR_UNITS",
    "LABELLED_METHODS",
    "METHODS",
    "Rates",
    "choose_threshold",
    "describe_operating_point",
    "far_threshold_sorted",
    "gpd_pwm",
    "independent_share",
    "rates",
]

#: The threshold laws, as the manifest schema names them (one list: ``ThresholdMethod``).
METHODS: tuple[str, ...] = get_args(ThresholdMethod)
#: Methods that need labelled validation anomalies.
LABELLED_METHODS = ("f1", "youden", "accuracy")
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


def _far_empirical(s: np.ndarray, target: float) -> float:
    """Smallest observed score ``t`` with ``mean(s > t) <= target`` (the plug-in quantile).

    ``s`` is sorted ascending (as in every ``_far_*`` helper).
    """
    # count(s > s[i]) <= n - i - 1 <= n * target; the tolerance absorbs the rounding of
    # n * (1 - target) (1/3 of 9 is 6.000000000000001), so the threshold is the smallest
    i = max(int(np.ceil(s.size * (1.0 - target) - 1e-12 * s.size)) - 1, 0)
    return float(s[i])


def _far_conformal(s: np.ndarray, target: float) -> float:
    """The ``ceil((n + 1)(1 - target))``-th smallest score (the max when that exceeds n).

    For exchangeable scores a new normal score exceeds it with probability at most
    ``target`` whenever ``target >= 1 / (n + 1)``; below that no observed score can
    promise the target and the max is returned. ``s`` is sorted ascending.
    """
    k = int(np.ceil((s.size + 1) * (1.0 - target) - 1e-12 * s.size))
    return float(s[min(max(k, 1), s.size) - 1])


def gpd_pwm(excess: np.ndarray) -> tuple[float, float]:
    """``(shape xi, scale sigma)`` of a generalized Pareto fit to excesses ``>= 0``.

    Probability-weighted moments (Hosking & Wallis 1987): closed form, stable on
    a few tens of points. ``xi`` is clipped to ``[-0.5, 0.5]`` (PWM is unreliable
    outside it, and a heavier fitted tail than 0.5 from a handful of points is
    mostly noise).
    """
    y = np.sort(np.asarray(excess, dtype=np.float64))
    m = y.size
    a0 = float(y.mean())
    a1 = float(np.sum(y * (m - 1 - np.arange(m)) / (m - 1)) / m)
    if not a0 > 0:
        return 0.0, 0.0
    d = a0 - 2.0 * a1
    # a GPD has a0 = sigma / (1 - xi), a1 = sigma / (2 (2 - xi)): a0 / (a0 - 2 a1) = 2 - xi
    xi = 0.5 if not d > 0 else float(np.clip(2.0 - a0 / d, -0.5, 0.5))
    return xi, a0 * (1.0 - xi)


def _far_tail(s: np.ndarray, target: float, independent: float = 1.0) -> float:
    """The peaks-over-threshold quantile: a generalized Pareto fit to the upper scores.

    The ``m = min(max(TAIL_POINTS, n/10), n/2)`` largest scores exceed the level
    ``u`` (the next one down); their excesses get a GPD (:func:`gpd_pwm`), its
    shape clipped at 0: never a lighter tail than the exponential, since a
    bounded fitted tail from a few tens of points extrapolates too low (at fewer
    than ``TAIL_MIN_GPD`` points the exponential itself, scale = mean excess).
    The threshold is the score the fitted tail exceeds with probability
    ``target``: ``u + sigma / xi * ((target n / m) ** -xi - 1)`` (``xi -> 0``:
    ``u + sigma ln(m / (target n))``). Never below the plug-in quantile
    (:func:`_far_empirical`), so the realised rate on the calibration scores stays
    <= target. ``s`` is sorted ascending.

    ``independent < 1``: the scores are that fraction of independent ones (windows
    overlapping by ``window - hop``: ``hop / window``), so the ``m`` tail points carry
    only ``m_eff = max(1, m * independent)`` points' worth of information and the fit's
    own error is no longer small. The threshold is then at least the *predictive*
    quantile of an exponential tail fitted on ``m_eff`` points: a new excess over ``u``
    exceeds ``c`` times the mean excess with probability ``(1 + c / m_eff) ** -m_eff``
    (exact for exponential excesses with the scale estimated from ``m_eff`` of them),
    ``(m + 1) / (n + 1)`` of new scores exceed ``u``, and the plug-in fit (the limit
    ``m_eff -> inf``) underestimates the rate by the convexity of the tail.
    """
    m = min(max(TAIL_POINTS, int(np.ceil(0.1 * s.size))), s.size // 2)
    u = float(s[s.size - m - 1])
    excess = s[s.size - m :] - u
    xi = max(gpd_pwm(excess)[0], 0.0) if m >= TAIL_MIN_GPD else 0.0
    sigma = float(excess.mean()) * (1.0 - xi)  # the GPD's mean excess is sigma / (1 - xi)
    ratio = target * s.size / m  # the tail probability at t relative to that at u
    if ratio >= 1.0:  # the target is not in the fitted tail
        return _far_conformal(s, target)
    if abs(xi) < 1e-9:
        t = u + sigma * float(np.log(1.0 / ratio))
    else:
        t = u + sigma / xi * (ratio ** (-xi) - 1.0)
    if independent < 1.0:
        m_eff = max(1.0, m * independent)
        r = target * (s.size + 1) / (m + 1)
        if r < 1.0:
            t = max(float(t), u + m_eff * float(excess.mean()) * (r ** (-1.0 / m_eff) - 1.0))
    return max(float(t), _far_empirical(s, target))


#: Per-item false-alarm fits (``choose_threshold(far_fit=...)``).
FAR_FITS = ("auto", "tail", "conformal", "empirical")
#: Upper scores in the tail fit (at least; n/10 when more).
TAIL_POINTS = 20
#: Fewer tail points than this fit an exponential tail instead of a GPD.
TAIL_MIN_GPD = 10
#: ``auto`` uses the conformal quantile once this many calibration scores are expected
#: above the threshold (``target * n``), the tail fit below.
CONFORMAL_MIN_ABOVE = 10
#: Fewer calibration scores than this: no tail to fit, the max (conformal) is used.
TAIL_MIN_SCORES = 6


def independent_share(span: int, hop: int) -> float:
    """The share of consecutive items that count as independent: ``min(1, hop / span)``.

    Items of ``span`` samples starting every ``hop`` samples (signal windows; stacked
    log-mel frames) share ``span - hop`` samples with the next one, so a run of ``n``
    of them holds about ``n * hop / span`` independent ones; ``hop >= span`` (no
    overlap) gives 1. The one rule every false-alarm fit on overlapping items uses
    (``far_threshold_sorted(independent=)``: calibration, int8 recalibration and the
    stream's running law). Raises InputError naming ``span`` or ``hop`` when not >= 1.
    """
    if not (isinstance(span, (int, np.integer)) and span >= 1):
        raise InputError(f"span: item length in samples must be an integer >= 1, got {span!r}")
    if not (isinstance(hop, (int, np.integer)) and hop >= 1):
        raise InputError(f"hop: item step in samples must be an integer >= 1, got {hop!r}")
    return min(1.0, int(hop) / int(span))


def far_threshold_sorted(
    s: np.ndarray, target: float, fit: str = "auto", *, independent: float = 1.0
) -> float:
    """The per-item false-alarm law ``fit`` on scores ``s`` already sorted ascending.

    What ``choose_threshold(s, "far", target_far=target, far_fit=fit)`` returns, without
    the sort and the checks: for callers that keep their scores sorted (the running
    :class:`~edgeae_runtime.scores.ScoreBaseline` re-applies the law every window). The
    law reads only the upper scores, so this costs O(1) (conformal) or O(tail points).

    ``independent`` in (0, 1]: the share of effectively independent scores (1: items;
    ``hop / window`` for overlapping stream windows). Below 1, ``auto`` counts
    ``target * n * independent`` expected independent scores above the threshold to pick
    the conformal quantile, and the tail fit is raised to its predictive quantile (see
    ``_far_tail``). At 1 (the default) the law is the calibrated one, unchanged.
    """
    if not 0 < independent <= 1:
        raise InputError(f"independent: a share in (0, 1], got {independent}")
    if fit == "empirical":
        return _far_empirical(s, target)
    if fit == "conformal":
        return _far_conformal(s, target)
    enough = target * s.size * independent >= CONFORMAL_MIN_ABOVE
    if fit == "auto" and (enough or s.size < TAIL_MIN_SCORES):
        return _far_conformal(s, target)
    if s.size < TAIL_MIN_SCORES:
        return _far_conformal(s, target)
    return _far_tail(s, target, independent)


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
    """F1-, Youden- or accuracy-optimal threshold; halfway to the next higher distinct score.

    Ties go to the lowest such threshold (the one flagging most), as for F1 and Youden.
    """
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
    elif method == "accuracy":
        objective = (tp + (n.size - fp)).astype(np.float64)
    else:
        objective = tp / a.size - fp / n.size
    j = int(np.argmax(objective))
    if j == 0:
        return float(cand[0] - max(abs(cand[0]) * 1e-6, 1e-12))
    lower = cand[j - 1]
    if j == cand.size:
        return float(lower)
    mid = (lower + cand[j]) / 2.0
    # Between two neighbouring floats (subnormals) the midpoint rounds onto one of them:
    # ``lower`` itself flags exactly the scores counted (score > threshold).
    return float(mid if lower <= mid < cand[j] else lower)


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
    far_fit: str = "auto",
    independent: float = 1.0,
) -> float:
    """The threshold of ``method`` on normal (and, for f1/youden/accuracy, anomalous) scores.

    ``normal`` must be in time order for ``far_per="hour"``, which also needs the
    calibration stream's duration ``hours`` and ``count_events(scores, t)`` (the
    event rule). ``far_fit`` picks the per-item false-alarm law: ``auto`` (what the
    manifest's ``far`` means) is the conformal quantile when at least
    ``CONFORMAL_MIN_ABOVE`` calibration scores are expected above the threshold, the
    generalized Pareto tail fit below that (fewer than ``TAIL_MIN_SCORES`` scores: the
    max); ``tail`` and ``conformal`` force one; ``empirical`` is the plug-in quantile
    (before 2026-12: the law of ``far``). ``independent`` in (0, 1]: the share of the
    normal scores that are independent (:func:`independent_share` for overlapping
    windows; 1 for separate items), used by the per-item false-alarm law only (see
    :func:`far_threshold_sorted`). Raises InputError naming the parameter that is
    missing or out of range.
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
            if far_fit not in FAR_FITS:
                raise InputError(f"far_fit: must be one of {', '.join(FAR_FITS)}, got {far_fit!r}")
            return far_threshold_sorted(np.sort(n), target_far, far_fit, independent=independent)
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
        text = {
            "f1": "F1-optimal",
            "youden": "Youden-optimal",
            "accuracy": "accuracy-optimal",
        }.get(m, m)
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
    if getattr(spec, "baseline_windows", 0):
        rule.append(f"stream baseline {spec.baseline_windows} windows")
    if rule:
        text += "; " + ", ".join(rule)
    if getattr(spec, "clip_threshold", None) is not None:
        text += f"; clip threshold {spec.clip_threshold:.4g} ({spec.clip_normal} held-out clips"
        text += f", {spec.clip_anomalies} anomalous)" if spec.clip_anomalies else ")"
    return text
