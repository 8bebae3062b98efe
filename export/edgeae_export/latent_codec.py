"""Calibrating how latent codes are quantized for the stream codec (the manifest's ``codec``).

The encoder's float latents are mapped to unsigned integers
``code = clip(round(z / scale) + zero_point, 0, 2**bits - 1)``, with one scale and
zero point per latent channel (axis 1 of a batch of latents), fitted on the
latents of real validation items. The range always contains 0 so that a zero
latent is coded exactly.
"""

from __future__ import annotations

import numpy as np

from edgeae_runtime.manifest import CodecSpec

from .errors import ExportError

__all__ = ["calibrate_codec"]


def calibrate_codec(
    latents: np.ndarray, *, bits: int = 8, percentile: float | None = None
) -> CodecSpec:
    """Fit per-channel scale/zero-point to ``latents`` (a batch ``(N, C, ...)`` or ``(N, L)``).

    ``percentile`` (e.g. 99.9) clips the range to the given percentile on each side
    instead of min/max, which keeps rare outliers from wasting code values.
    """
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim < 2 or z.shape[0] == 0:
        raise ExportError(f"codec calibration: needs a batch of latents (N, C, ...), got {z.shape}")
    if not np.isfinite(z).all():
        raise ExportError("codec calibration: latents contain NaN or infinite values")
    if bits not in (4, 8, 16):
        raise ExportError(f"codec calibration: bits must be 4, 8 or 16, got {bits}")
    if percentile is not None and not 50.0 < percentile <= 100.0:
        raise ExportError(f"codec calibration: percentile must be in (50, 100], got {percentile}")
    per_channel = np.moveaxis(z, 1, 0).reshape(z.shape[1], -1)
    if percentile is None:
        lo, hi = per_channel.min(axis=1), per_channel.max(axis=1)
    else:
        lo = np.percentile(per_channel, 100.0 - percentile, axis=1)
        hi = np.percentile(per_channel, percentile, axis=1)
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    levels = 2**bits - 1
    span = hi - lo
    scale = np.where(span > 0, span / levels, 1.0)
    zero_point = np.clip(np.round(-lo / scale), 0, levels).astype(np.int64)
    return CodecSpec(
        bits=bits,
        scale=tuple(float(s) for s in scale),
        zero_point=tuple(int(q) for q in zero_point),
    )
