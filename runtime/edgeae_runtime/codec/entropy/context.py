"""THE context law: a code's table picked from its already coded neighbours' magnitudes.

A context model keeps ``contexts`` tables per channel; a code's context class is the
number of the tables' ``thresholds`` at or below the summed magnitudes of its neighbours
(the previous code along each of ``neighbours``, latent axes, in the same latent:
:func:`neighbour_map`). :func:`context_classes` is the law for whole frames (the encoder),
:func:`_context_class_lanes` the same law one code at a time across lanes (the decoder,
which knows each neighbour's symbol before it decodes the next code).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import InputError
from .tables import MAG_CAP, EntropyTables, _symbols


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


def _context_class_lanes(
    mag: np.ndarray, neighbours: list[int], thresholds: np.ndarray
) -> np.ndarray:
    """Every lane's context class: its coded neighbours' summed magnitudes against
    ``thresholds`` (the law of :func:`context_classes`)."""
    total = np.zeros(mag.shape[0], dtype=np.int64)
    for j in neighbours:
        total += mag[:, j]
    return np.searchsorted(thresholds, total, side="right")
