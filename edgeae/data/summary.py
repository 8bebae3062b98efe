"""A JSON-ready summary of a :class:`Dataset`: what ``edgeae data info`` prints.

Statistics are accumulated batch by batch, so summarizing a memory-mapped file
or the windows of a long signal stays within bounded memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .builtin.sensor import ANOMALY_KINDS
from .dataset import Dataset, batches

__all__ = ["describe"]


def _stats(x: np.ndarray) -> dict[str, float]:
    """min, max, mean and std of all values, in float64, one batch at a time."""
    count, total, total_sq = 0, 0.0, 0.0
    low, high = np.inf, -np.inf
    for chunk in batches(x, 4096):
        c = chunk.astype(np.float64)
        count += c.size
        total += float(c.sum())
        total_sq += float(np.square(c).sum())
        low, high = min(low, float(c.min())), max(high, float(c.max()))
    mean = total / count
    std = float(np.sqrt(max(total_sq / count - mean**2, 0.0)))
    return {"min": low, "max": high, "mean": mean, "std": std}


def _label_counts(labels: np.ndarray, names: Sequence[str] | None) -> list[dict[str, Any]]:
    """One ``{"label", "name", "count"}`` row per distinct label value."""
    values, counts = np.unique(labels, return_counts=True)
    rows = []
    for v, c in zip(values.tolist(), counts.tolist(), strict=True):
        name = names[v] if names is not None and 0 <= v < len(names) else str(v)
        rows.append({"label": int(v), "name": name, "count": int(c)})
    return rows


def describe(ds: Dataset, *, label_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Shape, layout, value statistics, signal framing, labels and fingerprint of ``ds``.

    Speech corpora add ``corpus`` (files, the held-out files, mixing options) and
    ``validation_items`` (the items of the held-out files).

    ``label_names`` names label values (index = value); ``builtin:sensor`` gets
    its anomaly kinds automatically.
    """
    if label_names is None and ds.name.startswith("builtin:sensor"):
        label_names = ANOMALY_KINDS
    info: dict[str, Any] = {
        "source": ds.name,
        "description": ds.description,
        "items": len(ds),
        "item_shape": list(ds.item_shape),
        "dtype": str(ds.x.dtype),
        "layout": ds.layout,
        "memory_mapped": isinstance(ds.x, np.memmap) or isinstance(ds.x.base, np.memmap),
        "values": _stats(ds.x),
        "sample_rate": ds.sample_rate,
        "window": ds.window,
        "hop": ds.hop,
        "signal": None,
        "target": None,
        "labels": None,
        "fingerprint": ds.fingerprint,
    }
    if ds.signal is not None:
        channels, samples = (int(d) for d in ds.signal.shape)
        seconds = samples / ds.sample_rate if ds.sample_rate else None
        info["signal"] = {"channels": channels, "samples": samples, "seconds": seconds}
    if ds.target is not None:
        info["target"] = {"shape": list(ds.target.shape), "values": _stats(ds.target)}
    if ds.labels is not None:
        info["labels"] = _label_counts(ds.labels, label_names)
    if ds.holdout is not None:
        info["validation_items"] = int(ds.holdout.size)
    if ds.corpus is not None:  # speech: files, split by file, mixing options
        info["corpus"] = ds.corpus.describe()
    return info
