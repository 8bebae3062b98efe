"""The entropy model's integer tables (:class:`EntropyTables`) and the bounds they keep.

One table of cumulative frequencies per latent channel and context class, summing to
``2**precision``, its last symbol the escape: built from probabilities on the host
(:meth:`EntropyTables.from_pmf`), carried in the manifest as integers (``to_spec`` /
``from_spec``), named in a stream header by its digest, and picked from a manifest's
codec by :func:`codec_tables`. Every check a hostile manifest's tables must pass is here,
so the coder (:mod:`.coder`) can trust them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np

from ...errors import InputError
from ...manifest import CodecSpec, EntropySpec

MAX_PRECISION = 16  # 32-bit state with 16-bit words: 2**precision must not exceed RANS_L
MAX_SYMBOLS = 1 << 12  # symbols per table, escape included: bounds a manifest's tables
MAX_CONTEXTS = 16  # context classes per channel
MAG_CAP = 1 << 12  # a neighbour's magnitude is clipped here (an escaped neighbour counts this)
MAX_AXES = 4  # latent rank bound (the stream header's)
MAX_ADAPT = 1 << 12  # an adaptive model's prior weight, in codes
#: The entropy models a manifest can carry, by the name a stream header gives them.
ENTROPY_MODELS = ("factorized", "context", "adaptive")


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


def _symbols(codes: np.ndarray, channel: np.ndarray, tables: EntropyTables) -> np.ndarray:
    """Codes -> table symbols; out-of-support codes become the escape symbol."""
    sym = codes - tables.offset[channel]
    escape = tables.symbols - 1
    return np.where((sym < 0) | (sym >= escape), escape, sym)
