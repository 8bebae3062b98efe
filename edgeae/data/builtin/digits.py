"""``builtin:digits``: the real 8x8 handwritten digits shipped with the package (1797 images).

The data are the UCI "Optical Recognition of Handwritten Digits" test set as
bundled by scikit-learn (see files/DIGITS-ATTRIBUTION.md): 64 pixel values in
0..16 per image, then the digit class.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from edgeae.errors import DataError

__all__ = ["DIGITS_FILE", "DIGITS_RANGE", "load_digits"]

DIGITS_FILE = "digits.csv.gz"
DIGITS_RANGE = (0.0, 16.0)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)``: float32 ``(1797, 1, 8, 8)`` in 0..16 and int64 classes."""
    path = resources.files("edgeae.data").joinpath("files").joinpath(DIGITS_FILE)
    try:
        with path.open("rb") as raw, gzip.open(raw, "rt") as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.float32)
    except (OSError, ValueError) as exc:
        raise DataError(f"builtin:digits: {DIGITS_FILE} is unreadable ({exc})") from None
    if table.ndim != 2 or table.shape[1] != 65:
        raise DataError(f"builtin:digits: {DIGITS_FILE} has shape {table.shape}, expected (N, 65)")
    images = np.ascontiguousarray(table[:, :64].reshape(-1, 1, 8, 8))
    return images, table[:, 64].astype(np.int64)
