"""Byte-level WAV writer for the tests, independent of the reader under test."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

__all__ = ["FORMATS", "wav_bytes", "write_test_wav"]

_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
# name -> (format tag, bits)
FORMATS = {
    "pcm8": (1, 8),
    "pcm16": (1, 16),
    "pcm24": (1, 24),
    "pcm32": (1, 32),
    "float32": (3, 32),
    "float64": (3, 64),
}


def _encode(signal: np.ndarray, fmt: str) -> bytes:
    inter = np.asarray(signal, dtype=np.float64).T.reshape(-1)
    tag, bits = FORMATS[fmt]
    if tag == 3:
        return inter.astype("<f4" if bits == 32 else "<f8").tobytes()
    full = float(1 << (bits - 1))
    ints = np.clip(np.round(inter * full), -full, full - 1).astype(np.int64)
    if bits == 8:
        return (ints + 128).astype(np.uint8).tobytes()
    if bits == 24:
        u = ints & 0xFFFFFF
        return np.stack([u & 0xFF, (u >> 8) & 0xFF, u >> 16], axis=1).astype(np.uint8).tobytes()
    return ints.astype("<i2" if bits == 16 else "<i4").tobytes()


def wav_bytes(
    signal: np.ndarray,
    rate: int,
    fmt: str,
    *,
    extensible: bool = False,
    extra_chunk: bool = False,
) -> bytes:
    """A complete WAV file; ``extra_chunk`` puts an odd-sized LIST chunk before the data."""
    tag, bits = FORMATS[fmt]
    channels = signal.shape[0]
    block = channels * bits // 8
    if extensible:
        head = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block, block, bits)
        head += struct.pack("<HHI", 22, bits, (1 << channels) - 1)
        head += struct.pack("<H", tag) + _GUID_TAIL
    else:
        head = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    payload = _encode(signal, fmt)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(head)) + head
    if extra_chunk:
        body += b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\x00"
    body += b"data" + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_test_wav(path: Path, signal: np.ndarray, rate: int, fmt: str, **kw: bool) -> Path:
    """Write :func:`wav_bytes` to ``path`` and return it."""
    path.write_bytes(wav_bytes(signal, rate, fmt, **kw))
    return path
