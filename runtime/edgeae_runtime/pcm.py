"""Sample encodings and the WAV (RIFF) header, in numpy: bytes <-> float32 ``(channels, n)``.

Integer PCM maps to floats in [-1, 1) by dividing by 2**(bits-1) (8-bit is
unsigned, offset by 128), the convention of soundfile and most audio tools, so
a 16-bit file read and written back is bit-exact. The stdlib ``wave`` module
rejects float WAVs and WAVE_FORMAT_EXTENSIBLE on older Pythons, so the RIFF
chunks are parsed here.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from .errors import InputError

__all__ = [
    "PCM_FORMATS",
    "WAV_SUBTYPES",
    "SampleFormat",
    "WavHeader",
    "decode_samples",
    "encode_samples",
    "parse_pcm_format",
    "read_exact",
    "read_wav_header",
    "wav_header_bytes",
]

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# data sizes at or above this mean "unknown, read to the end" (arecord to a pipe).
UNKNOWN_SIZE = 0x7FFF0000
MAX_FMT_CHUNK = 1024  # a fmt chunk is 16, 18 or 40 bytes; more is a corrupted file
MAX_WAV_CHANNELS = 1024
MAX_WAV_RATE = 10_000_000  # the manifest's bound too
_SKIP_BLOCK = 1 << 16


@dataclass(frozen=True)
class SampleFormat:
    """One sample encoding: ``kind`` ``"int"``/``"uint"``/``"float"`` and bits per sample."""

    kind: str
    bits: int

    @property
    def width(self) -> int:
        """Bytes per sample."""
        return self.bits // 8


PCM_FORMATS = {"s16le": SampleFormat("int", 16), "f32le": SampleFormat("float", 32)}
WAV_SUBTYPES = {
    "PCM_16": SampleFormat("int", 16),
    "PCM_24": SampleFormat("int", 24),
    "PCM_32": SampleFormat("int", 32),
    "FLOAT": SampleFormat("float", 32),
}


def parse_pcm_format(name: str) -> SampleFormat:
    """The raw PCM format named ``name`` (``s16le`` or ``f32le``), or a clear InputError."""
    fmt = PCM_FORMATS.get(str(name).lower())
    if fmt is None:
        raise InputError(
            f"unknown PCM format {name!r}: use one of {', '.join(sorted(PCM_FORMATS))}"
        )
    return fmt


def decode_samples(data: bytes, fmt: SampleFormat, channels: int) -> np.ndarray:
    """Interleaved little-endian samples -> float32 ``(channels, frames)``."""
    w = fmt.width
    if fmt.kind == "float":
        x = np.frombuffer(data, dtype="<f4" if w == 4 else "<f8").astype(np.float32)
    elif fmt.bits == 8:
        x = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif fmt.bits == 16:
        x = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    elif fmt.bits == 24:
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = (v << 8) >> 8  # sign-extend 24 -> 32 bits
        x = (v / float(1 << 23)).astype(np.float32)
    else:
        x = (np.frombuffer(data, dtype="<i4") / float(1 << 31)).astype(np.float32)
    return np.ascontiguousarray(x.reshape(-1, channels).T)


def encode_samples(samples: np.ndarray, fmt: SampleFormat) -> bytes:
    """Float ``(channels, frames)`` -> interleaved little-endian bytes (integers clipped)."""
    x = np.asarray(samples).T  # (frames, channels): interleaved order
    if fmt.kind == "float":
        return np.ascontiguousarray(x, dtype="<f4").tobytes()
    full = float(1 << (fmt.bits - 1))
    v = np.clip(np.rint(np.asarray(x, dtype=np.float64) * full), -full, full - 1)
    if fmt.bits == 8:
        return (v + 128).astype(np.uint8).tobytes()
    if fmt.bits == 16:
        return v.astype("<i2").tobytes()
    if fmt.bits == 24:
        return np.ascontiguousarray(v, dtype="<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    return v.astype("<i4").tobytes()


def read_exact(fh: BinaryIO, n: int) -> bytes:
    """Read exactly ``n`` bytes unless the stream ends first (pipes return short reads)."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        block = fh.read(n - got)
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


@dataclass(frozen=True)
class WavHeader:
    """What a WAV header says; ``data_size`` is None when unknown (streamed to a pipe)."""

    sample_rate: int
    channels: int
    fmt: SampleFormat
    data_size: int | None


def read_wav_header(fh: BinaryIO, name: str, prefix: bytes = b"") -> WavHeader:
    """Parse RIFF/WAVE chunks up to the start of the ``data`` chunk; ``fh`` is left there."""

    def need(n: int, what: str) -> bytes:
        nonlocal prefix
        take, prefix = prefix[:n], prefix[n:]
        data = take + read_exact(fh, n - len(take))
        if len(data) < n:
            raise InputError(f"{name}: corrupted WAV: file ends inside the {what}")
        return data

    def skip(n: int, what: str) -> None:
        """Skip a chunk in bounded blocks (its size is not trusted with one allocation)."""
        nonlocal prefix
        dropped = min(n, len(prefix))
        prefix, n = prefix[dropped:], n - dropped
        while n > 0:
            block = fh.read(min(n, _SKIP_BLOCK))
            if not block:
                raise InputError(f"{name}: corrupted WAV: file ends inside the {what}")
            n -= len(block)

    riff = need(12, "RIFF header")
    if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise InputError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    fmt: tuple[int, int, int, int] | None = None
    while True:
        cid, size = struct.unpack("<4sI", need(8, "chunk header"))
        if cid == b"data":
            break
        here = _bytes_left(fh)
        if here is not None and size > here + len(prefix):
            raise InputError(
                f"{name}: corrupted WAV: the {cid!r} chunk declares {size} bytes, "
                f"the file has {here + len(prefix)} left"
            )
        if cid == b"fmt ":
            if not 16 <= size <= MAX_FMT_CHUNK:
                raise InputError(f"{name}: corrupted WAV: fmt chunk of {size} bytes")
            body = need(size + (size & 1), "fmt chunk")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == WAVE_FORMAT_EXTENSIBLE:
                if size < 40:
                    raise InputError(f"{name}: corrupted WAV: short WAVE_FORMAT_EXTENSIBLE")
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
        else:
            skip(size + (size & 1), f"{cid!r} chunk")
    if fmt is None:
        raise InputError(f"{name}: corrupted WAV: no fmt chunk before the data")
    tag, channels, rate, bits = fmt
    if tag == WAVE_FORMAT_PCM and bits in (8, 16, 24, 32):
        sf = SampleFormat("uint" if bits == 8 else "int", bits)
    elif tag == WAVE_FORMAT_IEEE_FLOAT and bits in (32, 64):
        sf = SampleFormat("float", bits)
    else:
        raise InputError(
            f"{name}: unsupported WAV encoding (format tag {tag:#06x}, {bits} bits); "
            "use PCM 8/16/24/32-bit or 32/64-bit float"
        )
    if not 1 <= channels <= MAX_WAV_CHANNELS or not 1 <= rate <= MAX_WAV_RATE:
        raise InputError(f"{name}: corrupted WAV: {channels} channels at {rate} Hz")
    return WavHeader(rate, channels, sf, None if size >= UNKNOWN_SIZE or size == 0 else size)


def _bytes_left(fh: BinaryIO) -> int | None:
    """Bytes between the position and the end of a regular file; None for pipes."""
    try:
        if not fh.seekable():
            return None
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        return max(st.st_size - fh.tell(), 0)
    except (OSError, ValueError, AttributeError):
        return None


def wav_header_bytes(sample_rate: int, channels: int, fmt: SampleFormat, data_size: int) -> bytes:
    """A canonical header; WAVE_FORMAT_EXTENSIBLE when > 2 channels or > 16 bits."""
    block = channels * fmt.width
    tag = WAVE_FORMAT_IEEE_FLOAT if fmt.kind == "float" else WAVE_FORMAT_PCM
    base = struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * block, block, fmt.bits)
    if channels > 2 or fmt.bits > 16:
        guid = struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        mask = (1 << channels) - 1 if channels <= 18 else 0
        base = (
            struct.pack("<HHIIHH", WAVE_FORMAT_EXTENSIBLE, *struct.unpack("<HIIHH", base[2:]))
            + struct.pack("<HHI", 22, fmt.bits, mask)
            + guid
        )
    fmt_chunk = b"fmt " + struct.pack("<I", len(base)) + base
    size = min(data_size, 0xFFFFFFFF - 4 - len(fmt_chunk) - 8)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + len(fmt_chunk) + 8 + size)
        + b"WAVE"
        + fmt_chunk
        + b"data"
        + struct.pack("<I", size)
    )
