"""Deterministic train/validation splits, and normal-only splits for anomaly detection.

Splits are index arrays, so they work on memory-mapped data without copying it,
and the same seed always gives the same split on every machine.
"""

from __future__ import annotations

import numpy as np

from edgeae.errors import DataError

__all__ = ["normal_split", "split_indices"]


def split_indices(
    n: int,
    val_fraction: float,
    seed: int = 0,
    *,
    contiguous: bool = False,
    gap: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``range(n)`` into sorted, disjoint ``(train_idx, val_idx)``.

    Random by ``seed`` by default. ``contiguous=True`` holds out the last
    ``val_fraction`` of the items instead and drops ``gap`` items before them:
    for overlapping signal windows, where neighbours share samples, use
    ``gap = ceil(window / hop) - 1`` so no validation sample was seen in training.
    """
    if n < 0:
        raise DataError(f"cannot split {n} items")
    if not 0.0 <= val_fraction < 1.0:
        raise DataError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if gap < 0:
        raise DataError(f"gap must be >= 0, got {gap}")
    n_val = round(n * val_fraction)
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    if contiguous:
        train_end = max(n - n_val - gap, 0)
        train = np.arange(train_end, dtype=np.int64)
        val = np.arange(n - n_val, n, dtype=np.int64)
    else:
        order = np.random.default_rng(seed).permutation(n)
        val = np.sort(order[:n_val]).astype(np.int64)
        train = np.sort(order[n_val:]).astype(np.int64)
    if n > 0 and train.size == 0:
        raise DataError(
            f"no training items left from {n} items (val_fraction={val_fraction}, gap={gap}); "
            "use more data or a smaller validation fraction"
        )
    return train, val


def normal_split(
    labels: np.ndarray,
    calibration_fraction: float = 0.2,
    seed: int = 0,
    *,
    prefix_only: bool = True,
    contiguous: bool = False,
    gap: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train_idx, calibration_idx)`` of normal items (label 0) only.

    Training sees no anomaly; the calibration items are held-out normal items
    for the anomaly threshold. With ``prefix_only`` (the default) only the items
    before the first anomalous one are used, so a time-ordered recording (like
    ``builtin:sensor``) trains on its clean first part. ``contiguous``/``gap`` are
    as in :func:`split_indices`; ``gap`` items are also dropped before the first
    anomalous one, because overlapping windows there may hold some anomalous
    samples without being labelled anomalous (use ``gap = ceil(window / hop)``).
    """
    labels = np.asarray(labels).reshape(-1)
    normal = np.flatnonzero(labels == 0)
    if prefix_only:
        anomalous = np.flatnonzero(labels != 0)
        if anomalous.size:
            normal = normal[normal < anomalous[0] - gap]
    if normal.size < 2:
        raise DataError(
            f"only {normal.size} normal item(s) available for training and calibration; "
            "anomaly training needs normal (label 0) data"
        )
    train, calib = split_indices(
        int(normal.size), calibration_fraction, seed, contiguous=contiguous, gap=gap
    )
    return normal[train], normal[calib]
