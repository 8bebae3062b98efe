"""Latent code quantization: float latents <-> unsigned integer codes, and their bit packing.

Two schemes. With the manifest's :class:`~edgeae_runtime.manifest.CodecSpec`
(calibrated on data at export time, see :func:`calibrate_codec`), a code is
``clip(round(z / scale) + zero_point, 0, 2**bits - 1)`` with one scale per latent
channel, and ``z = (code - zero_point) * scale``. Without one, every frame
carries its own float32 ``low`` and ``step``: ``code = round((z - low) / step)``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, StreamError
from ..manifest import CodecSpec

__all__ = [
    "calibrate_codec",
    "dequantize",
    "dequantize_per_frame",
    "pack_codes",
    "quantize",
    "quantize_per_frame",
    "unpack_codes",
]

_BITS = (4, 8, 16)


def _qmax(bits: int) -> int:
    if bits not in _BITS:
        raise InputError(f"code bits must be 4, 8 or 16, got {bits}")
    return (1 << bits) - 1


def _per_channel(values: tuple[float, ...] | np.ndarray, ndim: int, dtype: type) -> np.ndarray:
    """Shape per-latent-channel constants to broadcast over a batch ``(N, C, ...)``."""
    arr = np.asarray(values, dtype=dtype)
    if arr.size == 1:
        return arr.reshape(())
    return arr.reshape((1, arr.size) + (1,) * (ndim - 2))


def calibrate_codec(
    latents: np.ndarray,
    bits: int = 8,
    *,
    per_channel: bool = True,
    percentile: float | None = None,
) -> CodecSpec:
    """Fit a CodecSpec covering the range of ``latents`` ``(N, *latent_shape)``.

    The exporter calls this on the latents of calibration data: one scale per
    latent channel (axis 1 of the batch) unless ``per_channel`` is False. The
    range always contains 0, so a zero latent (common after ReLU) is coded
    exactly; ``percentile`` (e.g. 99.9) clips rare outliers instead of min/max.
    """
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim < 2 or z.shape[0] == 0:
        raise InputError(
            f"codec calibration: needs a batch of latents (N, *latent_shape), got {z.shape}"
        )
    if not np.isfinite(z).all():
        raise InputError("codec calibration: latents contain NaN or infinite values")
    if percentile is not None and not 50.0 < percentile <= 100.0:
        raise InputError(f"codec calibration: percentile must be in (50, 100], got {percentile}")
    levels = _qmax(bits)
    rows = np.moveaxis(z, 1, 0).reshape(z.shape[1], -1) if per_channel else z.reshape(1, -1)
    if percentile is None:
        lo, hi = rows.min(axis=1), rows.max(axis=1)
    else:
        lo = np.percentile(rows, 100.0 - percentile, axis=1)
        hi = np.percentile(rows, percentile, axis=1)
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    span = hi - lo
    # a span too small to give a normal float32 step is a constant channel
    scale = np.where(span / levels > np.finfo(np.float32).tiny, span / levels, 1.0)
    zero_point = np.clip(np.round(-lo / scale), 0, levels).astype(np.int64)
    return CodecSpec(
        bits=bits,
        scale=tuple(float(np.float32(s)) for s in scale),
        zero_point=tuple(int(q) for q in zero_point),
    )


def quantize(
    z: np.ndarray, scale: tuple[float, ...], zero_point: tuple[int, ...], bits: int
) -> np.ndarray:
    """Latents ``(N, *latent_shape)`` -> integer codes of the same shape (int64)."""
    z = np.asarray(z, dtype=np.float32)
    s = _per_channel(scale, z.ndim, np.float32)
    q = _per_channel(zero_point, z.ndim, np.int64)
    codes = np.rint(z / s).astype(np.int64) + q
    return np.clip(codes, 0, _qmax(bits))


def dequantize(
    codes: np.ndarray, scale: tuple[float, ...], zero_point: tuple[int, ...]
) -> np.ndarray:
    """Integer codes ``(N, *latent_shape)`` -> float32 latents."""
    codes = np.asarray(codes, dtype=np.int64)
    s = _per_channel(scale, codes.ndim, np.float32)
    q = _per_channel(zero_point, codes.ndim, np.int64)
    return ((codes - q).astype(np.float32) * s).astype(np.float32)


def quantize_per_frame(z: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latents ``(N, ...)`` -> (low (N,), step (N,), codes (N, ...)) with one scaling per item."""
    z = np.asarray(z, dtype=np.float32)
    qmax = _qmax(bits)
    flat = z.reshape(z.shape[0], -1)
    low = flat.min(axis=1) if flat.shape[1] else np.zeros(z.shape[0], np.float32)
    high = flat.max(axis=1) if flat.shape[1] else low
    span = (high.astype(np.float64) - low) / qmax
    span = span.astype(np.float32)  # a span below float32's range becomes 0: code it as flat
    step = np.where(span > 0, span, np.float32(1.0)).astype(np.float32)
    shape = (-1,) + (1,) * (z.ndim - 1)
    codes = np.rint((z - low.reshape(shape)) / step.reshape(shape)).astype(np.int64)
    return low.astype(np.float32), step, np.clip(codes, 0, qmax)


def dequantize_per_frame(codes: np.ndarray, low: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Inverse of :func:`quantize_per_frame`: ``low + code * step`` per item."""
    codes = np.asarray(codes)
    shape = (-1,) + (1,) * (codes.ndim - 1)
    low = np.asarray(low, np.float32).reshape(shape)
    step = np.asarray(step, np.float32).reshape(shape)
    return (low + codes.astype(np.float32) * step).astype(np.float32)


def pack_codes(codes: np.ndarray, bits: int) -> bytes:
    """Codes of one frame (any shape, values in 0..2**bits-1) -> packed bytes.

    8 bits: one byte each; 16 bits: little-endian uint16; 4 bits: two codes per
    byte, the first in the high nibble, an odd count padded with a zero nibble.
    """
    flat = np.asarray(codes).reshape(-1)
    if bits == 8:
        return flat.astype(np.uint8).tobytes()
    if bits == 16:
        return flat.astype("<u2").tobytes()
    if bits == 4:
        nib = flat.astype(np.uint8)
        if nib.size % 2:
            nib = np.concatenate([nib, np.zeros(1, np.uint8)])
        return ((nib[0::2] << 4) | nib[1::2]).astype(np.uint8).tobytes()
    raise InputError(f"code bits must be 4, 8 or 16, got {bits}")


def unpack_codes(data: bytes, bits: int, count: int) -> np.ndarray:
    """Packed bytes -> ``count`` codes (int64); StreamError if the size is wrong."""
    expected = (count * bits + 7) // 8
    if len(data) != expected:
        raise StreamError(f"code block has {len(data)} bytes, expected {expected}")
    if bits == 8:
        return np.frombuffer(data, np.uint8).astype(np.int64)
    if bits == 16:
        return np.frombuffer(data, "<u2").astype(np.int64)
    if bits == 4:
        packed = np.frombuffer(data, np.uint8)
        out = np.empty(packed.size * 2, np.int64)
        out[0::2] = packed >> 4
        out[1::2] = packed & 0x0F
        return out[:count]
    raise StreamError(f"code bits must be 4, 8 or 16, got {bits}")
