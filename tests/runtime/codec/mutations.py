"""The one mutation engine of the fuzzers: seeded, reproducible damage to a byte string.

Used by the stream fuzz test (``tests/runtime/codec/test_fuzz.py``, which also runs
on arm64 in ``make test-arm``, so this module needs numpy only) and by the parser
fuzzer (``tests/adversarial/fuzz.py``, ``make fuzz``). :func:`mutate` applies one of
:data:`KINDS`, drawn from a numpy ``Generator``: the same seed gives the same
bytes, so a failing case is reproduced from its seed and case number.

Damage to an edgeae stream's frames is nearly always caught by their CRC32, which
leaves the payload decoders (rANS words, escape varints, inflate) and the frame
fields' checks unexercised. :func:`mutate_stream` therefore also forges: it damages
frames (or sets a frame field to a lie) and then *reseals* every frame's CRC, as a
hostile sender would.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

__all__ = ["KINDS", "drawn_damage", "forge", "mutate", "mutate_stream", "reseal"]

#: What :func:`mutate` may do, in the order it draws them.
KINDS = (
    "bit flips",  # 1..8 bits anywhere in the span
    "overwrite",  # a run of 1..39 random bytes
    "truncate",
    "insert",  # 1..39 random bytes
    "delete",  # 1..59 bytes
    "swap",  # two ranges of up to 79 bytes (frames arriving out of order)
    "duplicate",  # a range of up to 119 bytes sent twice
    "extreme u32",  # a 32-bit field (little or big endian) set to 0, 1, 2**31 - 1, ...
    "ascii digits",  # declared sizes and shapes in text headers
    "random bytes",  # up to 299, alone or after the first 0..39 bytes of the input
)
_EXTREMES = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0)


def mutate(data: bytes, rng: np.random.Generator, *, start: int = 0, head: int = 0) -> bytes:
    """One random mutation of ``data``, landing at or after byte ``start``.

    ``start`` spares a prefix (a stream's header, to damage frames only; "random
    bytes" still replaces everything). With ``head`` > 0, half of the mutations
    land within the ``head`` bytes after ``start`` (where declared sizes live).
    """
    b = bytearray(data)
    start = min(max(0, start), len(b))
    span = max(1, len(b) - start)
    if head and rng.integers(2):
        span = max(1, min(head, span))
    kind = int(rng.integers(len(KINDS)))
    pos = start + int(rng.integers(span))
    if kind == 0:  # bit flips
        for _ in range(int(rng.integers(1, 9))):
            if len(b) > start:
                p = start + int(rng.integers(span)) % (len(b) - start)
                b[p] ^= 1 << int(rng.integers(8))
    elif kind == 1:  # overwrite a run with random bytes
        n = int(rng.integers(1, 40))
        b[pos : pos + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    elif kind == 2:  # truncation
        del b[pos:]
    elif kind == 3:  # insertion
        n = int(rng.integers(1, 40))
        b[pos:pos] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    elif kind == 4:  # deletion
        del b[pos : pos + int(rng.integers(1, 60))]
    elif kind == 5:  # swap two ranges
        q = start + int(rng.integers(max(1, len(b) - start)))
        a0, a1 = sorted((pos, q))
        n = int(rng.integers(1, 80))
        first, second = bytes(b[a0 : a0 + n]), bytes(b[a1 : a1 + n])
        b[a1 : a1 + n] = first
        b[a0 : a0 + n] = second
    elif kind == 6:  # duplicate a range
        n = int(rng.integers(1, 120))
        b[pos:pos] = b[pos : pos + n]
    elif kind == 7:  # a 32-bit little/big-endian field set to an extreme
        value = int(rng.choice(_EXTREMES))
        b[pos : pos + 4] = struct.pack("<I" if rng.integers(2) else ">I", value)
    elif kind == 8:  # ASCII digits
        n = int(rng.integers(1, 25))
        b[pos : pos + n] = bytes(int(c) for c in rng.integers(48, 58, n))
    else:  # random bytes, sometimes after a valid start
        n = int(rng.integers(0, 300))
        junk = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        return (data[: int(rng.integers(0, 40))] + junk) if rng.integers(2) else junk
    return bytes(b)


_SYNC = b"\xae\xf0"
_FRAME_HEAD = 15  # sync(2) flags(1) index(4) samples(4) payload length(4)
_LIES = (0, 1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 65, 255, 256, 4096, 65535, 2**31, 2**32 - 1)


def _frames(data: bytes | bytearray, start: int) -> list[tuple[int, int]]:
    """(offset, payload length) of the well-formed frames from ``start`` on."""
    out, pos = [], start
    while pos + _FRAME_HEAD <= len(data) and data[pos : pos + 2] == _SYNC:
        (size,) = struct.unpack_from("<I", data, pos + 11)
        if pos + _FRAME_HEAD + size + 4 > len(data):
            break
        out.append((pos, size))
        pos += _FRAME_HEAD + size + 4
    return out


def reseal(data: bytes, start: int) -> bytes:
    """``data`` with the CRC32 of every well-formed frame from ``start`` on recomputed."""
    b = bytearray(data)
    for pos, size in _frames(b, start):
        end = pos + _FRAME_HEAD + size
        b[end : end + 4] = struct.pack("<I", zlib.crc32(bytes(b[pos:end])))
    return bytes(b)


def mutate_stream(data: bytes, rng: np.random.Generator, *, start: int) -> bytes:
    """One mutation of a stream whose frames start at ``start`` (its header's length):
    half the time a plain :func:`mutate`, otherwise :func:`forge`."""
    if rng.integers(2):
        return mutate(data, rng, start=start)
    return forge(data, rng, start=start)


def forge(data: bytes, rng: np.random.Generator, *, start: int) -> bytes:
    """A forged stream: payload bytes flipped or overwritten, or a frame's flags, index
    or sample count set to a lie, then every frame resealed so the damage gets past
    the CRC32 checks."""
    b = bytearray(data)
    frames = _frames(b, start)
    if not frames:
        return mutate(data, rng, start=start)
    for _ in range(int(rng.integers(1, 4))):
        pos, size = frames[int(rng.integers(len(frames)))]
        what = int(rng.integers(4))
        if what == 0 and size:  # payload bytes: bit flips or random values
            for _ in range(int(rng.integers(1, 5))):
                p = pos + _FRAME_HEAD + int(rng.integers(size))
                b[p] = (
                    b[p] ^ (1 << int(rng.integers(8)))
                    if rng.integers(2)
                    else int(rng.integers(256))
                )
        elif what == 1:  # flags
            b[pos + 2] = int(rng.choice([0, 1, 2, 3, 4, 0x80, 0xFF]))
        else:  # index or samples
            lie = int(rng.choice(_LIES)) if rng.integers(2) else int(rng.integers(2**32))
            struct.pack_into("<I", b, pos + (3 if what == 2 else 7), lie)
    return reseal(bytes(b), start)


def drawn_damage(data: Any, good: bytes) -> bytes:
    """1-4 bit flips, cuts or appended bytes drawn from hypothesis's ``st.data()`` object
    ``data`` (so a failing case shrinks), for the property tests of the payload decoders."""
    from hypothesis import strategies as st  # the fuzzers above run without hypothesis

    buf = bytearray(good)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "grow"]))
        if kind == "flip" and buf:
            i = data.draw(st.integers(0, len(buf) - 1))
            buf[i] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "cut":
            del buf[data.draw(st.integers(0, len(buf))) :]
        else:
            buf += data.draw(st.binary(min_size=1, max_size=8))
    return bytes(buf)
