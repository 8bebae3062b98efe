"""PNG files for ``edgeae.data``: the runtime's reader and writer, with host-side errors.

There is one PNG implementation in the project, :mod:`edgeae_runtime.png` (zlib
and numpy only: 8/16-bit gray, gray+alpha, RGB, RGBA and palette images, every
row filter, chunk CRCs checked). This module re-raises its errors as
:class:`DataError`, so a bad data file is reported like every other data problem.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime import png
from edgeae_runtime.errors import InputError

__all__ = ["read_png", "write_png"]


def read_png(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a PNG into ``(height, width, channels)`` uint8 (or uint16 for 16-bit files).

    A missing, corrupted or unsupported file raises :class:`DataError` naming it.
    """
    try:
        return png.read_png(path)
    except InputError as exc:
        raise DataError(str(exc)) from None


def write_png(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    palette: np.ndarray | None = None,
    filters: Sequence[int] = (0,),
) -> None:
    """Write ``image`` ``(H, W)`` or ``(H, W, C)`` (uint8 or uint16, C in 1..4) atomically.

    Same arguments as :func:`edgeae_runtime.png.write_png`; errors are :class:`DataError`.
    """
    try:
        png.write_png(path, image, palette=palette, filters=filters)
    except InputError as exc:
        raise DataError(str(exc)) from None
