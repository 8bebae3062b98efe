"""A small PNG decoder and encoder on zlib and numpy, so image folders need no Pillow.

Decodes non-interlaced PNGs: grayscale, grayscale+alpha, RGB and RGBA at 8 or 16
bits, and 8-bit palette images (expanded to RGB, or RGBA when the file has a
transparency chunk). Chunk CRCs are checked, so a corrupted file is reported,
not decoded into garbage. The encoder exists for tests and for writing
reconstructions (``edgeae-rt decompress`` writes image folders with it); it can
exercise every PNG row filter. This is the project's one PNG implementation: the
host package (``edgeae.data``) re-exports it with its own error class.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .atomic import write_bytes_atomic
from .errors import InputError

__all__ = ["drop_opaque_alpha", "read_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 1 << 26  # decoded image bytes; a bigger IHDR is refused before inflating
# PNG colour type -> samples per pixel.
_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _paeth(a: int, b: int, c: int) -> int:
    """The Paeth predictor of the PNG specification."""
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, height: int, stride: int, bpp: int, where: str) -> np.ndarray:
    """Undo the row filters: ``height`` rows of ``stride`` bytes -> ``(height, stride)`` uint8."""
    if len(raw) != height * (stride + 1):
        raise InputError(
            f"{where}: image data holds {len(raw)} bytes, expected {height * (stride + 1)}; "
            "the file is corrupted"
        )
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = int(rows[y, 0]), rows[y, 1:]
        if kind == 0:
            cur = line.copy()
        elif kind == 1:
            cur = np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:
            cur = line + prev
        elif kind in (3, 4):
            buf, up = bytearray(line.tobytes()), prev.tobytes()
            for i in range(stride):
                left = buf[i - bpp] if i >= bpp else 0
                if kind == 3:
                    pred = (left + up[i]) >> 1
                else:
                    pred = _paeth(left, up[i], up[i - bpp] if i >= bpp else 0)
                buf[i] = (buf[i] + pred) & 0xFF
            cur = np.frombuffer(bytes(buf), np.uint8)
        else:
            raise InputError(f"{where}: row {y} has unknown filter type {kind}; corrupted file")
        out[y] = cur
        prev = cur
    return out


def _chunks(data: bytes, where: str) -> list[tuple[bytes, bytes]]:
    """Split a PNG into ``(type, payload)`` chunks, checking every CRC."""
    if data[:8] != _SIGNATURE:
        raise InputError(f"{where}: not a PNG file (bad signature)")
    chunks, pos = [], 8
    while pos < len(data):
        if pos + 12 > len(data):
            raise InputError(f"{where}: truncated PNG chunk at byte {pos}")
        length, ctype = struct.unpack_from(">I4s", data, pos)
        payload = data[pos + 8 : pos + 8 + length]
        if len(payload) != length or pos + 12 + length > len(data):
            raise InputError(f"{where}: PNG chunk {ctype!r} is truncated")
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(ctype + payload) != crc:
            raise InputError(f"{where}: CRC mismatch in PNG chunk {ctype.decode('latin-1')!r}")
        chunks.append((ctype, payload))
        pos += 12 + length
        if ctype == b"IEND":
            break
    return chunks


def read_png(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a PNG into ``(height, width, channels)`` uint8 (or uint16 for 16-bit files)."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read ({exc.strerror})") from None
    chunks = _chunks(data, where)
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise InputError(f"{where}: PNG does not start with a valid IHDR chunk")
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    supported = depth == 8 or (depth == 16 and ctype != 3)
    if ctype not in _SAMPLES or not supported:
        raise InputError(
            f"{where}: unsupported PNG (colour type {ctype}, bit depth {depth}); "
            "supported: 8-bit gray/gray+alpha/RGB/RGBA/palette and 16-bit gray/RGB(A)"
        )
    if interlace:
        raise InputError(f"{where}: interlaced PNGs are not supported; re-save without interlacing")
    if width == 0 or height == 0:
        raise InputError(f"{where}: PNG has zero width or height")
    idat = b"".join(p for t, p in chunks if t == b"IDAT")
    if not idat:
        raise InputError(f"{where}: PNG has no image data (IDAT chunk)")
    samples, nbytes = _SAMPLES[ctype], depth // 8
    bpp = samples * nbytes
    expected = height * (width * bpp + 1)
    if expected > MAX_PNG_BYTES:
        raise InputError(
            f"{where}: PNG of {width}x{height} pixels is too large ({expected} bytes decoded, "
            f"at most {MAX_PNG_BYTES})"
        )
    try:  # never inflate more than the header allows (a zlib bomb stops here)
        raw = zlib.decompressobj().decompress(idat, expected + 1)
    except zlib.error as exc:
        raise InputError(f"{where}: corrupted PNG image data ({exc})") from None
    pixels = _unfilter(raw, height, width * bpp, bpp, where)
    if depth == 16:
        image = pixels.view(">u2").astype(np.uint16).reshape(height, width, samples)
    else:
        image = pixels.reshape(height, width, samples)
    if ctype == 3:
        palette = next((p for t, p in chunks if t == b"PLTE"), None)
        if palette is None or len(palette) % 3:
            raise InputError(f"{where}: palette PNG without a valid PLTE chunk")
        table = np.frombuffer(palette, np.uint8).reshape(-1, 3)
        trns = next((p for t, p in chunks if t == b"tRNS"), None)
        if trns is not None:
            alpha = np.full((table.shape[0], 1), 255, np.uint8)
            alpha[: len(trns), 0] = np.frombuffer(trns[: table.shape[0]], np.uint8)
            table = np.concatenate([table, alpha], axis=1)
        index = image[..., 0]
        if int(index.max()) >= table.shape[0]:
            raise InputError(f"{where}: pixel refers to palette entry beyond the PLTE chunk")
        image = table[index]
    return image


def _filter_row(kind: int, cur: np.ndarray, prev: np.ndarray, bpp: int) -> bytes:
    """Apply PNG row filter ``kind`` to one row of raw bytes."""
    c, p = cur.astype(np.int32), prev.astype(np.int32)
    left = np.concatenate([np.zeros(bpp, np.int32), c[:-bpp]])
    upleft = np.concatenate([np.zeros(bpp, np.int32), p[:-bpp]])
    if kind == 0:
        pred = np.zeros_like(c)
    elif kind == 1:
        pred = left
    elif kind == 2:
        pred = p
    elif kind == 3:
        pred = (left + p) >> 1
    else:
        est = left + p - upleft
        pa, pb, pc = np.abs(est - left), np.abs(est - p), np.abs(est - upleft)
        pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, p, upleft))
    return bytes([kind]) + ((c - pred) & 0xFF).astype(np.uint8).tobytes()


def drop_opaque_alpha(image: np.ndarray, channels: int) -> np.ndarray:
    """``(H, W, C)`` pixels with a fully opaque alpha channel (grey+alpha, RGBA) and one
    channel more than ``channels``: the same pixels without it (nothing is lost); any
    other image is returned as it is (its channel count is checked by the caller)."""
    c = image.shape[-1]
    if c in (2, 4) and c == channels + 1 and bool(
        (image[..., -1] == np.iinfo(image.dtype).max).all()
    ):
        return image[..., :-1]
    return image


def write_png(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    palette: np.ndarray | None = None,
    filters: Sequence[int] = (0,),
) -> None:
    """Write ``image`` ``(H, W)`` or ``(H, W, C)`` (uint8 or uint16, C in 1..4) atomically.

    With ``palette`` ``(K, 3)`` uint8, ``image`` holds palette indices. Row ``y``
    uses filter ``filters[y % len(filters)]`` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth).
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., np.newaxis]
    if img.ndim != 3 or not 1 <= img.shape[2] <= 4 or img.dtype not in (np.uint8, np.uint16):
        raise InputError(f"{path}: cannot write image of shape {img.shape} and dtype {img.dtype}")
    height, width, samples = img.shape
    depth = 16 if img.dtype == np.uint16 else 8
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[samples]
    if palette is not None:
        if samples != 1 or depth != 8:
            raise InputError(f"{path}: a palette image must be 2-D uint8 indices")
        ctype = 3
    rows = img.astype(">u2").view(np.uint8) if depth == 16 else img
    rows = rows.reshape(height, -1)
    bpp = samples * depth // 8
    prev = np.zeros(rows.shape[1], np.uint8)
    raw = bytearray()
    for y in range(height):
        raw += _filter_row(filters[y % len(filters)], rows[y], prev, bpp)
        prev = rows[y]

    def chunk(ctype_: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(ctype_ + payload)
        return struct.pack(">I", len(payload)) + ctype_ + payload + struct.pack(">I", crc)

    blob = _SIGNATURE + chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, depth, ctype, 0, 0, 0)
    )
    if palette is not None:
        blob += chunk(b"PLTE", np.asarray(palette, np.uint8).reshape(-1).tobytes())
    blob += chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")
    write_bytes_atomic(path, blob)
