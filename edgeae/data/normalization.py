"""Fitting the normalization a model is trained with, on the training split only.

The result is the runtime's own :class:`~edgeae_runtime.Preprocessing`, applied
everywhere with :func:`edgeae_runtime.preprocess.normalize` /
:func:`~edgeae_runtime.preprocess.denormalize`, so the trainer, the exporter and
the device agree on raw units by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime import Preprocessing

from .dataset import LAYOUTS, batches

__all__ = ["fit_normalization"]

# Below this spread a feature is treated as constant: scale 1 avoids dividing by ~0.
_MIN_SCALE = 1e-6


def _channel_rows(x: np.ndarray, per_channel: bool) -> Iterator[np.ndarray]:
    """Yield float64 chunks shaped ``(rows, groups)``: one column per channel or a single one."""
    for chunk in batches(x, 4096):
        c = chunk.astype(np.float64)
        if per_channel:
            yield np.moveaxis(c, 1, -1).reshape(-1, c.shape[1])
        else:
            yield c.reshape(-1, 1)


def fit_normalization(
    x_train: np.ndarray,
    layout: str,
    mode: Literal["standard", "minmax"] = "standard",
    *,
    per_channel: bool | None = None,
) -> Preprocessing:
    """Fit ``x_model = (x - offset) / scale`` on training items ``(N, *item_shape)``.

    ``standard``: offset = mean, scale = std. ``minmax``: maps the raw range to
    [0, 1] and clips reconstructions to that range (images with a sigmoid
    output and BCE). ``per_channel`` (default: True for NCW, False otherwise)
    fits one pair per channel, axis 1 of the batch; NF data always gets one
    scalar pair. Streams over ``x_train`` in bounded memory.
    """
    if layout not in LAYOUTS:
        raise DataError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if mode not in ("standard", "minmax"):
        raise DataError(f"unknown normalization mode {mode!r}; expected 'standard' or 'minmax'")
    if x_train.shape[0] == 0 or x_train.size == 0:
        raise DataError("cannot fit normalization on an empty training split")
    if per_channel is None:
        per_channel = layout == "NCW"
    per_channel = per_channel and layout != "NF" and x_train.ndim >= 3

    groups = int(x_train.shape[1]) if per_channel else 1
    count = 0
    total = np.zeros(groups)
    total_sq = np.zeros(groups)
    low = np.full(groups, np.inf)
    high = np.full(groups, -np.inf)
    for rows in _channel_rows(x_train, per_channel):
        count += rows.shape[0]
        total += rows.sum(axis=0)
        total_sq += np.square(rows).sum(axis=0)
        low = np.minimum(low, rows.min(axis=0))
        high = np.maximum(high, rows.max(axis=0))
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise DataError("training data holds NaN/Inf values; cannot fit normalization")

    value_range = (float(low.min()), float(high.max()))
    if mode == "standard":
        mean = total / count
        std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
        offset, scale = mean, np.where(std < _MIN_SCALE, 1.0, std)
        clip = None
    else:
        offset, scale = low, high - low
        scale = np.where(scale < _MIN_SCALE, 1.0, scale)
        clip = value_range
    return Preprocessing(
        offset=tuple(float(v) for v in offset),
        scale=tuple(float(v) for v in scale),
        clip=clip,
        value_range=value_range,
    )
