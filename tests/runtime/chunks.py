"""Push a mono signal through a stream in chunks of cycling sizes: the chunking laws' driver."""

from __future__ import annotations

from typing import Any

import numpy as np


def stream_in_chunks(den: Any, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    """``den.push`` of ``x`` (1-D) in chunks of ``sizes`` (cycled; 0 = an empty push), then
    ``flush``: the whole output ``(1, n)``."""
    parts, i, k = [], 0, 0
    while i < len(x):
        step = sizes[k % len(sizes)]
        parts.append(den.push(x[i : i + step]))
        i, k = i + step, k + 1
    parts.append(den.flush())
    return np.concatenate(parts, axis=1)
