"""The manifest's normalization, applied in numpy: the one implementation every part uses.

The trainer fits a :class:`~edgeae_runtime.manifest.Preprocessing`, the exporter
stores it, and the runtime, the calibration readers and the comparisons all go
through these two functions, so raw units mean the same thing everywhere.
"""

from __future__ import annotations

import functools

import numpy as np

from .manifest import Preprocessing

__all__ = ["denormalize", "normalize", "overflow_free"]


@functools.lru_cache(maxsize=64)
def _broadcast(values: tuple[float, ...], ndim: int) -> np.ndarray:
    """Shape per-channel constants to broadcast over a batch ``(N, C, ...)``.

    Cached (read-only): a model normalizes every batch with the same constants.
    """
    arr = np.asarray(values, dtype=np.float32)
    arr = arr.reshape(()) if arr.size == 1 else arr.reshape((1, arr.size) + (1,) * (ndim - 2))
    arr.flags.writeable = False
    return arr


def overflow_free(pre: Preprocessing) -> bool:
    """True when :func:`normalize` keeps every finite input finite (float32):
    ``|offset|`` below half an ulp of the float32 maximum and ``|scale| >= 1``.
    Then neither it nor its callers need to check the normalized batch."""
    return _overflow_free(pre.offset, pre.scale)


@functools.lru_cache(maxsize=64)
def _overflow_free(offset: tuple[float, ...], scale: tuple[float, ...]) -> bool:
    return max(abs(v) for v in offset) < 1e30 and min(abs(v) for v in scale) >= 1.0


def normalize(x: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """Raw batch ``(N, *item_shape)`` -> the float32 values the model sees."""
    x = np.asarray(x, dtype=np.float32)
    offset, scale = _broadcast(pre.offset, x.ndim), _broadcast(pre.scale, x.ndim)
    if overflow_free(pre):  # no warning to silence: skip errstate,
        return (x - offset) / scale  # which costs more than the arithmetic at batch 1
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked by the caller
        return (x - offset) / scale


def denormalize(y: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """Model-space batch -> raw units, clipped to ``pre.clip`` when the manifest sets one."""
    y = np.asarray(y, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked by the caller
        out = y * _broadcast(pre.scale, y.ndim) + _broadcast(pre.offset, y.ndim)
    if pre.clip is not None:
        np.clip(out, pre.clip[0], pre.clip[1], out=out)
    return out.astype(np.float32, copy=False)
