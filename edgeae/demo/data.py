"""Items the demo's steps draw from a dataset: spread over it, never the first N."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["parity_items", "spread"]


def spread(n: int, k: int) -> np.ndarray:
    """``k`` indices spread evenly over ``range(n)`` (all of them when ``n <= k``)."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


def parity_items(ckpt: Any, k: int = 256) -> np.ndarray:
    """The export's items of the run's data (``edgeae export``'s rule, ``export_items``),
    loaded with the model's own layout.

    (``edgeae export`` reloads the data without the run's layout override, so a
    dense model of digits is exported here from items loaded as the run saw them.)
    """
    from edgeae.commands.export import export_items
    from edgeae.data import load_source

    kwargs: dict[str, Any] = {"layout": ckpt.layout}
    if ckpt.signal is not None:
        kwargs.update(window=ckpt.signal.window, hop=ckpt.signal.hop)
    ds = load_source(ckpt.data_source, **kwargs)
    return export_items(ds.x, k)
