"""The rANS arithmetic: 32-bit state, 16-bit words, integers only; and the escape varints.

Symbols come in as (start, frequency) pairs in ``2**p``: :func:`_rans_one` (scalar Python
integers) and :func:`_rans_lanes` (one frame per numpy lane, the same words) encode them
in reverse; :func:`_rans_step` and :func:`_rans_step_lanes` decode one symbol from a row
of cumulative frequencies. Escaped codes follow a frame's words as zig-zag varints
(:func:`_varint`, :func:`_read_varint`). Which table codes each symbol is the coder's
business (:mod:`.coder`), not this module's.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from ...errors import StreamError

RANS_L = 1 << 16  # the state lives in [RANS_L, 2**32)
_WORD = 16
_MASK16 = 0xFFFF


def _varint(value: int) -> bytes:
    zig = (value << 1) ^ (value >> 63)  # zig-zag: small magnitudes -> small numbers
    zig &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = zig & 0x7F
        zig >>= 7
        if zig:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: bytes, pos: int, where: str) -> tuple[int, int]:
    zig = 0
    for shift in range(0, 70, 7):
        if pos >= len(buf):
            raise StreamError(f"{where}: an escaped code is cut short")
        byte = buf[pos]
        pos += 1
        zig |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if zig >= 1 << 64:
                break
            value = (zig >> 1) ^ -(zig & 1)
            return value, pos
    raise StreamError(f"{where}: an escaped code is longer than 64 bits")


def _rans_one(start: list[int], freq: list[int], p: int) -> np.ndarray:
    """One frame of symbols given as (start, frequency) in ``2**p``, scalar Python
    integers: the same words as :func:`_rans_lanes`."""
    x = RANS_L
    emitted: list[int] = []
    for i in range(len(start) - 1, -1, -1):
        f = freq[i]
        if x >= f << (32 - p):
            emitted.append(x & _MASK16)
            x >>= _WORD
        x = ((x // f) << p) + (x % f) + start[i]
    emitted.append(x & _MASK16)
    emitted.append(x >> _WORD)
    return np.asarray(emitted[::-1], dtype=np.uint16)


def _rans_lanes(start: np.ndarray, freq: np.ndarray, p: int) -> list[np.ndarray]:
    """rANS over every lane of ``(frames, n)`` symbols given as (start, frequency) in
    ``2**p``; a lane's words come out in its decoder's order."""
    frames, size = start.shape
    x = np.full(frames, RANS_L, dtype=np.uint64)
    words = np.zeros((size + 2, frames), dtype=np.uint16)
    emit = np.zeros((size + 2, frames), dtype=bool)
    shift = np.uint64(32 - p)
    starts, freqs = start.astype(np.uint64), freq.astype(np.uint64)
    for step, i in enumerate(range(size - 1, -1, -1)):
        lo, fr = starts[:, i], freqs[:, i]
        out = x >= (fr << shift)
        words[step] = (x & np.uint64(_MASK16)).astype(np.uint16)
        emit[step] = out
        x = np.where(out, x >> np.uint64(_WORD), x)
        x = ((x // fr) << np.uint64(p)) + (x % fr) + lo
    words[size] = (x & np.uint64(_MASK16)).astype(np.uint16)
    words[size + 1] = (x >> np.uint64(_WORD)).astype(np.uint16)
    emit[size:] = True
    return [words[emit[:, lane], lane][::-1] for lane in range(frames)]


def _rans_step(x: int, pos: int, row: list[int], words: list[int], p: int) -> tuple[int, int, int]:
    """One rANS decode step in Python integers: the symbol ``row`` (a CDF) gives state
    ``x``, the next state, and the read position after renormalizing from ``words``."""
    slot = x & ((1 << p) - 1)
    s = bisect_right(row, slot) - 1
    start = row[s]
    x = (row[s + 1] - start) * (x >> p) + slot - start
    if x < RANS_L:
        x = (x << _WORD) | (words[pos] if pos < len(words) else 0)
        pos += 1
    return s, x, pos


def _rans_step_lanes(
    x: np.ndarray,
    pos: np.ndarray,
    t: np.ndarray,
    flat: np.ndarray,
    cdf: np.ndarray,
    table: np.ndarray,
    p: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_rans_step` for every lane at once: lane ``l`` decodes with row ``t[l]`` of
    ``cdf`` (``flat``: its rows offset so one search finds the symbol) from its words
    ``table[l]``."""
    row_len = cdf.shape[1]
    row_shift = (1 << p) + 1
    slot = (x & np.uint64((1 << p) - 1)).astype(np.int64)
    s = np.searchsorted(flat, slot + t * row_shift, side="right") - 1 - t * row_len
    start = cdf[t, s]
    freq = cdf[t, s + 1] - start
    x = freq.astype(np.uint64) * (x >> np.uint64(p)) + (slot - start).astype(np.uint64)
    low = x < np.uint64(RANS_L)
    if np.any(low):
        word = table[np.arange(x.size), np.minimum(pos, table.shape[1] - 1)]
        x = np.where(low, (x << np.uint64(_WORD)) | word, x)
        pos = pos + low
    return s, x, pos
