"""Shared parts of the anomaly benchmark (bench_anomaly.py): data paths, the threshold
methods and false-alarm laws compared, export + int8, and the operating-point helpers
every part uses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from edgeae.train import (
    load_checkpoint,
)
from edgeae_export import QuantizeRequest, Validation, export_autoencoder, quantize_model
from edgeae_export.sampling import EXPORT_SAMPLES, sample_items
from edgeae_runtime.operating_point import LABELLED_METHODS, choose_threshold
from edgeae_runtime.preprocess import normalize
from edgeae_runtime.scores import (
    anomaly_scores,
    calibrate_anomaly,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data"
NAB = SHARED / "timeseries" / "nab"
DCASE = SHARED / "machine" / "dcase2020_task2_id00"
MIMII = SHARED / "machine" / "mimii_fan_8ch"
SENSOR = "builtin:sensor"
METHODS = {
    "percentile 99": {"method": "percentile", "percentile": 99.0},
    "mean + 3 std": {"method": "mean_std", "k": 3.0},
    "FAR 1 %/item": {"method": "far", "target_far": 0.01},
    "FAR 0.1 %/item": {"method": "far", "target_far": 0.001},
    "F1-optimal": {"method": "f1"},
    "Youden": {"method": "youden"},
    "accuracy-optimal": {"method": "accuracy"},
}
PERCENTILE99 = {"method": "percentile", "percentile": 99.0}
FAR_TARGETS = (0.01, 0.001)
BLOCK = 32
#: the false-alarm laws compared: name -> (far_fit, counts overlapping windows as
#: hop / window independent ones); "windows independent" is the calibration before 2026-12-02
FAR_LAWS = {
    "plug-in (old)": ("empirical", False),
    "tail / conformal, windows independent": ("auto", False),
    "tail / conformal (new)": ("auto", True),
}
#: builtin:sensor's long clean stream: fresh noise seeds of the same machine, seconds each
SENSOR_LONG_SEEDS = (101, 102, 103, 104)
SENSOR_LONG_SECONDS = 1800.0
#: the law over calibrations: contiguous calibration stretches drawn from the long stream's
#: first half (seeds 101, 102), realised on its second half (103, 104)
SENSOR_LAW_DRAWS = 200


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def to_onnx(
    run: Path, calib_raw: np.ndarray, out: Path, val: Validation | None
) -> tuple[Path, Path]:
    """Export a run and quantize it (static int8, no speed gate): (float, int8) model paths."""
    ck = load_checkpoint(run)
    export_autoencoder(
        ck.model,
        out_dir=out,
        example_inputs=normalize(sample_items(calib_raw, EXPORT_SAMPLES), ck.preprocessing),
        info=ck.export_info(),
        force=True,
    )
    q = out / "model.int8.onnx"
    quantize_model(
        QuantizeRequest(
            model_path=out / "model.onnx",
            out_path=q,
            calibration=calib_raw,
            validation=val,
            speed_gate=False,
            force=True,
        )
    )
    return out / "model.onnx", q


def rate_ci(fp: int, n: int, independent: float = 1.0, level: float = 0.95) -> list[float]:
    """Clopper-Pearson interval of a false-alarm rate ``fp / n`` on the effective count.

    Overlapping windows are not independent trials: ``n`` windows of which ``hop /
    window`` are independent carry about ``n * independent`` trials' worth (and their
    alarms come in runs), so the interval is the exact binomial one of ``fp *
    independent`` alarms in ``n * independent`` trials (beta quantiles take
    non-integer counts).
    """
    from scipy.stats import beta

    k, m = fp * independent, n * independent
    if m <= 0:
        return [0.0, 1.0]
    a = (1.0 - level) / 2.0
    lo = 0.0 if k <= 0 else float(beta.ppf(a, k, m - k + 1))
    hi = 1.0 if k >= m else float(beta.ppf(1.0 - a, k + 1, m - k))
    return [lo, hi]


def far_threshold(scores: np.ndarray, target: float, law: str, independent: float) -> float:
    """The threshold of ``FAR_LAWS[law]`` on calibration scores of windows ``independent``."""
    fit, counts = FAR_LAWS[law]
    share = independent if counts else 1.0
    return choose_threshold(scores, "far", target_far=target, far_fit=fit, independent=share)


def at_point(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, F1, TPR, FPR of ``score > threshold``."""
    y = labels > 0
    f = scores > threshold
    tp, fp = int(np.sum(f & y)), int(np.sum(f & ~y))
    fn, tn = int(np.sum(~f & y)), int(np.sum(~f & ~y))
    return {
        "accuracy": (tp + tn) / max(y.size, 1),
        "f1": 2 * tp / max(2 * tp + fp + fn, 1),
        "tpr": tp / max(tp + fn, 1),
        "fpr": fp / max(fp + tn, 1),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def best_accuracy_counts(scores: np.ndarray, labels: np.ndarray) -> int:
    """Most correct decisions any single threshold makes on these scores (the oracle)."""
    y = labels > 0
    order = np.argsort(scores, kind="mergesort")
    s, yy = scores[order], y[order]
    # threshold below everything: all flagged -> correct = positives
    pos_below = np.cumsum(yy)  # positives at or below index i (not flagged)
    neg_below = np.cumsum(~yy)
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # distinct cut points
    correct = neg_below[last] + (yy.sum() - pos_below[last])
    return int(max(int(yy.sum()), int(correct.max())))


def blocks(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Even / odd blocks of ``BLOCK`` consecutive items: (validation, test) index arrays."""
    b = (np.arange(n) // BLOCK) % 2
    return np.flatnonzero(b == 0), np.flatnonzero(b == 1)


def method_points(
    cal_err: np.ndarray,
    val_err: np.ndarray,
    val_y: np.ndarray,
    test_err: np.ndarray,
    test_y: np.ndarray,
    tails: str,
    independent: float = 1.0,
) -> dict[str, dict[str, Any]]:
    """Every threshold method calibrated (runtime law; ``independent``: the items' share of
    independent ones, as the trainer counts them) and measured on the test items."""
    out: dict[str, dict[str, Any]] = {}
    for name, kw in METHODS.items():
        labelled = kw["method"] in LABELLED_METHODS
        if labelled and not (val_y > 0).any():
            continue
        normal = val_err[val_y == 0] if labelled else cal_err
        spec = calibrate_anomaly(
            normal,
            tails=tails,
            anomaly_errors=val_err[val_y > 0] if labelled else None,
            independent=independent,
            **kw,
        )
        scores = anomaly_scores(test_err, spec)
        out[name] = {"threshold": spec.threshold, **at_point(scores, test_y, spec.threshold)}
    return out
