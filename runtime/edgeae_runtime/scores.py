"""The anomaly score law: per-item reconstruction errors -> scores, and its calibration.

One implementation for everyone who scores or calibrates (the runtime's Model and
scorers, the trainer, the quantizer's recalibration, benchmarks). With
``tails="upper"`` the score is the error itself: only errors above normal count.
With ``tails="both"`` the score is ``|ln(error + LOG_EPS) - center|``, where
``center`` is the median log error of held-out normal items: a window
reconstructed far *better* than any normal one (a dead sensor) is as atypical as
one reconstructed far worse. Either way an item is anomalous when
``score > threshold``, the threshold being a percentile of normal items' scores.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .errors import InputError
from .manifest import AnomalySpec

__all__ = ["LOG_EPS", "SCORE_KINDS", "TAILS", "anomaly_scores", "calibrate_anomaly"]

#: Added to errors before the log of the two-sided score, so a perfect
#: reconstruction (error 0) scores finitely (ln 1e-12 = -27.6).
LOG_EPS = 1e-12
TAILS = ("upper", "both")
SCORE_KINDS = ("mse", "mae")


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
    e = _check_errors(errors, "anomaly_scores errors")
    if spec.tails == "upper":
        return e.astype(np.float32)
    if spec.tails == "both":
        return np.abs(np.log(e + LOG_EPS) - spec.center).astype(np.float32)
    raise InputError(f"anomaly tails: must be one of {', '.join(TAILS)}, got {spec.tails!r}")


def calibrate_anomaly(
    errors: Any,
    percentile: float = 99.0,
    tails: str = "upper",
    score: str = "mse",
    *,
    calibrated_on: str = "",
) -> AnomalySpec:
    """The AnomalySpec calibrated on normal items' errors: center, then threshold.

    ``center`` is the median of ``ln(error + LOG_EPS)`` for ``tails="both"`` (0 for
    ``"upper"``); ``threshold`` is the ``percentile`` of the resulting scores.
    """
    e = _check_errors(errors, "calibration errors")
    if e.size == 0:
        raise InputError("calibration errors: no normal items to calibrate the threshold on")
    if tails not in TAILS:
        raise InputError(f"tails: must be one of {', '.join(TAILS)}, got {tails!r}")
    if score not in SCORE_KINDS:
        raise InputError(f"score: must be one of {', '.join(SCORE_KINDS)}, got {score!r}")
    if not 0 < percentile <= 100:
        raise InputError(f"percentile: must be in (0, 100], got {percentile}")
    center = float(np.median(np.log(e + LOG_EPS))) if tails == "both" else 0.0
    spec = AnomalySpec(
        score=score,  # type: ignore[arg-type]
        percentile=float(percentile),
        calibrated_on=calibrated_on,
        tails=tails,  # type: ignore[arg-type]
        center=center,
    )
    threshold = float(np.percentile(anomaly_scores(e, spec), percentile))
    return dataclasses.replace(spec, threshold=threshold)
