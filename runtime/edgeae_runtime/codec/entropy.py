"""Entropy coding of integer latent codes: rANS over quantized CDF tables, integers only.

A frame's codes are entropy-coded with a range-asymmetric numeral system (rANS,
32-bit state, 16-bit words): one table of cumulative frequencies per latent
channel, summing to ``2**precision``, comes from the model's learned entropy
model and travels in the manifest as integers. Coding uses only integer
arithmetic, so the same codes give the same bytes on every CPU, and the bytes
decode to the same codes everywhere.

Every table reserves its last symbol as an *escape*: a code outside the
table's support is coded as the escape, and its value follows the rANS words as
a zig-zag varint, so any integer round-trips exactly, only at a higher cost.

Payload layout, per frame: ``[rANS words, uint16 little-endian][escape varints]``.
The decoder reads words as it needs them, so no length field is stored; the
state must end where the encoder started (``RANS_L``) or the payload is corrupt.

Many frames are coded at once, one frame per vector lane (numpy), because a
Python loop per symbol would dominate a device's time budget; one frame alone
takes the scalar path, which produces the same bytes.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import InputError, StreamError
from ..manifest import CodecSpec, EntropySpec

__all__ = [
    "MAX_PRECISION",
    "RANS_L",
    "EntropyTables",
    "codec_tables",
    "decode_frames",
    "encode_frames",
]

RANS_L = 1 << 16  # the state lives in [RANS_L, 2**32)
MAX_PRECISION = 16  # 32-bit state with 16-bit words: 2**precision must not exceed RANS_L
MAX_SYMBOLS = 1 << 12  # symbols per table, escape included: bounds a manifest's tables
_WORD = 16
_MASK16 = 0xFFFF


@dataclass(frozen=True, eq=False)
class EntropyTables:
    """Quantized CDFs, one row per latent channel, plus the value each row's symbol 0 codes.

    ``cdf[c]`` is non-decreasing from 0 to ``2**precision`` with ``S + 1`` entries
    for ``S`` symbols; symbol ``s < S - 1`` codes the value ``offset[c] + s`` and
    symbol ``S - 1`` is the escape. Every symbol has a frequency of at least 1.
    """

    cdf: np.ndarray  # (channels, symbols + 1) int64
    offset: np.ndarray  # (channels,) int64
    precision: int = MAX_PRECISION

    def __post_init__(self) -> None:
        cdf = np.asarray(self.cdf)
        offset = np.asarray(self.offset)
        if not 1 <= int(self.precision) <= MAX_PRECISION:
            raise InputError(
                f"entropy precision must be 1..{MAX_PRECISION} bits, got {self.precision}",
                param="precision",
            )
        if cdf.ndim != 2 or cdf.shape[0] < 1 or not 3 <= cdf.shape[1] <= MAX_SYMBOLS + 1:
            raise InputError(
                "entropy cdf must be a (channels, symbols + 1) table with 2 to "
                f"{MAX_SYMBOLS} symbols, got shape {cdf.shape}",
                param="cdf",
            )
        if not np.issubdtype(cdf.dtype, np.integer) or not np.issubdtype(offset.dtype, np.integer):
            raise InputError("entropy cdf and offset must be integers", param="cdf")
        if offset.shape != (cdf.shape[0],):
            raise InputError(
                f"entropy offset needs one value per cdf row ({cdf.shape[0]}), "
                f"got shape {offset.shape}",
                param="offset",
            )
        total = 1 << int(self.precision)
        cdf = cdf.astype(np.int64)
        if np.any(cdf[:, 0] != 0) or np.any(cdf[:, -1] != total):
            raise InputError(f"every entropy cdf row must run from 0 to {total}", param="cdf")
        if np.any(np.diff(cdf, axis=1) < 1):
            raise InputError(
                "every entropy cdf row must rise by at least 1 per symbol", param="cdf"
            )
        if np.any(np.abs(offset.astype(np.int64)) > 1 << 30):
            raise InputError("entropy offsets must lie within +-2**30", param="offset")
        object.__setattr__(self, "cdf", cdf)
        object.__setattr__(self, "offset", offset.astype(np.int64))
        object.__setattr__(self, "precision", int(self.precision))

    @cached_property
    def rows(self) -> list[list[int]]:
        """The tables as Python integers, for the scalar (one frame) path."""
        return self.cdf.tolist()

    @property
    def channels(self) -> int:
        """Number of tables (latent channels)."""
        return int(self.cdf.shape[0])

    @property
    def symbols(self) -> int:
        """Symbols per table, the escape included."""
        return int(self.cdf.shape[1] - 1)

    @classmethod
    def from_pmf(
        cls, pmf: np.ndarray, offset: Sequence[int] | np.ndarray, precision: int = MAX_PRECISION
    ) -> EntropyTables:
        """Quantize probabilities ``(channels, symbols)`` (escape last) into integer tables.

        Every symbol keeps a frequency of at least 1 (any code stays codable); the
        rest of ``2**precision`` is shared in proportion to ``pmf``, the rounding
        remainder going to the largest fractional parts (ties to the lower index),
        so the same probabilities always give the same tables.
        """
        p = np.asarray(pmf, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] < 2 or not np.all(np.isfinite(p)) or np.any(p < 0):
            raise InputError(
                "pmf must be a finite, non-negative (channels, symbols) array", param="pmf"
            )
        sums = p.sum(axis=1, keepdims=True)
        if np.any(sums <= 0):
            raise InputError("every pmf row needs some probability mass", param="pmf")
        total = 1 << int(precision)
        symbols = p.shape[1]
        if symbols > min(total, MAX_SYMBOLS):
            raise InputError(
                f"{symbols} symbols do not fit {precision}-bit tables", param="pmf"
            )
        share = p / sums * (total - symbols)
        freq = np.floor(share).astype(np.int64) + 1
        short = total - freq.sum(axis=1)
        order = np.argsort(-(share - np.floor(share)), axis=1, kind="stable")
        for row in range(p.shape[0]):
            freq[row, order[row, : short[row]]] += 1
        cdf = np.zeros((p.shape[0], symbols + 1), dtype=np.int64)
        np.cumsum(freq, axis=1, out=cdf[:, 1:])
        return cls(cdf=cdf, offset=np.asarray(offset, dtype=np.int64), precision=precision)

    def to_spec(self) -> EntropySpec:
        """The manifest's form of these tables (integers only)."""
        return EntropySpec(
            precision=self.precision,
            offset=tuple(int(v) for v in self.offset),
            cdf=tuple(tuple(int(v) for v in row) for row in self.cdf),
        )

    @classmethod
    def from_spec(cls, spec: EntropySpec) -> EntropyTables:
        """Tables from the manifest; InputError naming the field if they are malformed."""
        try:
            cdf = np.asarray(spec.cdf, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            raise InputError("rows must all have the same length", param="cdf") from None
        try:
            offset = np.asarray(spec.offset, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            raise InputError("must be integers within +-2**30", param="offset") from None
        return cls(cdf=cdf, offset=offset, precision=spec.precision)

    @cached_property
    def digest(self) -> bytes:
        """8 bytes that name these tables in a stream header (the same on every platform)."""
        h = hashlib.sha256(b"edgeae-entropy-v1")
        h.update(np.asarray([self.precision, *self.cdf.shape], dtype="<i8").tobytes())
        h.update(self.cdf.astype("<i8").tobytes())
        h.update(self.offset.astype("<i8").tobytes())
        return h.digest()[:8]


def codec_tables(codec: CodecSpec | None) -> EntropyTables | None:
    """The coder tables of a manifest's codec, or None when it has no entropy model."""
    if codec is None or codec.entropy is None:
        return None
    return EntropyTables.from_spec(codec.entropy)


def _symbols(codes: np.ndarray, channel: np.ndarray, tables: EntropyTables) -> np.ndarray:
    """Codes -> table symbols; out-of-support codes become the escape symbol."""
    sym = codes - tables.offset[channel]
    escape = tables.symbols - 1
    return np.where((sym < 0) | (sym >= escape), escape, sym)


def _channel_map(channel: Sequence[int] | np.ndarray, size: int, tables: EntropyTables):
    ch = np.asarray(channel, dtype=np.int64).reshape(-1)
    if ch.size != size:
        raise InputError(
            f"channel map has {ch.size} entries for frames of {size} codes", param="channel"
        )
    if ch.size and (ch.min() < 0 or ch.max() >= tables.channels):
        raise InputError(
            f"channel map must index the {tables.channels} entropy tables", param="channel"
        )
    return ch


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


def encode_frames(
    codes: np.ndarray, channel: Sequence[int] | np.ndarray, tables: EntropyTables
) -> list[bytes]:
    """Integer codes ``(frames, codes_per_frame)`` -> one entropy-coded payload per frame.

    ``channel[i]`` names the table that codes position ``i`` of every frame.
    """
    arr = np.asarray(codes)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(
            f"codes must be a 2-D integer array (frames, codes), got {arr.dtype} {arr.shape}",
            param="codes",
        )
    arr = arr.astype(np.int64)
    ch = _channel_map(channel, arr.shape[1], tables)
    sym = _symbols(arr, ch, tables)
    if arr.shape[0] == 1:
        words = [_encode_one(sym[0], ch, tables)]
    else:
        words = _encode_lanes(sym, ch, tables)
    escape = tables.symbols - 1
    out = []
    for row, row_words in enumerate(words):
        tail = b"".join(_varint(int(v)) for v in arr[row][sym[row] == escape])
        out.append(row_words.astype("<u2").tobytes() + tail)
    return out


def _encode_one(sym: np.ndarray, ch: np.ndarray, tables: EntropyTables) -> np.ndarray:
    """One frame, scalar Python integers: the reference the vector path must match."""
    rows = tables.rows
    p = tables.precision
    x = RANS_L
    emitted: list[int] = []
    syms, chans = sym.tolist(), ch.tolist()
    for i in range(len(syms) - 1, -1, -1):
        row = rows[chans[i]]
        s = syms[i]
        start = row[s]
        freq = row[s + 1] - start
        if x >= freq << (32 - p):
            emitted.append(x & _MASK16)
            x >>= _WORD
        x = ((x // freq) << p) + (x % freq) + start
    emitted.append(x & _MASK16)
    emitted.append(x >> _WORD)
    return np.asarray(emitted[::-1], dtype=np.uint16)


def _encode_lanes(sym: np.ndarray, ch: np.ndarray, tables: EntropyTables) -> list[np.ndarray]:
    """Many frames at once, one per lane; a lane's words come out in its decoder's order."""
    frames, size = sym.shape
    p = tables.precision
    x = np.full(frames, RANS_L, dtype=np.uint64)
    words = np.zeros((size + 2, frames), dtype=np.uint16)
    emit = np.zeros((size + 2, frames), dtype=bool)
    shift = np.uint64(32 - p)
    for step, i in enumerate(range(size - 1, -1, -1)):
        row = tables.cdf[ch[i]]
        start = row[sym[:, i]].astype(np.uint64)
        freq = row[sym[:, i] + 1].astype(np.uint64) - start
        out = x >= (freq << shift)
        words[step] = (x & np.uint64(_MASK16)).astype(np.uint16)
        emit[step] = out
        x = np.where(out, x >> np.uint64(_WORD), x)
        x = ((x // freq) << np.uint64(p)) + (x % freq) + start
    words[size] = (x & np.uint64(_MASK16)).astype(np.uint16)
    words[size + 1] = (x >> np.uint64(_WORD)).astype(np.uint16)
    emit[size:] = True
    return [words[emit[:, lane], lane][::-1] for lane in range(frames)]


def decode_frames(
    payloads: Sequence[bytes],
    channel: Sequence[int] | np.ndarray,
    tables: EntropyTables,
    *,
    where: Sequence[str] | None = None,
) -> np.ndarray:
    """Entropy-coded payloads -> integer codes ``(frames, len(channel))``; StreamError if corrupt.

    ``where`` names each payload in errors (e.g. ``"frame 12 at byte 345"``).
    """
    ch = np.asarray(channel, dtype=np.int64).reshape(-1)
    ch = _channel_map(ch, ch.size, tables)
    names = list(where) if where is not None else [f"frame {i}" for i in range(len(payloads))]
    size = ch.size
    frames = len(payloads)
    if frames == 0:
        return np.zeros((0, size), dtype=np.int64)
    # Pad every frame's words into one table; a lane reading past its own words is corrupt.
    counts = np.asarray([len(b) // 2 for b in payloads], dtype=np.int64)
    width = int(counts.max()) + 1
    table = np.zeros((frames, width), dtype=np.uint64)
    for lane, buf in enumerate(payloads):
        n = int(counts[lane])
        table[lane, :n] = np.frombuffer(buf[: 2 * n], dtype="<u2")
    short = counts < 2
    if np.any(short):
        raise StreamError(f"{names[int(np.argmax(short))]}: entropy-coded payload is too short")
    if frames == 1:
        sym, pos, x = _decode_one(table[0, : counts[0]].tolist(), ch.tolist(), tables)
        sym, pos, x = sym[None, :], np.array([pos]), np.array([x], dtype=np.uint64)
    else:
        sym, pos, x = _decode_lanes(table, ch, tables)
    bad = (x != np.uint64(RANS_L)) | (pos > counts)
    if np.any(bad):
        raise StreamError(f"{names[int(np.argmax(bad))]}: entropy-coded payload is corrupted")
    codes = sym + tables.offset[ch]
    escape = tables.symbols - 1
    for lane in range(frames):
        hits = np.flatnonzero(sym[lane] == escape)
        at = 2 * int(pos[lane])
        buf = payloads[lane]
        for i in hits:
            codes[lane, i], at = _read_varint(buf, at, names[lane])
        if at != len(buf):
            raise StreamError(f"{names[lane]}: {len(buf) - at} unexpected bytes after the codes")
    return codes


def _decode_one(words: list[int], ch: list[int], tables: EntropyTables):
    """One frame, scalar Python integers: symbols, words read, final state."""
    rows = tables.rows
    p = tables.precision
    mask = (1 << p) - 1
    x = (words[0] << _WORD) | words[1]
    pos = 2
    sym = np.empty(len(ch), dtype=np.int64)
    for i, c in enumerate(ch):
        row = rows[c]
        slot = x & mask
        s = bisect_right(row, slot) - 1
        start = row[s]
        x = (row[s + 1] - start) * (x >> p) + slot - start
        if x < RANS_L:
            x = (x << _WORD) | (words[pos] if pos < len(words) else 0)
            pos += 1
        sym[i] = s
    return sym, pos, x


def _decode_lanes(table: np.ndarray, ch: np.ndarray, tables: EntropyTables):
    """Many frames at once, one per lane (``table`` holds each lane's words, zero-padded)."""
    frames, width = table.shape
    lanes = np.arange(frames)
    x = (table[:, 0] << np.uint64(_WORD)) | table[:, 1]
    pos = np.full(frames, 2, dtype=np.int64)
    p = tables.precision
    mask = np.uint64((1 << p) - 1)
    sym = np.empty((frames, ch.size), dtype=np.int64)
    for i in range(ch.size):
        row = tables.cdf[ch[i]]
        slot = (x & mask).astype(np.int64)
        s = np.searchsorted(row, slot, side="right") - 1
        start = row[s]
        freq = row[s + 1] - start
        x = freq.astype(np.uint64) * (x >> np.uint64(p)) + (slot - start).astype(np.uint64)
        low = x < np.uint64(RANS_L)
        if np.any(low):
            word = table[lanes, np.minimum(pos, width - 1)]
            x = np.where(low, (x << np.uint64(_WORD)) | word, x)
            pos += low
        sym[:, i] = s
    return sym, pos, x
