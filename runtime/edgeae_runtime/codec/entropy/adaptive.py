"""THE adaptation law: an adaptive model's integer counts, updated latent by latent.

Every row of an adaptive model starts a frame at the manifest's frequencies times
``adapt`` (:func:`_adaptive_prior`), split by the code's place in its latent when
``positions`` (:func:`position_map`); after each latent every code it held adds
``2**precision`` to its row's count of its symbol, and :func:`adaptive_cdf` turns counts
into the next latent's tables with integer floor division (the same on every CPU).
:func:`_adaptive_freqs` is the encoder's forward pass over a frame, so rANS can then code
it in reverse.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import InputError
from .tables import EntropyTables

#: Codes in one frame of an adaptive model: its counts then stay below 2**45, and their
#: products with 2**precision below 2**63 (int64, no overflow on any CPU).
MAX_ADAPTIVE_CODES = 1 << 28
_ADAPTIVE_LANES = 16  # an adaptive model's frames coded at once (its counts per lane)


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
