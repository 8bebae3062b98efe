"""The manifest's normalization, applied in numpy: the one implementation every part uses.

The trainer fits a :class:`~edgeae_runtime.manifest.Preprocessing`, the exporter
stores it, and the runtime, the calibration readers and the comparisons all go
through these two functions, so raw units mean the same thing everywhere.
"""

from __future__ import annotations

import numpy as np

from .manifest import Preprocessing

__all__ = ["denormalize", "normalize"]


def _broadcast(values: tuple[float, ...], ndim: int) -> np.ndarray:
    """Shape per-channel constants to broadcast over a batch ``(N, C, ...)``."""
    arr = np.asarray(values, dtype=np.float32)
    if arr.size == 1:
        return arr.reshape(())
    return arr.reshape((1, arr.size) + (1,) * (ndim - 2))


def normalize(x: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """Raw batch ``(N, *item_shape)`` -> the float32 values the model sees."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked by the caller
        return (x - _broadcast(pre.offset, x.ndim)) / _broadcast(pre.scale, x.ndim)


def denormalize(y: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """Model-space batch -> raw units, clipped to ``pre.clip`` when the manifest sets one."""
    y = np.asarray(y, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked by the caller
        out = y * _broadcast(pre.scale, y.ndim) + _broadcast(pre.offset, y.ndim)
    if pre.clip is not None:
        np.clip(out, pre.clip[0], pre.clip[1], out=out)
    return out.astype(np.float32, copy=False)
