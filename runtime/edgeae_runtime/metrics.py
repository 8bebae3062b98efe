"""Quality metrics in numpy: the one implementation the trainer, exporter, codec and compare use.

All functions take raw-unit arrays whose first axis is the item axis (or a
single signal) and return plain floats or per-item arrays, so a metric means
the same thing on the host and on the device.

PSNR has one peak rule, :func:`psnr_peak`: the width of the model's declared
raw value range (``manifest.preprocessing.value_range``, the range seen in
training; 255 for 8-bit pixels) when it has one, else the reference's
peak-to-peak. The trainer, ``edgeae compare``, the quantizer's budget and the
benchmarks all pass ``data_range=psnr_peak(value_range)``, so the
same model on the same data gets the same PSNR everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError

__all__ = [
    "auroc",
    "mae",
    "mse",
    "pauc",
    "per_item_error",
    "precision_recall_f1",
    "psnr",
    "psnr_peak",
    "roc_curve",
    "si_snr_db",
    "snr_db",
    "ssim",
]


def _pair(a: Any, b: Any, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of one shape, not empty (``dtype=None``: as given, no copy)."""
    a = np.asarray(a, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    if a.shape != b.shape:
        raise InputError(f"metric inputs differ in shape: {a.shape} vs {b.shape}")
    if a.size == 0:
        raise InputError("metric inputs are empty")
    return a, b


def mse(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean squared error over all values."""
    a, b = _pair(reference, estimate)
    return float(np.mean((a - b) ** 2))


def mae(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean absolute error over all values."""
    a, b = _pair(reference, estimate)
    return float(np.mean(np.abs(a - b)))


def per_item_error(reference: np.ndarray, estimate: np.ndarray, kind: str = "mse") -> np.ndarray:
    """Per-item error (axis 0 is the item axis): ``"mse"`` or ``"mae"``."""
    if kind not in ("mse", "mae"):
        raise InputError(f"unknown error kind {kind!r}: use 'mse' or 'mae'")
    a, b = _pair(reference, estimate, None)
    # float64 as np.mean((a - b) ** 2, axis=1) on float64 copies, in fewer passes: this
    # runs once per scored batch, and at batch 1 each pass costs microseconds
    diff = np.subtract(a, b, dtype=np.float64).reshape(a.shape[0], -1)
    (np.square if kind == "mse" else np.abs)(diff, out=diff)
    return np.add.reduce(diff, axis=1) / diff.shape[1]


def psnr_peak(value_range: tuple[float, float] | None) -> float | None:
    """THE PSNR peak: ``value_range``'s width when given and positive, else None
    (then :func:`psnr` uses the reference's peak-to-peak)."""
    if value_range is not None and float(value_range[1]) > float(value_range[0]):
        return float(value_range[1]) - float(value_range[0])
    return None


def psnr(reference: np.ndarray, estimate: np.ndarray, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB; ``data_range`` defaults to the reference's peak-to-peak
    (pass :func:`psnr_peak` of the model's value range: the module's one peak rule)."""
    a, b = _pair(reference, estimate)
    peak = float(np.ptp(a)) if data_range is None else float(data_range)
    err = float(np.mean((a - b) ** 2))
    if err == 0.0:
        return float("inf")
    if peak <= 0.0:
        raise InputError("psnr: the reference is constant; give data_range explicitly")
    return float(10.0 * np.log10(peak**2 / err))


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Signal-to-noise ratio in dB: reference power over error power."""
    a, b = _pair(reference, estimate)
    noise = float(np.sum((a - b) ** 2))
    signal = float(np.sum(a**2))
    if noise == 0.0:
        return float("inf")
    if signal == 0.0:
        return float("-inf")
    return float(10.0 * np.log10(signal / noise))


def si_snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant SNR in dB of one signal (all values; Le Roux et al., ICASSP 2019).

    Both are made zero-mean; the estimate is projected on the reference,
    ``s_t = (<e, r> / <r, r>) r``, and ``10 log10(|s_t|^2 / |e - s_t|^2)`` is
    returned. A gain on the estimate does not change it; a silent reference
    raises :class:`InputError`.
    """
    a, b = _pair(reference, estimate)
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    ref_power = float(np.dot(a, a))
    if ref_power == 0.0:
        raise InputError("si_snr_db: the reference is silent (constant)")
    target = (float(np.dot(b, a)) / ref_power) * a
    noise = float(np.sum((b - target) ** 2))
    power = float(np.dot(target, target))
    if power == 0.0:  # a silent (or orthogonal) estimate holds none of the reference
        return float("-inf")
    if noise == 0.0:
        return float("inf")
    return float(10.0 * np.log10(power / noise))


def ssim(reference: np.ndarray, estimate: np.ndarray, data_range: float | None = None) -> float:
    """Mean structural similarity over a batch of images ``(N, C, H, W)`` or ``(N, H, W)``.

    Uses a 7x7 uniform window (or the whole image when smaller), the usual
    constants K1=0.01, K2=0.03, averaged over items and channels.
    """
    a, b = _pair(reference, estimate)
    if a.ndim == 3:
        a, b = a[:, None], b[:, None]
    if a.ndim != 4:
        raise InputError(f"ssim needs images (N, C, H, W) or (N, H, W), got shape {a.shape}")
    peak = float(np.ptp(a)) if data_range is None else float(data_range)
    if peak <= 0.0:
        peak = 1.0
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    win = min(7, a.shape[2], a.shape[3])

    def local_mean(x: np.ndarray) -> np.ndarray:
        view = np.lib.stride_tricks.sliding_window_view(x, (win, win), axis=(2, 3))
        return view.mean(axis=(-2, -1))

    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a = local_mean(a * a) - mu_a**2
    var_b = local_mean(b * b) - mu_b**2
    cov = local_mean(a * b) - mu_a * mu_b
    n = win * win
    var_a, var_b, cov = (v * n / max(n - 1, 1) for v in (var_a, var_b, cov))
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return float(np.mean(s))


def _check_scores(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel() > 0
    if s.shape != y.shape:
        raise InputError(f"scores and labels differ in length: {s.size} vs {y.size}")
    if y.all() or not y.any():
        raise InputError("AUROC needs both normal (label 0) and anomalous (label > 0) items")
    return s, y


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (higher score = more anomalous; label > 0 = anomaly).

    The rank-sum (Mann-Whitney U) form, with ties counted as one half.
    """
    s, y = _check_scores(scores, labels)
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, for plotting."""
    s, y = _check_scores(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    fpr = np.r_[0.0, fps / max(int((~y).sum()), 1)]
    tpr = np.r_[0.0, tps / max(int(y.sum()), 1)]
    return fpr, tpr


def pauc(scores: np.ndarray, labels: np.ndarray, max_fpr: float = 0.1) -> float:
    """Partial AUC over FPR in [0, max_fpr], McClish-standardized (0.5 = chance, 1 = perfect).

    The ROC curve is interpolated linearly at ``max_fpr``; the standardization is
    scikit-learn's ``roc_auc_score(max_fpr=...)``, the DCASE Task 2 pAUC.
    """
    if not 0 < max_fpr <= 1:
        raise InputError(f"max_fpr: must be in (0, 1], got {max_fpr}")
    fpr, tpr = roc_curve(scores, labels)
    stop = int(np.searchsorted(fpr, max_fpr, side="right"))
    x, y = fpr[:stop], tpr[:stop]
    if stop < fpr.size:
        y_at = float(np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1]))
        x, y = np.r_[x, max_fpr], np.r_[y, y_at]
    area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))
    if max_fpr == 1:
        return area
    lo, hi = max_fpr**2 / 2.0, max_fpr
    return float(0.5 * (1 + (area - lo) / (hi - lo)))


def precision_recall_f1(flags: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 of boolean anomaly flags against labels (> 0 = anomaly)."""
    f = np.asarray(flags).ravel().astype(bool)
    y = np.asarray(labels).ravel() > 0
    if f.shape != y.shape:
        raise InputError(f"flags and labels differ in length: {f.size} vs {y.size}")
    tp = int(np.sum(f & y))
    precision = tp / int(f.sum()) if f.any() else 0.0
    recall = tp / int(y.sum()) if y.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(precision), float(recall), float(f1)
