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
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeae_runtime.codec.entropy import EntropyTables, context_classes, neighbour_map

from .errors import ExportError

__all__ = ["THRESHOLDS", "ContextFit", "fit_context_tables"]

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
    sym = np.where((sym < 0) | (sym >= escape), escape, sym)
    halves = np.array_split(np.random.default_rng(seed).permutation(n), 2)
    fact_bits = sum(_bits(base, sym[h], np.broadcast_to(ch, sym[h].shape)) for h in halves)
    if n < 2:
        return ContextFit(None, fact_bits, fact_bits, 0.0)
    best: tuple[float, tuple, tuple, float] | None = None
    axes_sets = [
        c
        for r in range(1, len(latent_shape) + 1)
        for c in itertools.combinations(range(len(latent_shape)), r)
    ]
    for axes in axes_sets:
        nb = neighbour_map(latent_shape, 1, axes)
        for th in thresholds:
            probe = EntropyTables(
                cdf=np.repeat(base.cdf, len(th) + 1, axis=0),
                offset=base.offset,
                precision=base.precision,
                thresholds=th,
                neighbours=axes,
            )
            tab = ch * probe.contexts + context_classes(flat, ch, nb, probe)
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
    nb = neighbour_map(latent_shape, 1, axes)
    k = len(th) + 1
    probe = EntropyTables(
        cdf=np.repeat(base.cdf, k, axis=0),
        offset=base.offset,
        precision=base.precision,
        thresholds=th,
        neighbours=axes,
    )
    tab = ch * k + context_classes(flat, ch, nb, probe)
    counts = _counts(sym, tab, base.channels * k, base.symbols)
    return ContextFit(_tables(counts, base, w, th, axes), fact_bits, bits, w)
