"""THE sample of items that stands for a whole data set: seeded, and spread over all of it.

Every place that takes a few items to stand for many uses :func:`sample_indices`
(or :func:`sample_items`, the items themselves): the calibration of static int8
(:class:`edgeae_export.calibration.CalibrationSource`, ``edgeae quantize``), the items an
export checks parity on and fits a codec's entropy tables on (``edgeae export``,
``edgeae demo``, the benchmarks), the held-out STFT items of speech sources and
``compare``'s ``max_items``. Data ordered in time or by class (a signal's normal stretch
first, a data set sorted by label) must not be represented by their first part, nor by a
fixed stride, which can fall in step with a period of the data.

The rule is a stratified sample: the ``n`` items are cut into ``size`` equal stretches
and one item is drawn at random from each (seeded). So every part of the data is
represented in proportion (each ``n / size`` stretch holds exactly one index), the
indices are distinct and rising (reading them walks the data once, and a memory map is
never loaded whole), and the same ``(n, size, seed)`` always gives the same sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import CalibrationError

__all__ = ["DEFAULT_SEED", "EXPORT_SAMPLES", "sample_indices", "sample_items"]

#: The seed of every sample: the same data always give the same items.
DEFAULT_SEED = 0
#: Items an export checks parity on and fits a codec's tables on (``edgeae export --samples``).
EXPORT_SAMPLES = 256


def sample_indices(n: int, size: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Rising indices of a seeded sample of ``min(n, size)`` of ``n`` items, spread over them.

    All ``n`` (``arange(n)``) when they fit; otherwise stretch ``i`` of the ``size`` equal
    stretches ``[floor(i * n / size), floor((i + 1) * n / size))`` gives one index drawn
    uniformly from it with ``numpy.random.default_rng(seed)``.
    """
    if n < 0 or size <= 0:
        raise CalibrationError(
            f"a sample needs n >= 0 and size > 0, got n={n}, size={size}", param="size"
        )
    if n <= size:
        return np.arange(n, dtype=np.int64)
    edges = np.arange(size + 1, dtype=np.int64) * n // size
    widths = np.diff(edges)  # each >= 1 since n > size
    offsets = np.floor(np.random.default_rng(seed).random(size) * widths).astype(np.int64)
    return edges[:-1] + np.minimum(offsets, widths - 1)


def sample_items(items: Any, size: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """``items[sample_indices(len(items), size, seed)]`` as float32 (rows read one by one
    from a memory map, never the whole of it)."""
    return np.asarray(items[sample_indices(len(items), size, seed)], dtype=np.float32)
