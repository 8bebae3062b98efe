"""Frame payloads: a batch of latents -> per-frame payload bytes, and one payload -> latents.

With a learned entropy model bound to the header (format versions 2 to 5), a payload
is the rANS coding of ``round(z / scale)`` per latent channel (:mod:`.entropy`) of one
or more latents (items, or signal windows), flag ``FRAME_ENTROPY``. Otherwise a
payload is ``[low f32, step f32]`` (only for per-frame scaling) followed by one
latent's packed codes; when ``entropy`` is on, the whole payload is raw-deflated
(zlib, ``wbits=-15``, no header) if, and only if, that makes it smaller, and the
frame's ``FRAME_DEFLATED`` flag says so.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from ..errors import StreamError
from .entropy import decode_frames, encode_frames, neighbour_map
from .format import FRAME_DEFLATED, FRAME_ENTROPY, Frame, StreamHeader
from .quantize import (
    _per_channel,
    dequantize,
    dequantize_per_frame,
    pack_codes,
    quantize,
    quantize_per_frame,
    unpack_codes,
)

__all__ = ["decode_payload", "encode_payloads"]

_SCALING = struct.Struct("<ff")


def encode_payloads(
    z: np.ndarray, header: StreamHeader, *, entropy: bool = True
) -> list[tuple[bytes, int, int]]:
    """Latents ``(N, *latent_shape)`` -> ``(payload, frame_flags, latents)`` per frame.

    The one place the encoder's latents are checked finite. Entropy-coded streams put
    ``header.frame_items`` latents (items, or signal windows) in one frame, coded as one
    rANS sequence: one state flush and one frame header per group, not per latent; the
    last frame holds the rest. Every other stream has one latent per frame.
    """
    z = np.asarray(z, dtype=np.float32)
    if not np.all(np.isfinite(z)):
        raise StreamError("the encoder produced non-finite latents; the model or input is broken")
    if header.entropy is not None:
        return _entropy_payloads(z, header)
    return [(payload, flags, 1) for payload, flags in _plain_payloads(z, header, entropy)]


def _entropy_payloads(z: np.ndarray, header: StreamHeader) -> list[tuple[bytes, int, int]]:
    codes = _integer_codes(z, header)
    k = header.frame_items
    channels = _code_channels(header)
    out: list[tuple[bytes, int, int]] = []
    full = (len(codes) // k) * k
    if full:
        rows = codes[:full].reshape(full // k, -1)
        payloads = encode_frames(
            rows,
            np.tile(channels, k),
            header.entropy,
            neighbours=_neighbours(header, k),
            latent_shape=header.latent_shape,
        )
        out += [(p, FRAME_ENTROPY, k) for p in payloads]
    if full < len(codes):
        n = len(codes) - full
        rest = codes[full:].reshape(1, -1)
        tail = encode_frames(
            rest,
            np.tile(channels, n),
            header.entropy,
            neighbours=_neighbours(header, n),
            latent_shape=header.latent_shape,
        )
        out.append((tail[0], FRAME_ENTROPY, n))
    return out


def _neighbours(header: StreamHeader, latents: int) -> np.ndarray | None:
    """The context model's neighbour map of a frame of ``latents`` latents (else None)."""
    axes = header.entropy.neighbours
    return neighbour_map(header.latent_shape, latents, axes) if axes else None


def _plain_payloads(z: np.ndarray, header: StreamHeader, entropy: bool) -> list[tuple[bytes, int]]:
    """Fixed-width codes, one frame per latent, deflated when that is smaller (``entropy``)."""
    if header.per_frame:
        low, step, codes = quantize_per_frame(z, header.bits)
        prefixes = [_SCALING.pack(float(lo), float(st)) for lo, st in zip(low, step, strict=True)]
    else:
        codes = quantize(z, header.scale, header.zero_point, header.bits)
        prefixes = [b""] * z.shape[0]
    out = []
    for prefix, item in zip(prefixes, codes, strict=True):
        raw = prefix + pack_codes(item, header.bits)
        if entropy:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            small = packer.compress(raw) + packer.flush()
            if len(small) < len(raw):
                out.append((small, FRAME_DEFLATED))
                continue
        out.append((raw, 0))
    return out


def decode_payload(frame: Frame, header: StreamHeader) -> np.ndarray:
    """One frame -> the float32 latents ``(n, *latent_shape)`` it holds; StreamError if malformed.

    ``n`` is 1 unless the frame is entropy-coded, then ``header.frame_latents(frame.samples)``.
    """
    raw = frame.payload
    where = f"frame {frame.index} at byte {frame.offset}"
    if bool(frame.flags & FRAME_ENTROPY) != bool(header.entropy_digest):
        raise StreamError(f"{where}: entropy coding flag does not match the stream header")
    if frame.flags & FRAME_ENTROPY:
        if header.entropy is None:
            raise StreamError(f"{where}: the stream's entropy model is not bound to a decoder")
        n = header.frame_latents(frame.samples)
        if not 1 <= n <= header.frame_items:
            raise StreamError(
                f"{where}: covers {frame.samples} samples, more than one frame's "
                f"{header.frame_items} latent(s) hold"
            )
        channels = np.tile(_code_channels(header), n)
        codes = decode_frames(
            [raw],
            channels,
            header.entropy,
            where=[where],
            neighbours=_neighbours(header, n),
            latent_shape=header.latent_shape,
        )
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            z = (codes.reshape((n, *header.latent_shape)) * _channel_scale(header)).astype(
                np.float32
            )
        return _finite(z, where)
    if frame.flags & FRAME_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            raw = inflater.decompress(raw, header.max_payload)
        except zlib.error as exc:
            raise StreamError(f"{where}: compressed payload is corrupted ({exc})") from None
        if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
            raise StreamError(f"{where}: compressed payload does not inflate to one frame")
    if len(raw) != header.max_payload:
        raise StreamError(f"{where}: payload has {len(raw)} bytes, expected {header.max_payload}")
    start = _SCALING.size if header.per_frame else 0
    try:
        codes = unpack_codes(raw[start:], header.bits, header.latent_size)
    except StreamError as exc:
        raise StreamError(f"{where}: {exc}") from None
    codes = codes.reshape((1, *header.latent_shape))
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        if header.per_frame:
            low, step = _SCALING.unpack_from(raw)
            if not (np.isfinite(low) and np.isfinite(step) and step > 0):
                raise StreamError(f"{where}: invalid per-frame scaling low={low} step={step}")
            z = dequantize_per_frame(codes, np.array([low]), np.array([step]))
        else:
            z = dequantize(codes, header.scale, header.zero_point)
    return _finite(z, where)


def _finite(z: np.ndarray, where: str) -> np.ndarray:
    """``z`` if every latent is finite in float32; a forged scale or escaped code can
    overflow it, which is a StreamError naming the frame, not a warning."""
    if not np.all(np.isfinite(z)):
        raise StreamError(f"{where}: latent codes decode to non-finite values")
    return z


def _channel_scale(header: StreamHeader) -> np.ndarray:
    """The codec scale shaped to broadcast over ``(N, *latent_shape)``."""
    return _per_channel(header.scale, len(header.latent_shape) + 1, np.float64)


def _code_channels(header: StreamHeader) -> np.ndarray:
    """Which entropy table codes each latent position: its channel (latent axis 0)."""
    channels = header.latent_shape[0]
    return np.repeat(np.arange(channels), header.latent_size // channels)


_MAX_CODE = float(1 << 62)


def _integer_codes(z: np.ndarray, header: StreamHeader) -> np.ndarray:
    """``round(z / scale)`` as int64 rows, one per item (entropy coding needs no clipping)."""
    q = np.rint(z.astype(np.float64) / _channel_scale(header))
    if np.any(np.abs(q) >= _MAX_CODE):
        raise StreamError("the encoder produced latents too large to code; the input is broken")
    return q.astype(np.int64).reshape(z.shape[0], -1)
