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

A *context model* (``EntropyTables.thresholds`` not empty) keeps ``contexts``
tables per channel and picks one per code from the codes already coded next to
it in the same latent: the previous position along each of ``neighbours`` (latent
axes; axis 0 is the previous channel, the last axis the left neighbour). The
context class is the number of ``thresholds`` at or below the sum of the
neighbours' magnitudes (:func:`context_classes`, the one law; a missing neighbour
counts 0, an escaped one :data:`MAG_CAP`). rANS codes in reverse, which static
tables allow: the encoder knows every context, the decoder computes each one from
codes it has already decoded. The factorized model is the one-context case.

An *adaptive model* (``EntropyTables.adapt`` above 0, format version 5) starts from
such tables and adapts them within a frame: every row keeps integer counts, the
manifest's frequencies times ``adapt`` (the prior's weight, in codes), and after each
latent (item, window) of the frame every code it held adds ``2**precision`` to its
row's count of its symbol. Rows are split further by the code's place in its latent
when ``positions`` is set (:func:`position_map`: first, inner or last along every axis
but the channel axis), so a border that codes differently adapts apart. A latent is
coded with the tables its predecessors left (:func:`adaptive_cdf`, integer floor
division: the same on every CPU), so the encoder knows every code's frequencies
before it codes in reverse, and the decoder rebuilds them as it decodes forward.

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
from itertools import pairwise

import numpy as np

from ..errors import InputError, StreamError
from ..manifest import CodecSpec, EntropySpec

__all__ = [
    "ENTROPY_MODELS",
    "MAG_CAP",
    "MAX_ADAPT",
    "MAX_CONTEXTS",
    "MAX_PRECISION",
    "RANS_L",
    "EntropyTables",
    "adaptive_cdf",
    "codec_tables",
    "context_classes",
    "decode_frames",
    "encode_frames",
    "neighbour_map",
    "position_map",
]

RANS_L = 1 << 16  # the state lives in [RANS_L, 2**32)
MAX_PRECISION = 16  # 32-bit state with 16-bit words: 2**precision must not exceed RANS_L
MAX_SYMBOLS = 1 << 12  # symbols per table, escape included: bounds a manifest's tables
MAX_CONTEXTS = 16  # context classes per channel
MAG_CAP = 1 << 12  # a neighbour's magnitude is clipped here (an escaped neighbour counts this)
MAX_AXES = 4  # latent rank bound (the stream header's)
MAX_ADAPT = 1 << 12  # an adaptive model's prior weight, in codes
#: Codes in one frame of an adaptive model: its counts then stay below 2**45, and their
#: products with 2**precision below 2**63 (int64, no overflow on any CPU).
MAX_ADAPTIVE_CODES = 1 << 28
#: The entropy models a manifest can carry, by the name a stream header gives them.
ENTROPY_MODELS = ("factorized", "context", "adaptive")
_WORD = 16
_MASK16 = 0xFFFF
_ADAPTIVE_LANES = 16  # an adaptive model's frames coded at once (its counts per lane)


@dataclass(frozen=True, eq=False)
class EntropyTables:
    """Quantized CDFs, ``contexts`` rows per latent channel, plus the value each channel's
    symbol 0 codes.

    ``cdf[c * contexts + k]`` (channel ``c``, context class ``k``) is non-decreasing from 0
    to ``2**precision`` with ``S + 1`` entries for ``S`` symbols; symbol ``s < S - 1``
    codes the value ``offset[c] + s`` and symbol ``S - 1`` is the escape. Every symbol
    has a frequency of at least 1. ``thresholds`` (rising, positive) and ``neighbours``
    (rising latent axes) define the context classes (:func:`context_classes`); both
    empty is the factorized model, one table per channel. ``adapt`` above 0 makes it an
    adaptive model (the tables are its prior, of that weight in codes); ``positions``
    (adaptive only) splits its rows by the code's place in its latent (:func:`position_map`).
    """

    cdf: np.ndarray  # (channels * contexts, symbols + 1) int64
    offset: np.ndarray  # (channels,) int64
    precision: int = MAX_PRECISION
    thresholds: tuple[int, ...] = ()
    neighbours: tuple[int, ...] = ()
    adapt: int = 0
    positions: bool = False

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
        thresholds = tuple(int(t) for t in self.thresholds)
        neighbours = tuple(int(a) for a in self.neighbours)
        if (
            len(thresholds) >= MAX_CONTEXTS
            or any(not 1 <= t <= MAG_CAP for t in thresholds)
            or any(b <= a for a, b in pairwise(thresholds))
        ):
            raise InputError(
                f"entropy context thresholds must rise within 1..{MAG_CAP}, at most "
                f"{MAX_CONTEXTS - 1} of them, got {list(thresholds)}",
                param="thresholds",
            )
        if (
            bool(thresholds) != bool(neighbours)
            or any(not 0 <= a < MAX_AXES for a in neighbours)
            or any(b <= a for a, b in pairwise(neighbours))
        ):
            raise InputError(
                f"entropy context neighbours must be rising latent axes 0..{MAX_AXES - 1}, "
                f"given exactly when thresholds are, got {list(neighbours)}",
                param="neighbours",
            )
        if isinstance(self.adapt, bool) or not isinstance(self.adapt, (int, np.integer)) or not (
            0 <= int(self.adapt) <= MAX_ADAPT
        ):
            raise InputError(
                f"entropy adaptation weight must be an integer 0..{MAX_ADAPT}, got {self.adapt!r}",
                param="adapt",
            )
        if not isinstance(self.positions, (bool, np.bool_)) or (self.positions and not self.adapt):
            raise InputError(
                "entropy positions must be true or false, and true only for an adaptive "
                f"model (adapt above 0), got {self.positions!r}",
                param="positions",
            )
        contexts = len(thresholds) + 1
        if offset.ndim != 1 or offset.size * contexts != cdf.shape[0]:
            raise InputError(
                f"entropy offset needs one value per channel ({cdf.shape[0]} cdf rows / "
                f"{contexts} context(s)), got shape {offset.shape}",
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
        object.__setattr__(self, "thresholds", thresholds)
        object.__setattr__(self, "neighbours", neighbours)
        object.__setattr__(self, "adapt", int(self.adapt))
        object.__setattr__(self, "positions", bool(self.positions))

    @cached_property
    def rows(self) -> list[list[int]]:
        """The tables as Python integers, for the scalar (one frame) path."""
        return self.cdf.tolist()

    @cached_property
    def flat(self) -> np.ndarray:
        """Every row in one rising array (row ``r`` shifted by ``r * (2**precision + 1)``),
        so one ``searchsorted`` finds each lane's symbol in its own row."""
        shift = np.arange(self.cdf.shape[0], dtype=np.int64) * ((1 << self.precision) + 1)
        return (self.cdf + shift[:, None]).ravel()

    @property
    def channels(self) -> int:
        """Number of latent channels."""
        return int(self.offset.size)

    @property
    def contexts(self) -> int:
        """Context classes (tables) per channel: 1 for the factorized model."""
        return len(self.thresholds) + 1

    @property
    def model(self) -> str:
        """The entropy model's name in :data:`ENTROPY_MODELS`."""
        if self.adapt:
            return "adaptive"
        return "context" if self.thresholds else "factorized"

    def position_classes(self, latent_shape: Sequence[int]) -> int:
        """Position classes of latents of ``latent_shape``: ``3 ** (rank - 1)`` with
        ``positions``, else 1."""
        return 3 ** (len(latent_shape) - 1) if self.positions else 1

    @property
    def symbols(self) -> int:
        """Symbols per table, the escape included."""
        return int(self.cdf.shape[1] - 1)

    @classmethod
    def from_pmf(
        cls,
        pmf: np.ndarray,
        offset: Sequence[int] | np.ndarray,
        precision: int = MAX_PRECISION,
        *,
        thresholds: Sequence[int] = (),
        neighbours: Sequence[int] = (),
        adapt: int = 0,
        positions: bool = False,
    ) -> EntropyTables:
        """Quantize probabilities ``(rows, symbols)`` (escape last) into integer tables.

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
            raise InputError(f"{symbols} symbols do not fit {precision}-bit tables", param="pmf")
        share = p / sums * (total - symbols)
        freq = np.floor(share).astype(np.int64) + 1
        short = total - freq.sum(axis=1)
        order = np.argsort(-(share - np.floor(share)), axis=1, kind="stable")
        for row in range(p.shape[0]):
            freq[row, order[row, : short[row]]] += 1
        cdf = np.zeros((p.shape[0], symbols + 1), dtype=np.int64)
        np.cumsum(freq, axis=1, out=cdf[:, 1:])
        return cls(
            cdf=cdf,
            offset=np.asarray(offset, dtype=np.int64),
            precision=precision,
            thresholds=tuple(thresholds),
            neighbours=tuple(neighbours),
            adapt=adapt,
            positions=positions,
        )

    def to_spec(self) -> EntropySpec:
        """The manifest's form of these tables (integers only)."""
        return EntropySpec(
            precision=self.precision,
            offset=tuple(int(v) for v in self.offset),
            cdf=tuple(tuple(int(v) for v in row) for row in self.cdf),
            thresholds=self.thresholds,
            neighbours=self.neighbours,
            adapt=self.adapt,
            positions=self.positions,
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
        return cls(
            cdf=cdf,
            offset=offset,
            precision=spec.precision,
            thresholds=tuple(spec.thresholds),
            neighbours=tuple(spec.neighbours),
            adapt=spec.adapt,
            positions=spec.positions,
        )

    @cached_property
    def digest(self) -> bytes:
        """8 bytes that name these tables in a stream header (the same on every platform).

        A context model's digest also covers its context law (thresholds, neighbours), an
        adaptive model's its adaptation (weight, positions)."""
        h = hashlib.sha256(b"edgeae-entropy-v1")
        h.update(np.asarray([self.precision, *self.cdf.shape], dtype="<i8").tobytes())
        h.update(self.cdf.astype("<i8").tobytes())
        h.update(self.offset.astype("<i8").tobytes())
        if self.thresholds:
            h.update(b"context")
            h.update(np.asarray(self.thresholds, dtype="<i8").tobytes())
            h.update(np.asarray(self.neighbours, dtype="<i8").tobytes())
        if self.adapt:
            h.update(b"adaptive")
            h.update(np.asarray([self.adapt, int(self.positions)], dtype="<i8").tobytes())
        return h.digest()[:8]


def codec_tables(codec: CodecSpec | None, model: str | None = None) -> EntropyTables | None:
    """The coder tables of a manifest's codec, or None when it has no entropy model.

    ``model`` names one (:data:`ENTROPY_MODELS`); None takes the best the manifest has:
    its adaptive model when it carries one, else its context model, else its factorized
    tables.
    """
    if model is not None and model not in ENTROPY_MODELS:
        raise InputError(
            f"entropy model must be one of {', '.join(ENTROPY_MODELS)}, got {model!r}",
            param="entropy_model",
        )
    if codec is None or codec.entropy is None:
        return None
    if model == "adaptive" or (model is None and codec.adaptive is not None):
        return EntropyTables.from_spec(codec.adaptive) if codec.adaptive is not None else None
    if model == "context" or (model is None and codec.context is not None):
        return EntropyTables.from_spec(codec.context) if codec.context is not None else None
    return EntropyTables.from_spec(codec.entropy)


def neighbour_map(latent_shape: Sequence[int], items: int, axes: Sequence[int]) -> np.ndarray:
    """Where each code's neighbours are in a frame of ``items`` latents of ``latent_shape``.

    Row ``j`` gives, for every position of the frame (latents in order, each in C
    order), the position of the previous code along latent axis ``axes[j]`` in the same
    latent, or -1 at that axis' start (no neighbour). Always an earlier position.
    """
    shape = tuple(int(d) for d in latent_shape)
    if any(not 0 <= a < len(shape) for a in axes):
        raise InputError(
            f"context neighbours {list(axes)} are not axes of latents of shape {list(shape)}",
            param="neighbours",
        )
    size = int(np.prod(shape))
    index = np.indices(shape).reshape(len(shape), -1)
    strides = [int(np.prod(shape[a + 1 :])) for a in range(len(shape))]
    pos = np.arange(size, dtype=np.int64)
    base = (np.arange(items, dtype=np.int64) * size)[:, None]
    out = np.empty((len(axes), items * size), dtype=np.int64)
    for j, a in enumerate(axes):
        one = np.where(index[a] > 0, pos - strides[a], -1)
        out[j] = np.where(one >= 0, one[None, :] + base, -1).ravel()
    return out


def position_map(latent_shape: Sequence[int], items: int) -> np.ndarray:
    """The position class of every code of a frame of ``items`` latents of ``latent_shape``.

    One base-3 digit per latent axis after the channel axis (the first axis most
    significant): 0 at the axis' first index, 2 at its last, 1 in between (an axis of
    length 1 is first). Latents of rank 1 have the one class 0.
    """
    shape = tuple(int(d) for d in latent_shape)
    index = np.indices(shape).reshape(len(shape), -1)
    cls = np.zeros(index.shape[1], dtype=np.int64)
    for a in range(1, len(shape)):
        i = index[a]
        cls = cls * 3 + np.where(i == 0, 0, np.where(i == shape[a] - 1, 2, 1))
    return np.tile(cls, items)


def adaptive_cdf(counts: np.ndarray, tables: EntropyTables) -> np.ndarray:
    """THE adapted tables: integer counts ``(..., symbols)`` (every one at least 1) ->
    cumulative frequencies ``(..., symbols + 1)`` summing to ``2**precision``.

    ``cdf[s] = s + floor(C(s) * (2**precision - symbols) / T)``, ``C(s)`` the counts
    below ``s`` and ``T`` their total: every symbol keeps a frequency of at least 1, and
    integer floor division gives the same tables on every CPU.
    """
    sym = tables.symbols
    cum = np.zeros((*counts.shape[:-1], sym + 1), dtype=np.int64)
    np.cumsum(counts, axis=-1, out=cum[..., 1:])
    spare = (1 << tables.precision) - sym
    return cum * spare // cum[..., -1:] + np.arange(sym + 1, dtype=np.int64)


def _adaptive_prior(tables: EntropyTables, classes: int) -> np.ndarray:
    """An adaptive model's counts at the start of every frame: its tables' frequencies
    times ``adapt``, one row per (channel, context class, position class)."""
    freq = np.diff(tables.cdf, axis=1)
    return np.repeat(freq, classes, axis=0) * tables.adapt


def _adaptive_layout(
    tables: EntropyTables, latent_shape: Sequence[int] | None, size: int
) -> tuple[int, np.ndarray, int]:
    """(codes per latent, position class of every code, position classes) of an adaptive
    model's frames of ``size`` codes."""
    if latent_shape is None:
        raise InputError("an adaptive model needs the latent shape", param="latent_shape")
    shape = tuple(int(d) for d in latent_shape)
    item = int(np.prod(shape)) if shape else 0
    if not shape or item < 1 or shape[0] != tables.channels or size % item:
        raise InputError(
            f"latent shape {list(shape)} must start with the {tables.channels} channels and "
            f"divide frames of {size} codes",
            param="latent_shape",
        )
    if size > MAX_ADAPTIVE_CODES:
        raise InputError(
            f"an adaptive model codes at most {MAX_ADAPTIVE_CODES} codes per frame, got {size}",
            param="codes",
        )
    classes = tables.position_classes(shape)
    pos = position_map(shape, size // item) if classes > 1 else np.zeros(size, dtype=np.int64)
    return item, pos, classes


def _magnitude(sym: np.ndarray, ch: np.ndarray, tables: EntropyTables) -> np.ndarray:
    """A code's magnitude as its neighbours see it, from its symbol (the decoder knows the
    symbol before any escaped value): ``min(|code|, MAG_CAP)``, MAG_CAP for an escape."""
    value = np.minimum(np.abs(sym + tables.offset[ch]), MAG_CAP)
    return np.where(sym == tables.symbols - 1, MAG_CAP, value)


def context_classes(
    codes: np.ndarray, channel: np.ndarray, neighbours: np.ndarray, tables: EntropyTables
) -> np.ndarray:
    """THE context law: the context class of every code of ``codes`` ``(frames, n)``.

    The number of ``tables.thresholds`` at or below the sum of the magnitudes of the
    code's neighbours (``neighbours`` from :func:`neighbour_map`, -1: counts 0).
    All zeros for a factorized model.
    """
    arr = np.asarray(codes, dtype=np.int64)
    if not tables.thresholds:
        return np.zeros(arr.shape, dtype=np.int64)
    mag = _magnitude(_symbols(arr, channel, tables), channel, tables)
    total = np.zeros(arr.shape, dtype=np.int64)
    for row in neighbours:
        total += np.where(row >= 0, mag[:, np.maximum(row, 0)], 0)
    return np.searchsorted(np.asarray(tables.thresholds), total, side="right")


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


def _neighbour_rows(neighbours: np.ndarray | None, size: int, tables: EntropyTables) -> np.ndarray:
    """The checked neighbour map of a context model (every neighbour earlier), else empty."""
    if not tables.thresholds:
        return np.zeros((0, size), dtype=np.int64)
    if neighbours is None:
        raise InputError("a context model needs the neighbour map", param="neighbours")
    nb = np.asarray(neighbours, dtype=np.int64)
    if nb.shape != (len(tables.neighbours), size) or np.any(
        (nb < -1) | (nb >= np.arange(size)[None, :])
    ):
        raise InputError(
            f"neighbour map must be ({len(tables.neighbours)}, {size}) earlier positions or -1",
            param="neighbours",
        )
    return nb


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
    codes: np.ndarray,
    channel: Sequence[int] | np.ndarray,
    tables: EntropyTables,
    *,
    neighbours: np.ndarray | None = None,
    latent_shape: Sequence[int] | None = None,
) -> list[bytes]:
    """Integer codes ``(frames, codes_per_frame)`` -> one entropy-coded payload per frame.

    ``channel[i]`` names the channel that codes position ``i`` of every frame; a context
    model also needs ``neighbours`` (:func:`neighbour_map` of the frame's latents), an
    adaptive model ``latent_shape`` (a frame holds whole latents of that shape).
    """
    arr = np.asarray(codes)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(
            f"codes must be a 2-D integer array (frames, codes), got {arr.dtype} {arr.shape}",
            param="codes",
        )
    arr = arr.astype(np.int64)
    ch = _channel_map(channel, arr.shape[1], tables)
    nb = _neighbour_rows(neighbours, arr.shape[1], tables)
    sym = _symbols(arr, ch, tables)
    tab = ch * tables.contexts + context_classes(arr, ch, nb, tables)
    if tables.adapt:
        item, pos, classes = _adaptive_layout(tables, latent_shape, arr.shape[1])
        start, freq = _adaptive_freqs(sym, tab * classes + pos, tables, item, classes)
        if arr.shape[0] == 1:
            words = [_rans_one(start[0].tolist(), freq[0].tolist(), tables.precision)]
        else:
            words = _rans_lanes(start, freq, tables.precision)
    elif arr.shape[0] == 1:
        words = [_encode_one(sym[0], tab[0], tables)]
    else:
        words = _encode_lanes(sym, tab, tables)
    escape = tables.symbols - 1
    out = []
    for row, row_words in enumerate(words):
        tail = b"".join(_varint(int(v)) for v in arr[row][sym[row] == escape])
        out.append(row_words.astype("<u2").tobytes() + tail)
    return out


def _encode_one(sym: np.ndarray, tab: np.ndarray, tables: EntropyTables) -> np.ndarray:
    """One frame, scalar Python integers: the reference the vector path must match."""
    rows = tables.rows
    p = tables.precision
    x = RANS_L
    emitted: list[int] = []
    syms, tabs = sym.tolist(), tab.tolist()
    for i in range(len(syms) - 1, -1, -1):
        row = rows[tabs[i]]
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


def _encode_lanes(sym: np.ndarray, tab: np.ndarray, tables: EntropyTables) -> list[np.ndarray]:
    """Many frames at once, one per lane; a lane's words come out in its decoder's order."""
    start = tables.cdf[tab, sym]
    return _rans_lanes(start, tables.cdf[tab, sym + 1] - start, tables.precision)


def _adaptive_freqs(
    sym: np.ndarray, row: np.ndarray, tables: EntropyTables, item: int, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every code's (start, frequency) under an adaptive model, frames ``(lanes, n)`` of
    latents of ``item`` codes, ``row`` each code's table row: a forward pass that codes
    nothing, so the rANS coder can then run in reverse."""
    frames, size = sym.shape
    total = 1 << tables.precision
    prior = _adaptive_prior(tables, classes)
    start = np.empty((frames, size), dtype=np.int64)
    freq = np.empty((frames, size), dtype=np.int64)
    block = _ADAPTIVE_LANES  # lanes at a time: the counts are (lanes, rows, symbols)
    for first in range(0, frames, block):
        lanes = slice(first, min(first + block, frames))
        n = lanes.stop - first
        counts = np.broadcast_to(prior, (n, *prior.shape)).copy()
        cdf = np.broadcast_to(adaptive_cdf(prior, tables), (n, prior.shape[0], prior.shape[1] + 1))
        cdf = cdf.copy()
        lane = np.arange(n)[:, None]
        for at in range(0, size, item):
            part = slice(at, at + item)
            r, s = row[lanes, part], sym[lanes, part]
            low = cdf[lane, r, s]
            start[lanes, part] = low
            freq[lanes, part] = cdf[lane, r, s + 1] - low
            np.add.at(counts, (lane, r, s), total)
            touched = np.unique(r)  # only their tables change
            cdf[:, touched] = adaptive_cdf(counts[:, touched], tables)
    return start, freq


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


def decode_frames(
    payloads: Sequence[bytes],
    channel: Sequence[int] | np.ndarray,
    tables: EntropyTables,
    *,
    where: Sequence[str] | None = None,
    neighbours: np.ndarray | None = None,
    latent_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """Entropy-coded payloads -> integer codes ``(frames, len(channel))``; StreamError if corrupt.

    ``where`` names each payload in errors (e.g. ``"frame 12 at byte 345"``); a context
    model also needs ``neighbours``, an adaptive model ``latent_shape``, as for
    :func:`encode_frames`.
    """
    ch = np.asarray(channel, dtype=np.int64).reshape(-1)
    ch = _channel_map(ch, ch.size, tables)
    nb = _neighbour_rows(neighbours, ch.size, tables)
    names = list(where) if where is not None else [f"frame {i}" for i in range(len(payloads))]
    size = ch.size
    frames = len(payloads)
    layout = _adaptive_layout(tables, latent_shape, size) if tables.adapt else None
    if layout is not None and frames > _ADAPTIVE_LANES:  # bounded counts: lanes in blocks
        return np.concatenate(
            [
                decode_frames(
                    payloads[i : i + _ADAPTIVE_LANES],
                    ch,
                    tables,
                    where=names[i : i + _ADAPTIVE_LANES],
                    neighbours=neighbours,
                    latent_shape=latent_shape,
                )
                for i in range(0, frames, _ADAPTIVE_LANES)
            ]
        )
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
    if layout is not None and frames == 1:
        sym, pos, x = _decode_adaptive_one(table[0, : counts[0]].tolist(), ch, nb, tables, *layout)
        sym, pos, x = sym[None, :], np.array([pos]), np.array([x], dtype=np.uint64)
    elif layout is not None:
        sym, pos, x = _decode_adaptive(table, ch, nb, tables, *layout)
    elif frames == 1:
        sym, pos, x = _decode_one(table[0, : counts[0]].tolist(), ch, nb, tables)
        sym, pos, x = sym[None, :], np.array([pos]), np.array([x], dtype=np.uint64)
    else:
        sym, pos, x = _decode_lanes(table, ch, nb, tables)
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


def _context_class_lanes(
    mag: np.ndarray, neighbours: list[int], thresholds: np.ndarray
) -> np.ndarray:
    """Every lane's context class: its coded neighbours' summed magnitudes against
    ``thresholds`` (the law of :func:`context_classes`)."""
    total = np.zeros(mag.shape[0], dtype=np.int64)
    for j in neighbours:
        total += mag[:, j]
    return np.searchsorted(thresholds, total, side="right")


def _decode_one(words: list[int], ch: np.ndarray, nb: np.ndarray, tables: EntropyTables):
    """One frame, scalar Python integers: symbols, words read, final state."""
    rows = tables.rows
    p = tables.precision
    x = (words[0] << _WORD) | words[1]
    pos = 2
    k = tables.contexts
    escape = tables.symbols - 1
    offset = tables.offset[ch].tolist()
    chans = ch.tolist()
    nbs = nb.T.tolist()
    thresholds = list(tables.thresholds)
    mags: list[int] = []
    sym = np.empty(len(chans), dtype=np.int64)
    for i, c in enumerate(chans):
        t = c
        if k > 1:
            total = sum(mags[j] for j in nbs[i] if j >= 0)
            t = c * k + bisect_right(thresholds, total)
        s, x, pos = _rans_step(x, pos, rows[t], words, p)
        sym[i] = s
        if k > 1:
            mags.append(MAG_CAP if s == escape else min(abs(s + offset[i]), MAG_CAP))
    return sym, pos, x


def _decode_lanes(table: np.ndarray, ch: np.ndarray, nb: np.ndarray, tables: EntropyTables):
    """Many frames at once, one per lane (``table`` holds each lane's words, zero-padded)."""
    frames = table.shape[0]
    x = (table[:, 0] << np.uint64(_WORD)) | table[:, 1]
    pos = np.full(frames, 2, dtype=np.int64)
    p = tables.precision
    k = tables.contexts
    flat, cdf = tables.flat, tables.cdf
    thresholds = np.asarray(tables.thresholds, dtype=np.int64)
    escape = tables.symbols - 1
    offset = tables.offset[ch]
    sym = np.empty((frames, ch.size), dtype=np.int64)
    mag = np.zeros((frames, ch.size), dtype=np.int64) if k > 1 else None
    nbs = [[int(j) for j in col if j >= 0] for col in nb.T] if k > 1 else None
    for i in range(ch.size):
        if mag is not None and nbs is not None:
            t = ch[i] * k + _context_class_lanes(mag, nbs[i], thresholds)
        else:
            t = np.full(frames, ch[i], dtype=np.int64)
        s, x, pos = _rans_step_lanes(x, pos, t, flat, cdf, table, p)
        sym[:, i] = s
        if mag is not None:
            mag[:, i] = np.where(s == escape, MAG_CAP, np.minimum(np.abs(s + offset[i]), MAG_CAP))
    return sym, pos, x


def _decode_adaptive(
    table: np.ndarray,
    ch: np.ndarray,
    nb: np.ndarray,
    tables: EntropyTables,
    item: int,
    positions: np.ndarray,
    classes: int,
):
    """An adaptive model's frames, one per lane: the tables are rebuilt from the counts
    before every latent, and the counts take the latent's codes once it is decoded."""
    frames = table.shape[0]
    lanes = np.arange(frames)
    x = (table[:, 0] << np.uint64(_WORD)) | table[:, 1]
    pos = np.full(frames, 2, dtype=np.int64)
    p = tables.precision
    total = 1 << p
    k = tables.contexts
    row_len = tables.symbols + 1
    row_shift = total + 1
    thresholds = np.asarray(tables.thresholds, dtype=np.int64)
    escape = tables.symbols - 1
    offset = tables.offset[ch]
    prior = _adaptive_prior(tables, classes)
    rows = prior.shape[0]
    counts = np.broadcast_to(prior, (frames, *prior.shape)).copy()
    lane_row = (lanes * rows)[:, None]
    shifts = (np.arange(frames * rows, dtype=np.int64) * row_shift)[:, None]
    sym = np.empty((frames, ch.size), dtype=np.int64)
    used = np.empty((frames, ch.size), dtype=np.int64)
    mag = np.zeros((frames, ch.size), dtype=np.int64) if k > 1 else None
    nbs = [[int(j) for j in col if j >= 0] for col in nb.T] if k > 1 else None
    cdf = flat = None
    for i in range(ch.size):
        if i % item == 0:
            if i:
                part = slice(i - item, i)
                np.add.at(counts, (lanes[:, None], used[:, part], sym[:, part]), total)
            cdf = adaptive_cdf(counts, tables).reshape(frames * rows, row_len)
            flat = (cdf + shifts).ravel()
        base = ch[i] * k
        if mag is not None and nbs is not None:
            base = base + _context_class_lanes(mag, nbs[i], thresholds)
        r = base * classes + positions[i]
        t = r + lane_row[:, 0]
        s, x, pos = _rans_step_lanes(x, pos, t, flat, cdf, table, p)
        sym[:, i] = s
        used[:, i] = r
        if mag is not None:
            mag[:, i] = np.where(s == escape, MAG_CAP, np.minimum(np.abs(s + offset[i]), MAG_CAP))
    return sym, pos, x


def _decode_adaptive_one(
    words: list[int],
    ch: np.ndarray,
    nb: np.ndarray,
    tables: EntropyTables,
    item: int,
    positions: np.ndarray,
    classes: int,
):
    """One frame of an adaptive model, scalar Python integers (the tables a latent
    changed are rebuilt after it): symbols, words read, final state."""
    p = tables.precision
    total = 1 << p
    x = (words[0] << _WORD) | words[1]
    at = 2
    k = tables.contexts
    escape = tables.symbols - 1
    offset = tables.offset[ch].tolist()
    chans = ch.tolist()
    places = positions.tolist()
    nbs = nb.T.tolist()
    thresholds = list(tables.thresholds)
    counts = _adaptive_prior(tables, classes)
    rows = adaptive_cdf(counts, tables).tolist()
    mags: list[int] = []
    sym = np.empty(len(chans), dtype=np.int64)
    used = np.empty(len(chans), dtype=np.int64)
    for i, c in enumerate(chans):
        if i and i % item == 0:
            r_part = used[i - item : i]
            np.add.at(counts, (r_part, sym[i - item : i]), total)
            touched = np.unique(r_part)
            new_rows = adaptive_cdf(counts[touched], tables).tolist()
            for r, new in zip(touched.tolist(), new_rows, strict=True):
                rows[r] = new
        t = c
        if k > 1:
            acc = sum(mags[j] for j in nbs[i] if j >= 0)
            t = c * k + bisect_right(thresholds, acc)
        t = t * classes + places[i]
        s, x, at = _rans_step(x, at, rows[t], words, p)
        sym[i] = s
        used[i] = t
        if k > 1:
            mags.append(MAG_CAP if s == escape else min(abs(s + offset[i]), MAG_CAP))
    return sym, at, x
