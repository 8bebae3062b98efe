"""Reading and writing WAV files with the standard library and numpy only.

The stdlib ``wave`` module rejects IEEE-float data (format tag 3) and, before
Python 3.12, WAVE_FORMAT_EXTENSIBLE; rather than keep two code paths this module
parses the RIFF chunks itself for every format: PCM 8 (unsigned), 16, 24 and 32
bit, float 32 and 64 bit, plain or extensible, any number of channels. Samples
come back as float32 ``(channels, samples)``, PCM scaled to [-1, 1).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeae.errors import DataError

from ._io import atomic_write_bytes

__all__ = ["WAV_FORMATS", "WavAudio", "read_wav", "write_wav"]

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
# Name -> (format tag, bits per sample).
WAV_FORMATS = {
    "pcm8": (_PCM, 8),
    "pcm16": (_PCM, 16),
    "pcm24": (_PCM, 24),
    "pcm32": (_PCM, 32),
    "float32": (_FLOAT, 32),
    "float64": (_FLOAT, 64),
}
# The 14 bytes every KSDATAFORMAT_SUBTYPE_* GUID shares after its 2-byte format tag.
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


@dataclass(frozen=True, eq=False)
class WavAudio:
    """A decoded WAV file: float32 ``signal`` ``(channels, samples)`` and its sample rate."""

    signal: np.ndarray
    sample_rate: int
    format: str

    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.signal.shape[0])


def _chunks(data: bytes, where: str) -> dict[bytes, tuple[int, int]]:
    """Map each RIFF chunk id to ``(offset, size)`` of its payload (the first of each id)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise DataError(f"{where}: not a WAV file (no RIFF/WAVE header)")
    found: dict[bytes, tuple[int, int]] = {}
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        start = pos + 8
        if cid == b"data" and (size in (0, 0xFFFFFFFF)) and start + size != len(data):
            size = len(data) - start  # streamed WAV: the writer never filled in the size
        if start + size > len(data):
            raise DataError(
                f"{where}: chunk {cid.decode('latin-1')!r} declares {size} bytes but only "
                f"{len(data) - start} remain; the file is truncated or corrupted"
            )
        found.setdefault(cid, (start, size))
        pos = start + size + (size & 1)
    return found


def _format(data: bytes, offset: int, size: int, where: str) -> tuple[str, int, int, int]:
    """Parse the ``fmt `` chunk: ``(format name, channels, sample_rate, block_align)``."""
    if size < 16:
        raise DataError(f"{where}: 'fmt ' chunk is {size} bytes, expected at least 16")
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", data, offset)
    if tag == _EXTENSIBLE:
        if size < 40:
            raise DataError(f"{where}: WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is too short")
        guid = data[offset + 24 : offset + 40]
        if guid[2:] != _GUID_TAIL:
            raise DataError(f"{where}: unsupported WAVE_FORMAT_EXTENSIBLE sub-format")
        tag = struct.unpack_from("<H", guid)[0]
    name = next((k for k, v in WAV_FORMATS.items() if v == (tag, bits)), None)
    if name is None:
        raise DataError(
            f"{where}: unsupported WAV encoding (format tag {tag}, {bits} bits); "
            f"supported: {', '.join(WAV_FORMATS)}"
        )
    if channels < 1 or rate < 1 or block_align != channels * bits // 8:
        raise DataError(
            f"{where}: inconsistent 'fmt ' chunk (channels={channels}, sample rate={rate}, "
            f"block align={block_align}, bits={bits}); the file is corrupted"
        )
    return name, channels, rate, block_align


def _decode(raw: bytes, fmt: str) -> np.ndarray:
    """Interleaved sample bytes -> float32 values (PCM scaled to [-1, 1))."""
    if fmt == "pcm8":
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if fmt == "pcm24":
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return v.astype(np.float32) / float(1 << 23)
    dtype, scale = {
        "pcm16": ("<i2", float(1 << 15)),
        "pcm32": ("<i4", float(1 << 31)),
        "float32": ("<f4", 1.0),
        "float64": ("<f8", 1.0),
    }[fmt]
    values = np.frombuffer(raw, dtype)
    if scale == 1.0:
        return values.astype(np.float32)
    return (values.astype(np.float64) / scale).astype(np.float32)


def read_wav(path: str | os.PathLike[str]) -> WavAudio:
    """Read a WAV file into float32 ``(channels, samples)``; corrupted files raise DataError."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{where}: no such file") from None
    except OSError as exc:
        raise DataError(f"{where}: cannot read ({exc.strerror})") from None
    chunks = _chunks(data, where)
    if b"fmt " not in chunks:
        raise DataError(f"{where}: WAV file has no 'fmt ' chunk; the file is corrupted")
    if b"data" not in chunks:
        raise DataError(f"{where}: WAV file has no 'data' chunk; the file is corrupted")
    fmt, channels, rate, block_align = _format(data, *chunks[b"fmt "], where)
    start, size = chunks[b"data"]
    if size % block_align:
        raise DataError(
            f"{where}: data chunk of {size} bytes is not a whole number of "
            f"{block_align}-byte frames; the file is truncated or corrupted"
        )
    values = _decode(data[start : start + size], fmt)
    signal = np.ascontiguousarray(values.reshape(-1, channels).T)
    return WavAudio(signal=signal, sample_rate=rate, format=fmt)


def _encode(signal: np.ndarray, fmt: str) -> bytes:
    """float ``(channels, samples)`` -> interleaved little-endian sample bytes."""
    inter = np.asarray(signal, dtype=np.float64).T.reshape(-1)
    if fmt.startswith("float"):
        return inter.astype("<f4" if fmt == "float32" else "<f8").tobytes()
    bits = WAV_FORMATS[fmt][1]
    full = float(1 << (bits - 1))
    ints = np.clip(np.round(inter * full), -full, full - 1).astype(np.int64)
    if fmt == "pcm8":
        return (ints + 128).astype(np.uint8).tobytes()
    if fmt == "pcm24":
        u = ints & 0xFFFFFF
        return np.stack([u & 0xFF, (u >> 8) & 0xFF, u >> 16], axis=1).astype(np.uint8).tobytes()
    return ints.astype("<i2" if bits == 16 else "<i4").tobytes()


def write_wav(
    path: str | os.PathLike[str],
    signal: np.ndarray,
    sample_rate: int,
    *,
    format: str = "pcm16",
    extensible: bool = False,
) -> None:
    """Write ``signal`` ``(channels, samples)`` (or ``(samples,)``) atomically as a WAV file.

    PCM formats clip to [-1, 1); ``extensible`` writes a WAVE_FORMAT_EXTENSIBLE
    header (what many recorders produce for > 2 channels or > 16 bits).
    """
    if format not in WAV_FORMATS:
        raise DataError(f"unknown WAV format {format!r}; expected one of {', '.join(WAV_FORMATS)}")
    sig = np.asarray(signal)
    if sig.ndim == 1:
        sig = sig[np.newaxis, :]
    if sig.ndim != 2 or sig.shape[0] < 1:
        raise DataError(f"{path}: a signal must be (channels, samples), got shape {sig.shape}")
    tag, bits = WAV_FORMATS[format]
    channels = int(sig.shape[0])
    block = channels * bits // 8
    payload = _encode(sig, format)
    head = struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * block, block, bits)
    if extensible:
        mask = (1 << channels) - 1 if channels <= 18 else 0
        head = struct.pack(
            "<HHIIHH", _EXTENSIBLE, channels, sample_rate, sample_rate * block, block, bits
        )
        head += struct.pack("<HHI", 22, bits, mask) + struct.pack("<H", tag) + _GUID_TAIL
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(head)) + head
    body += b"data" + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)
    blob = b"RIFF" + struct.pack("<I", len(body)) + body
    atomic_write_bytes(path, blob)
