"""Items the demo's export draws from the run's data: THE sample (edgeae_export.sampling)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["parity_items"]


def parity_items(ckpt: Any) -> np.ndarray:
    """The export's items of the run's data (``edgeae export``'s rule, ``sample_items``),
    loaded with the model's own layout.

    (``edgeae export`` reloads the data without the run's layout override, so a
    dense model of digits is exported here from items loaded as the run saw them.)
    """
    from edgeae.data import load_source
    from edgeae_export.sampling import EXPORT_SAMPLES, sample_items

    kwargs: dict[str, Any] = {"layout": ckpt.layout}
    if ckpt.signal is not None:
        kwargs.update(window=ckpt.signal.window, hop=ckpt.signal.hop)
    ds = load_source(ckpt.data_source, **kwargs)
    return sample_items(ds.x, EXPORT_SAMPLES)
