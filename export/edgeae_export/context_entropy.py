"""The context entropy model's tables, fitted at export on the latents' own codes.

The runtime's context model (:mod:`edgeae_runtime.codec.entropy`: ``context_classes``
is the law) picks, per code, one of ``K`` tables of its channel from the magnitudes
of the already coded neighbours. This module counts the symbols of the export's
latents (rounded, as the codec codes them) per channel and context class, adds the
factorized tables' probabilities as a prior (so no symbol has zero probability and a
rare context falls back to the factorized table), and quantizes the result into the
same integer tables. Which neighbours, which thresholds and how strong a prior are
chosen by measurement: each candidate is fitted on one half of the items and scored
on the other half (two-fold, items split by a seeded permutation), and the best is
refitted on all of them. None when no candidate beats the factorized tables.

:func:`fit_adaptive_tables` fits the adaptive model the same way (format version 5: the
tables are a prior whose rows adapt within a frame, by latent, and split by position).
Its candidates are scored on the held-out half framed as a stream frames it
(:data:`FRAME_ITEMS` latents per frame), with the adaptation's bits computed in closed
form (counts of the earlier latents of the frame; the runtime's integer tables land
within a fraction of a percent of them).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeae_runtime.codec.entropy import (
    EntropyTables,
    context_classes,
    neighbour_map,
    position_map,
)

from .errors import ExportError

__all__ = [
    "ADAPT_WEIGHTS",
    "THRESHOLDS",
    "AdaptiveFit",
    "ContextFit",
    "fit_adaptive_tables",
    "fit_context_tables",
]

#: Candidate context thresholds (K = len + 1 classes per channel).
THRESHOLDS: tuple[tuple[int, ...], ...] = (
    (1,),
    (1, 2),
    (1, 2, 4),
    (1, 2, 3, 5),
    (1, 2, 4, 8),
    (1, 3, 6, 12),
    (1, 2, 4, 8, 16),
    (1, 2, 3, 5, 8, 13, 21),
    (1, 2, 3, 4, 6, 8, 11, 16, 23, 32),
)
#: Candidate prior strengths: the factorized table's weight, in symbols' worth of counts.
PRIOR_WEIGHTS: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0, 256.0)
#: A context model must beat the factorized tables by this share on the held-out half.
MIN_GAIN = 0.01
#: Candidate prior weights of the adaptive model (in codes; smaller adapts faster). Held
#: out on the export's own items, slow adaptation (64) always wins, because they are coded
#: as their tables were counted; on the images of benchmarks/bench_rd.py, which are not
#: the training photos, 64 saved 18.9 % over deflate at lambda 0.002 against 23.6 % at 8
#: (docs/compression.md), so the candidates stop at 16.
ADAPT_WEIGHTS: tuple[int, ...] = (4, 8, 16)
#: Candidate context thresholds of the adaptive model.
ADAPT_THRESHOLDS: tuple[tuple[int, ...], ...] = (
    (1, 2, 3, 5, 8, 13, 21),
    (1, 2, 3, 4, 6, 8, 11, 16, 23, 32),
)
#: Latents per frame the adaptive candidates are scored in (the item streams' default).
FRAME_ITEMS = 64


@dataclass(frozen=True)
class ContextFit:
    """The chosen context model and what it measured on the held-out halves (bits)."""

    tables: EntropyTables | None
    factorized_bits: float
    context_bits: float
    prior_weight: float


def _counts(sym: np.ndarray, tab: np.ndarray, rows: int, symbols: int) -> np.ndarray:
    return np.bincount((tab * symbols + sym).ravel(), minlength=rows * symbols).reshape(
        rows, symbols
    )


def _tables(
    counts: np.ndarray, base: EntropyTables, weight: float, thresholds, neighbours
) -> EntropyTables:
    k = len(thresholds) + 1
    prior = np.repeat(np.diff(base.cdf, axis=1).astype(np.float64), k, axis=0)
    prior /= prior.sum(axis=1, keepdims=True)
    return EntropyTables.from_pmf(
        counts + weight * prior,
        base.offset,
        base.precision,
        thresholds=thresholds,
        neighbours=neighbours,
    )


def _bits(tables: EntropyTables, sym: np.ndarray, tab: np.ndarray) -> float:
    freq = np.diff(tables.cdf, axis=1)
    return float(-np.log2(freq[tab, sym] / float(1 << tables.precision)).sum())


def _symbols(
    codes: np.ndarray, base: EntropyTables
) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]:
    """``(latent_shape, flat codes (N, size), channel of each position, symbols)``.

    Symbols are codes minus the channel's offset, the escape symbol where out of range.
    Raises ExportError naming ``codes`` unless they are integer latents (N, channels, ...).
    """
    arr = np.asarray(codes)
    if arr.ndim < 2 or not np.issubdtype(arr.dtype, np.integer):
        raise ExportError(f"codes: need integer latents (N, *latent_shape), got {arr.shape}")
    if arr.shape[1] != base.channels:
        raise ExportError(
            f"codes: {arr.shape[1]} latent channels, the factorized tables have {base.channels}"
        )
    latent_shape = arr.shape[1:]
    n, size = arr.shape[0], int(np.prod(latent_shape))
    flat = arr.reshape(n, size).astype(np.int64)
    ch = np.repeat(np.arange(base.channels), size // base.channels)
    sym = flat - base.offset[ch]
    escape = base.symbols - 1
    return latent_shape, flat, ch, np.where((sym < 0) | (sym >= escape), escape, sym)


def _neighbourhoods(latent_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every non-empty set of latent axes: the candidate context neighbourhoods."""
    return [
        c
        for r in range(1, len(latent_shape) + 1)
        for c in itertools.combinations(range(len(latent_shape)), r)
    ]


def _context_rows(
    flat: np.ndarray,
    ch: np.ndarray,
    latent_shape: tuple[int, ...],
    base: EntropyTables,
    axes: tuple[int, ...],
    th: tuple[int, ...],
    **layout: int | bool,
) -> tuple[EntropyTables, np.ndarray]:
    """``(probe tables, table row of every symbol)`` for neighbourhood ``axes`` split at ``th``.

    The probe repeats ``base``'s CDFs per context class (``layout``: the adaptive
    model's ``adapt``/``positions`` fields); only its layout is used, not its counts.
    """
    probe = EntropyTables(
        cdf=np.repeat(base.cdf, len(th) + 1, axis=0),
        offset=base.offset,
        precision=base.precision,
        thresholds=th,
        neighbours=axes,
        **layout,
    )
    nb = neighbour_map(latent_shape, 1, axes)
    return probe, ch * probe.contexts + context_classes(flat, ch, nb, probe)


def fit_context_tables(
    codes: np.ndarray,
    base: EntropyTables,
    *,
    thresholds: Sequence[tuple[int, ...]] = THRESHOLDS,
    weights: Sequence[float] = PRIOR_WEIGHTS,
    seed: int = 0,
) -> ContextFit:
    """Fit a context model over ``base``'s symbols to integer codes ``(N, *latent_shape)``.

    Every non-empty set of latent axes is a candidate neighbourhood, with each of
    ``thresholds`` and each prior weight of ``weights``; the winner has the fewest
    held-out bits. ``tables`` is None when it is not :data:`MIN_GAIN` below the
    factorized ``base`` (or there are fewer than 2 items to split).
    """
    latent_shape, flat, ch, sym = _symbols(codes, base)
    n = flat.shape[0]
    halves = np.array_split(np.random.default_rng(seed).permutation(n), 2)
    fact_bits = sum(_bits(base, sym[h], np.broadcast_to(ch, sym[h].shape)) for h in halves)
    if n < 2:
        return ContextFit(None, fact_bits, fact_bits, 0.0)
    best: tuple[float, tuple, tuple, float] | None = None
    for axes in _neighbourhoods(latent_shape):
        for th in thresholds:
            probe, tab = _context_rows(flat, ch, latent_shape, base, axes, th)
            rows = base.channels * probe.contexts
            counts = [_counts(sym[h], tab[h], rows, base.symbols) for h in halves]
            for w in weights:
                bits = 0.0
                for fit, score in ((0, 1), (1, 0)):
                    t = _tables(counts[fit], base, w, th, axes)
                    bits += _bits(t, sym[halves[score]], tab[halves[score]])
                if best is None or bits < best[0]:
                    best = (bits, axes, th, w)
    assert best is not None  # at least one axis, one threshold set, one weight
    bits, axes, th, w = best
    if bits > (1 - MIN_GAIN) * fact_bits:
        return ContextFit(None, fact_bits, bits, w)
    probe, tab = _context_rows(flat, ch, latent_shape, base, axes, th)
    counts = _counts(sym, tab, base.channels * probe.contexts, base.symbols)
    return ContextFit(_tables(counts, base, w, th, axes), fact_bits, bits, w)


@dataclass(frozen=True)
class AdaptiveFit:
    """The chosen adaptive model and what it measured on the held-out halves (bits)."""

    tables: EntropyTables | None
    static_bits: float
    adaptive_bits: float


def _before(key: np.ndarray, item: np.ndarray) -> np.ndarray:
    """For every entry, how many entries with the same ``key`` have a smaller ``item``."""
    order = np.lexsort((item, key))
    k, it = key[order], item[order]
    idx = np.arange(k.size)
    new_key = np.r_[True, k[1:] != k[:-1]]
    new_pair = new_key | np.r_[True, it[1:] != it[:-1]]
    out = np.empty_like(idx)
    out[order] = np.maximum.accumulate(np.where(new_pair, idx, 0)) - np.maximum.accumulate(
        np.where(new_key, idx, 0)
    )
    return out


def _adaptive_bits(
    tables: EntropyTables, sym: np.ndarray, row: np.ndarray, classes: int, adapt: int
) -> float:
    """Bits of ``sym`` ``(N, size)`` (rows ``row``) under the adaptive law with prior
    ``tables``, the items framed :data:`FRAME_ITEMS` at a time (real-valued counts)."""
    n = sym.shape[0]
    freq = np.repeat(np.diff(tables.cdf, axis=1).astype(np.float64), classes, axis=0)
    prior = (freq / float(1 << tables.precision))[row, sym]
    items = np.arange(n)
    frame = np.broadcast_to((items // FRAME_ITEMS)[:, None], sym.shape).ravel()
    item = np.broadcast_to(items[:, None], sym.shape).ravel()
    rows = frame * (freq.shape[0] + 1) + row.ravel()
    seen_sym = _before(rows * tables.symbols + sym.ravel(), item)
    seen_row = _before(rows, item)
    p = (adapt * prior.ravel() + seen_sym) / (adapt + seen_row)
    return float(-np.log2(p).sum())


def fit_adaptive_tables(
    codes: np.ndarray,
    base: EntropyTables,
    *,
    thresholds: Sequence[tuple[int, ...]] = ADAPT_THRESHOLDS,
    adapt_weights: Sequence[int] = ADAPT_WEIGHTS,
    prior_weight: float = 16.0,
) -> AdaptiveFit:
    """Fit an adaptive model over ``base``'s symbols to integer codes ``(N, *latent_shape)``.

    Every non-empty set of latent axes is a candidate neighbourhood, with each of
    ``thresholds`` and each adaptation weight of ``adapt_weights``; positions split the
    rows of latents of rank above 1. The items are split into frames of
    :data:`FRAME_ITEMS` in their own order (give them as a stream would hold them); the
    static tables are counted on the even frames with ``prior_weight`` of ``base`` as
    their prior and the adaptation scored on the odd ones, and the other way round.
    ``tables`` is None unless the winner is :data:`MIN_GAIN` below the best static
    candidate (the same tables, not adapting) on the same halves.
    """
    latent_shape, flat, ch, sym = _symbols(codes, base)
    n = flat.shape[0]
    # halves of whole frames in the items' own order (a stream's frame holds neighbouring
    # items, what adaptation is for): even frames and odd frames
    block = np.arange(n) // FRAME_ITEMS
    halves = [np.flatnonzero(block % 2 == 0), np.flatnonzero(block % 2 == 1)]
    if not halves[1].size:
        halves = [np.arange(n // 2), np.arange(n // 2, n)]
    if not halves[0].size:
        return AdaptiveFit(None, 0.0, 0.0)
    positions = len(latent_shape) > 1
    best: tuple[float, tuple, tuple, int] | None = None
    static_bits = np.inf
    pos = position_map(latent_shape, 1)
    for axes in _neighbourhoods(latent_shape):
        for th in thresholds:
            probe, tab = _context_rows(
                flat, ch, latent_shape, base, axes, th, adapt=1, positions=positions
            )
            classes = probe.position_classes(latent_shape)
            row = tab * classes + (pos if positions else 0)
            rows = base.channels * probe.contexts
            counts = [_counts(sym[h], tab[h], rows, base.symbols) for h in halves]
            fitted = [_tables(counts[i], base, prior_weight, th, axes) for i in (0, 1)]
            static_bits = min(
                static_bits,
                sum(
                    _bits(fitted[fit], sym[halves[score]], tab[halves[score]])
                    for fit, score in ((0, 1), (1, 0))
                ),
            )
            for a in adapt_weights:
                bits = sum(
                    _adaptive_bits(fitted[fit], sym[halves[score]], row[halves[score]], classes, a)
                    for fit, score in ((0, 1), (1, 0))
                )
                if best is None or bits < best[0]:
                    best = (bits, axes, th, a)
    assert best is not None
    bits, axes, th, a = best
    static_bits = float(static_bits)
    if bits > (1 - MIN_GAIN) * static_bits:
        return AdaptiveFit(None, static_bits, bits)
    probe, tab = _context_rows(flat, ch, latent_shape, base, axes, th)
    counts = _counts(sym, tab, base.channels * probe.contexts, base.symbols)
    static = _tables(counts, base, prior_weight, th, axes)
    tables = EntropyTables(
        cdf=static.cdf,
        offset=static.offset,
        precision=static.precision,
        thresholds=th,
        neighbours=axes,
        adapt=a,
        positions=positions,
    )
    return AdaptiveFit(tables, static_bits, bits)
