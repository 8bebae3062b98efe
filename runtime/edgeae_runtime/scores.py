"""The anomaly score law: per-item reconstruction errors -> scores, and its calibration.

One implementation for everyone who scores or calibrates (the runtime's Model and
scorers, the trainer, the quantizer's recalibration, benchmarks). With
``tails="upper"`` the score is the error itself: only errors above normal count.
With ``tails="both"`` the score is ``|ln(error + LOG_EPS) - center|``, where
``center`` is the median log error of held-out normal items: a window
reconstructed far *better* than any normal one (a dead sensor) is as atypical as
one reconstructed far worse. Either way an item is anomalous when
``score > threshold``, the threshold chosen by a law of
:mod:`edgeae_runtime.operating_point` (by default a percentile of normal items' scores).

With ``baseline_windows > 0`` (opt-in) the score is then standardized, ``(score -
baseline_center) / baseline_scale`` with the median and the upper spread (``(q90 -
median) / 1.2816``, a standard deviation for normal scores) of the normal calibration
scores, and the threshold is in those units. A stream
(:class:`~edgeae_runtime.StreamScorer`) goes further: once it has seen enough windows it
re-estimates median and spread over its own last ``baseline_windows`` windows
(:class:`ScoreBaseline`, causal: a window is standardized against the ones before it),
so a slow drift of the score level or spread, which moves every raw score past a fixed
threshold, does not.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import InputError
from .events import EventRule, detect_events
from .manifest import AnomalySpec, LogMelSpec, SensorLogSpec, SignalSpec, WindowSpec
from .operating_point import (
    FAR_UNITS,
    METHODS,
    choose_threshold,
    far_threshold_sorted,
    independent_share,
    rates,
)

__all__ = [
    "LOG_EPS",
    "MAD_TO_STD",
    "SCORE_KINDS",
    "TAILS",
    "ScoreBaseline",
    "anomaly_scores",
    "baseline_for",
    "baseline_scores",
    "calibrate_anomaly",
    "calibrate_clips",
    "clip_scores",
    "item_independence",
]

#: Added to errors before the log of the two-sided score, so a perfect
#: reconstruction (error 0) scores finitely (ln 1e-12 = -27.6).
LOG_EPS = 1e-12
TAILS = ("upper", "both")
SCORE_KINDS = ("mse", "mae")
#: Fewest held-out normal clips a clip-level threshold is calibrated on.
CLIP_MIN = 6
#: MAD * 1.4826 estimates the standard deviation of normally distributed scores.
MAD_TO_STD = 1.4826
#: (q90 - median) / 1.2816 does too, from the upper half only.
Q90_TO_STD = 1.2816


def _robust_center_scale(x: np.ndarray) -> tuple[float, float]:
    """Median and upper spread ``(q90 - median) / 1.2816`` of scores (never 0).

    Anomaly scores are one-sided: false alarms come from the upper tail, so the
    scale is measured there (a standard deviation for normal scores; robust while
    anomalies are under 10 % of the scores). Falls back to MAD * 1.4826, the std,
    then 1e-6 * max(|median|, 1) when the upper spread is 0.
    """
    center = float(np.median(x))
    scale = (float(np.quantile(x, 0.9)) - center) / Q90_TO_STD
    if not scale > 0:
        scale = MAD_TO_STD * float(np.median(np.abs(x - center)))
    if not scale > 0:
        scale = float(np.std(x))
    if not scale > 0:
        scale = max(abs(center), 1.0) * 1e-6
    return center, scale


def _check_errors(errors: Any, what: str) -> np.ndarray:
    arr = np.asarray(errors, dtype=np.float64)
    if arr.ndim != 1:
        raise InputError(f"{what}: expected one error per item (1-D), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError(f"{what}: item {int(np.flatnonzero(~np.isfinite(arr))[0])} is not finite")
    if (arr < 0).any():
        raise InputError(f"{what}: item {int(np.flatnonzero(arr < 0)[0])} is negative")
    return arr


def anomaly_scores(errors: Any, spec: AnomalySpec) -> np.ndarray:
    """Per-item anomaly scores (float32) of per-item errors ``(N,)`` under ``spec``'s law."""
    return score_law(_check_errors(errors, "anomaly_scores errors"), spec)


def score_law(e: np.ndarray, spec: AnomalySpec) -> np.ndarray:
    """:func:`anomaly_scores` of errors already known 1-D, finite and non-negative (the
    runtime's own, from :func:`~edgeae_runtime.metrics.per_item_error`): no second pass
    over them, and none at all for the default law (upper tail, no baseline)."""
    if spec.tails == "upper" and spec.baseline_windows <= 0:
        return e.astype(np.float32, copy=False)
    e = np.asarray(e, dtype=np.float64)
    if spec.tails == "upper":
        s = e
    elif spec.tails == "both":
        s = np.abs(np.log(e + LOG_EPS) - spec.center)
    else:
        raise InputError(f"anomaly tails: must be one of {', '.join(TAILS)}, got {spec.tails!r}")
    if spec.baseline_windows > 0:
        s = (s - spec.baseline_center) / spec.baseline_scale
    return s.astype(np.float32)


def _sorted_quantile(s: np.ndarray, n: int, q: float) -> float:
    """``np.quantile(x, q)`` (linear) of the ``n`` sorted scores ``s[:n]``, bit for bit.

    numpy's own steps: virtual index ``(n - 1) q``, its floor and the next index
    (both the last when past the end), and its two-sided lerp.
    """
    v = (n - 1) * q
    lo = int(np.floor(v))
    if v >= n - 1:
        return float(s[n - 1])
    a, b = float(s[lo]), float(s[lo + 1])
    g = v - lo
    d = b - a
    return b - d * (1 - g) if g >= 0.5 else a + d * g


def _sorted_center_scale(s: np.ndarray, n: int) -> tuple[float, float]:
    """:func:`_robust_center_scale` of the ``n`` sorted scores ``s[:n]`` (the same values).

    Median and q90 are read off the sorted scores in O(1); only the fallbacks of a
    zero upper spread (ties) look at every score.
    """
    k = n // 2
    center = float(s[k]) if n % 2 else (float(s[k - 1]) + float(s[k])) / 2.0
    scale = (_sorted_quantile(s, n, 0.9) - center) / Q90_TO_STD
    if scale > 0:
        return center, scale
    return _robust_center_scale(s[:n])


class ScoreBaseline:
    """Causal re-standardization of a stream's scores against its own recent past.

    Scores arrive standardized by the calibration's median and spread (the manifest's
    ``baseline_center``/``baseline_scale``; :func:`anomaly_scores`). Each window is
    standardized again by the median and upper spread (``(q90 - median) / 1.2816``) of
    the last ``windows`` scores *before* it (once at least ``min_windows`` of them are
    in, by default ``max(8, windows / 4)``, at most ``windows``; until then it is left as
    is): on stationary normal data that is close to the
    identity, under drift it follows the stream. An anomaly shorter than a tenth of the
    window moves neither much, so it still stands out; a longer one raises the scale for
    a while. Offline twin: :func:`baseline_scores`.

    With ``law`` (a function of the past scores, given *sorted ascending*, returning a
    threshold ``L``: a threshold law does not depend on their order) and the calibrated
    ``threshold`` ``T``, a window is above ``T`` exactly when it is above ``L`` on the
    windows before it, so the law's rate holds on the recent past, not only on the
    calibration data (:func:`baseline_for` uses it for ``method: far`` per item): the
    spread is ``(L - median) / T`` when ``T > 0`` and ``L > median``, else (a
    calibration on tied scores gives ``T = 0``; a past whose law sits at its median)
    the window is shifted instead, centre ``L - T * spread`` with the upper spread. The
    price: alarms enter the past too, so a sustained anomaly raises the law's
    threshold and is flagged only at its start.

    Cost per window: the past is kept sorted (a binary search and one block move to
    drop the oldest score and insert the newest), so median and q90 are read in O(1)
    and a law reading the upper scores
    (:func:`~edgeae_runtime.operating_point.far_threshold_sorted`) costs O(its tail
    points), not a sort of the whole past.
    """

    def __init__(
        self,
        windows: int,
        *,
        min_windows: int | None = None,
        law: Callable[[np.ndarray], float] | None = None,
        threshold: float | None = None,
    ) -> None:
        if windows < 1:
            raise InputError(f"baseline windows: must be >= 1, got {windows}")
        self.windows = int(windows)
        self.law = law if threshold is not None and np.isfinite(threshold) else None
        self.threshold = threshold
        default = min(self.windows, max(8, self.windows // 4))  # a baseline under 8 windows
        self.min_windows = default if min_windows is None else int(min_windows)
        if not 1 <= self.min_windows <= self.windows:
            raise InputError(
                f"baseline min_windows: must be in 1..{self.windows}, got {self.min_windows}"
            )
        self.reset()

    def reset(self) -> None:
        """Forget the past (a new stream)."""
        self._past: deque[float] = deque(maxlen=self.windows)
        self._sorted = np.empty(self.windows, dtype=np.float64)

    def _center_scale(self, s: np.ndarray) -> tuple[float, float]:
        """Centre and spread of the sorted past ``s``."""
        center, scale = _sorted_center_scale(s, s.size)
        if self.law is not None:
            limit, t = float(self.law(s)), float(self.threshold)  # type: ignore[arg-type]
            if t > 0 and limit > center:
                return center, (limit - center) / t
            return limit - t * scale, scale
        return center, scale

    def _push(self, v: float) -> None:
        """Append ``v`` to the past: drop the oldest score from the sorted copy, insert ``v``."""
        n, buf = len(self._past), self._sorted
        if n == self.windows:
            old = self._past[0]
            j = int(np.searchsorted(buf[:n], old))
            buf[j : n - 1] = buf[j + 1 : n]
            n -= 1
        i = int(np.searchsorted(buf[:n], v, side="right"))
        buf[i + 1 : n + 1] = buf[i:n]
        buf[i] = v
        self._past.append(v)

    def update(self, scores: np.ndarray) -> np.ndarray:
        """Re-standardized scores (float32) of the next windows, in time order."""
        sc = np.asarray(scores, dtype=np.float64).reshape(-1)
        if not np.isfinite(sc).all():
            raise InputError("baseline scores: must be finite")
        out = np.empty(sc.size, dtype=np.float64)
        for i, v in enumerate(sc.tolist()):
            n = len(self._past)
            if n >= self.min_windows:
                center, scale = self._center_scale(self._sorted[:n])
                out[i] = (v - center) / scale
            else:
                out[i] = v
            self._push(v)
        return out.astype(np.float32)


def item_independence(framing: Any) -> float:
    """The share of a model's consecutive items that are independent (1: separate items).

    ``framing`` is a Manifest (or an object with the same ``signal``, ``features``,
    ``sensorlog``, ``windows`` and ``item_shape``: what the trainer's manifest will
    record), so the trainer's calibration, the int8 recalibration and the streams count
    alike: stacked log-mel items of ``n_fft + (frames - 1) * hop`` samples every ``hop``
    (``features``), sensor-log windows of the item length every ``sensorlog.hop``,
    signal windows of ``signal.window`` every ``signal.hop``, and windows of a signal the
    manifest has no ``signal`` section for (flat NF windows; no sample rate) of
    ``windows.window`` every ``windows.hop``:
    :func:`~edgeae_runtime.operating_point.independent_share`. Anything else (images,
    feature vectors, beats, clips) is 1.
    """
    features = getattr(framing, "features", None)
    if isinstance(features, LogMelSpec):
        span = features.n_fft + (features.frames - 1) * features.hop
        return independent_share(int(span), int(features.hop))
    log = getattr(framing, "sensorlog", None)
    if isinstance(log, SensorLogSpec) and getattr(framing, "item_shape", None):
        return independent_share(int(framing.item_shape[-1]), int(log.hop))
    signal = getattr(framing, "signal", None)
    if isinstance(signal, SignalSpec):
        return independent_share(int(signal.window), int(signal.hop))
    windows = getattr(framing, "windows", None)
    if isinstance(windows, WindowSpec):
        return independent_share(int(windows.window), int(windows.hop))
    return 1.0


def baseline_for(spec: AnomalySpec, *, independent: float = 1.0) -> ScoreBaseline | None:
    """The running baseline of ``spec`` (None when ``baseline_windows`` is 0).

    For ``method: far`` per item the stream re-applies that false-alarm law to its
    own last windows (``ScoreBaseline(law=...)``, on the sorted past) as soon as it
    has as many of them as the calibration had (``val_normal``, at least 8, at most
    ``baseline_windows``): from then on the stream's own past is at least as
    informative as the calibration data, and closer in time. ``independent`` (``hop /
    window`` for overlapping windows; :class:`~edgeae_runtime.StreamScorer` passes it)
    tells the law how many of those windows are independent
    (:func:`~edgeae_runtime.operating_point.far_threshold_sorted`). Every other method
    re-standardizes by median and upper spread.
    """
    if spec.baseline_windows <= 0:
        return None
    if spec.method == "far" and spec.far_per == "item":
        target = spec.target_far

        def law(past: np.ndarray) -> float:
            return far_threshold_sorted(past, target, independent=independent)

        warm = min(spec.baseline_windows, max(8, spec.val_normal))
        return ScoreBaseline(
            spec.baseline_windows, min_windows=warm, law=law, threshold=spec.threshold
        )
    return ScoreBaseline(spec.baseline_windows)


def baseline_scores(scores: Any, spec: AnomalySpec, *, independent: float = 1.0) -> np.ndarray:
    """A stream's window scores (in time order) after the spec's running baseline.

    The identity when ``spec.baseline_windows`` is 0; else what
    :class:`~edgeae_runtime.StreamScorer` computes window by window (``independent``:
    its ``hop / window``, see :func:`baseline_for`).
    """
    sc = np.asarray(scores, dtype=np.float32).reshape(-1)
    baseline = baseline_for(spec, independent=independent)
    return sc if baseline is None else baseline.update(sc)


def calibrate_anomaly(
    errors: Any,
    percentile: float = 99.0,
    tails: str = "upper",
    score: str = "mse",
    *,
    calibrated_on: str = "",
    method: str = "percentile",
    k: float = 3.0,
    target_far: float = 0.01,
    far_per: str = "item",
    anomaly_errors: Any = None,
    events: Any = None,
    window_hours: float | None = None,
    template: AnomalySpec | None = None,
    independent: float = 1.0,
) -> AnomalySpec:
    """The AnomalySpec calibrated on normal items' errors: center, then threshold by ``method``.

    ``center`` is the median of ``ln(error + LOG_EPS)`` of the normal errors for
    ``tails="both"`` (0 for ``"upper"``). The threshold comes from the law
    ``method`` of :func:`~edgeae_runtime.operating_point.choose_threshold` on the
    normal scores (``percentile``, ``k``, ``target_far``/``far_per``), and, for
    ``f1``/``youden``, the scores of ``anomaly_errors`` (labelled validation
    anomalies). ``events`` (an AnomalySpec or None) supplies the stream event law
    kept in the result (with its ``baseline_windows``: then the scores are
    standardized by the normal scores' median and upper spread, recorded as
    ``baseline_center``/``baseline_scale``, before the threshold law) and used by
    ``far_per="hour"``, which also needs
    ``window_hours`` (the duration of one hop) and the normal errors in time order.
    ``template`` (e.g. the float model's spec when recalibrating int8) gives every
    one of these settings at once; explicit arguments are then ignored, and its
    ``clip_threshold`` is kept as it is (items carry no clip ids here). The
    rates at the chosen threshold go in ``val_tpr``/``val_fpr``. ``independent``
    (not part of the spec: the manifest's framing gives it, :func:`item_independence`)
    is the share of the normal items that are independent (consecutive overlapping
    windows: ``hop / window``; 1 for separate items), which the per-item false-alarm
    law counts (:func:`~edgeae_runtime.operating_point.far_threshold_sorted`).
    """
    if template is not None:
        percentile, tails, score = template.percentile, template.tails, template.score
        method, k = template.method, template.k
        target_far, far_per = template.target_far, template.far_per
        events = template
    e = _check_errors(errors, "calibration errors")
    if e.size == 0:
        raise InputError("calibration errors: no normal items to calibrate the threshold on")
    if tails not in TAILS:
        raise InputError(f"tails: must be one of {', '.join(TAILS)}, got {tails!r}")
    if score not in SCORE_KINDS:
        raise InputError(f"score: must be one of {', '.join(SCORE_KINDS)}, got {score!r}")
    if method not in METHODS:
        raise InputError(f"threshold method: must be one of {', '.join(METHODS)}, got {method!r}")
    if far_per not in FAR_UNITS:
        raise InputError(f"far_per: must be one of {', '.join(FAR_UNITS)}, got {far_per!r}")
    a = None
    if anomaly_errors is not None:
        a = _check_errors(anomaly_errors, "calibration anomaly errors")
    center = float(np.median(np.log(e + LOG_EPS))) if tails == "both" else 0.0
    event_fields = {}
    if events is not None:
        event_fields = {
            "hysteresis": events.hysteresis,
            "vote_k": events.vote_k,
            "vote_n": events.vote_n,
            "min_windows": events.min_windows,
            "baseline_windows": events.baseline_windows,
        }
    spec = AnomalySpec(
        score=score,  # type: ignore[arg-type]
        percentile=float(percentile),
        calibrated_on=calibrated_on,
        tails=tails,  # type: ignore[arg-type]
        center=center,
        method=method,  # type: ignore[arg-type]
        k=float(k),
        target_far=float(target_far),
        far_per=far_per,  # type: ignore[arg-type]
        **event_fields,
    )
    if spec.baseline_windows > 0:  # standardize by the normal scores' median and spread
        center_, scale_ = _robust_center_scale(
            anomaly_scores(e, dataclasses.replace(spec, baseline_windows=0)).astype(np.float64)
        )
        spec = dataclasses.replace(spec, baseline_center=center_, baseline_scale=scale_)
    normal = anomaly_scores(e, spec)
    anomalous = anomaly_scores(a, spec) if a is not None else None
    hours = None if window_hours is None else float(window_hours) * normal.size

    def count_events(s: np.ndarray, t: float) -> int:
        return len(detect_events(s, EventRule.from_spec(spec, t))[1])

    threshold = choose_threshold(
        normal,
        method,
        anomalous=anomalous if anomalous is not None and anomalous.size else None,
        percentile=percentile,
        k=k,
        target_far=target_far,
        far_per=far_per,
        hours=hours,
        count_events=count_events,
        independent=independent,
    )
    r = rates(normal, anomalous, threshold)
    if template is not None:
        # no clip ids here: the clip threshold is kept (recalibrate with calibrate_clips)
        spec = dataclasses.replace(
            spec,
            clip_threshold=template.clip_threshold,
            clip_normal=template.clip_normal,
            clip_anomalies=template.clip_anomalies,
        )
    return dataclasses.replace(
        spec,
        threshold=threshold,
        val_tpr=r.tpr,
        val_fpr=r.fpr,
        val_normal=r.normal,
        val_anomalies=r.anomalies,
    )


def clip_scores(item_scores: Any, clip_ids: Any, reduce: str = "mean") -> np.ndarray:
    """One score per clip (in order of first appearance): the ``reduce`` of its items'."""
    from .logmel import clip_score

    sc = np.asarray(item_scores, dtype=np.float64).reshape(-1)
    ids = np.asarray(clip_ids).reshape(-1)
    if ids.shape != sc.shape:
        raise InputError(f"clip ids: one per item score, got {ids.size} for {sc.size}")
    _, first = np.unique(ids, return_index=True)
    order = ids[np.sort(first)]
    return np.array([clip_score(sc[ids == c], reduce) for c in order], dtype=np.float64)


def calibrate_clips(
    spec: AnomalySpec,
    errors: Any,
    clip_ids: Any,
    reduce: str = "mean",
    *,
    anomaly_errors: Any = None,
    anomaly_clip_ids: Any = None,
) -> AnomalySpec:
    """``spec`` with ``clip_threshold``: its own threshold law on held-out clip scores.

    A clip's score is the ``reduce`` (mean or max) of its items' scores under ``spec``
    (:func:`clip_scores`); the law and parameters are ``spec``'s (``far`` per item
    becomes per clip: few held-out clips give the tail fit or, under 6, the max; see
    :mod:`~edgeae_runtime.operating_point`), F1/Youden on the labelled anomalous clips.
    A per-hour false-alarm law has no clip form: then the clip threshold is the 99th
    percentile of the normal clip scores. With fewer than ``CLIP_MIN`` normal clips no
    clip threshold is set (``clip_threshold`` None: clip verdicts use the item
    threshold): the max of one or two clip scores flags every clip above them. The item
    threshold stays as it was.
    """
    normal = clip_scores(anomaly_scores(_check_errors(errors, "clip errors"), spec), clip_ids,
                         reduce)  # fmt: skip
    if normal.size == 0:
        raise InputError("clip calibration: no normal clips")
    anomalous = None
    if anomaly_errors is not None and np.asarray(anomaly_errors).size:
        anomalous = clip_scores(
            anomaly_scores(_check_errors(anomaly_errors, "clip anomaly errors"), spec),
            anomaly_clip_ids,
            reduce,
        )
    if normal.size < CLIP_MIN:
        return dataclasses.replace(
            spec, clip_threshold=None, clip_normal=int(normal.size), clip_anomalies=0
        )
    method = spec.method
    if method == "far" and spec.far_per == "hour":
        method = "percentile"
    t = choose_threshold(
        normal,
        method,
        anomalous=anomalous,
        percentile=spec.percentile if spec.method != "far" else 99.0,
        k=spec.k,
        target_far=spec.target_far,
    )
    return dataclasses.replace(
        spec,
        clip_threshold=float(t),
        clip_normal=int(normal.size),
        clip_anomalies=0 if anomalous is None else int(anomalous.size),
    )
