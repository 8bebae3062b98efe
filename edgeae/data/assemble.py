"""Turning raw arrays into a :class:`Dataset`: layout, windowing, limits, checks, fingerprint.

File sources and built-ins both end here, so every dataset is float32, finite,
non-empty, in a known layout, and fingerprinted the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from edgeae.errors import DataError

from .dataset import LAYOUTS, Dataset, check_finite, fingerprint
from .windows import frame_signal, window_labels

__all__ = ["DEFAULT_WINDOW", "items_dataset", "natural_layout", "signal_dataset"]

# Window used for signal files (WAV, 1-D .npy) when none is given; hop defaults to half.
DEFAULT_WINDOW = 256


def _check_layout(layout: str | None, where: str) -> None:
    if layout is not None and layout not in LAYOUTS:
        raise DataError(f"{where}: unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")


def _check_limit(limit: int | None, where: str) -> None:
    if limit is not None and limit < 1:
        raise DataError(f"{where}: limit must be >= 1, got {limit}")


def natural_layout(shape: tuple[int, ...]) -> str:
    """The layout an item array of ``shape`` ``(N, ...)`` is read as when none is requested.

    2-D is NF and 4-D is NCHW. 3-D ``(N, A, B)`` is NCW (channels, window) when A
    is a small channel count (<= 8) and B is at least 4 times longer, else a
    batch of one-channel images ``(N, H, W)`` -> NCHW; pass ``layout`` to override.
    """
    if len(shape) == 2:
        return "NF"
    if len(shape) == 4:
        return "NCHW"
    if len(shape) == 3:
        return "NCW" if shape[1] <= 8 and shape[2] >= 4 * shape[1] else "NCHW"
    raise DataError(f"cannot infer a layout for items of shape {shape}")


def _shape_items(x: np.ndarray, layout: str | None, where: str) -> tuple[np.ndarray, str]:
    """Reshape ``(N, ...)`` items into ``layout`` (views where numpy allows)."""
    if x.ndim not in (2, 3, 4):
        raise DataError(
            f"{where}: items must be 2-D (N, F), 3-D (N, C, W) or (N, H, W), or 4-D "
            f"(N, C, H, W); got shape {x.shape}"
        )
    natural = natural_layout(x.shape)
    want = layout or natural
    n = x.shape[0]
    if want == "NF":
        return x.reshape(n, -1), "NF"
    if want == "NCW":
        if x.ndim == 2:
            return x.reshape(n, 1, x.shape[1]), "NCW"
        if x.ndim == 3:
            return x, "NCW"
    if want == "NCHW":
        if x.ndim == 3:
            return x.reshape(n, 1, *x.shape[1:]), "NCHW"
        if x.ndim == 4:
            return x, "NCHW"
    raise DataError(f"{where}: items of shape {x.shape} cannot be read as layout {want}")


def _to_float32(arr: np.ndarray, where: str) -> np.ndarray:
    """float32 view when already float32 (keeps a memmap), else a converted copy."""
    if arr.dtype == np.float32:
        return arr
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{where}: data must be numeric, got dtype {arr.dtype}")
    return arr.astype(np.float32)


def items_dataset(
    name: str,
    x: np.ndarray,
    *,
    options: Mapping[str, Any],
    layout: str | None = None,
    limit: int | None = None,
    labels: np.ndarray | None = None,
    target: np.ndarray | None = None,
    description: str = "",
    labels_are_anomalies: bool = False,
) -> Dataset:
    """A dataset of independent items (images, feature vectors, pre-cut windows).

    ``labels_are_anomalies``: ``labels`` mark anomalies (0 normal), not classes."""
    _check_layout(layout, name)
    _check_limit(limit, name)
    if x.ndim == 0 or x.shape[0] == 0 or x.size == 0:
        raise DataError(f"{name}: no data (array of shape {x.shape})")
    if limit is not None:
        x = x[:limit]
        labels = None if labels is None else labels[:limit]
        target = None if target is None else target[:limit]
    x = _to_float32(x, name)
    check_finite(x, name)
    x, got = _shape_items(x, layout, name)
    if target is not None:
        target = _to_float32(target, f"{name} (target)")
        check_finite(target, f"{name} (target)")
        target = target.reshape(x.shape)
    if labels is not None:
        labels = np.asarray(labels).astype(np.int64)
    full = {**options, "layout": got, "limit": limit}
    return Dataset(
        name=name,
        x=x,
        layout=got,
        fingerprint=fingerprint([x, target, labels], full),
        description=description,
        target=target,
        labels=labels,
        labels_are_anomalies=labels_are_anomalies and labels is not None,
    )


def signal_dataset(
    name: str,
    signal: np.ndarray,
    *,
    options: Mapping[str, Any],
    window: int | None,
    hop: int | None,
    layout: str | None = None,
    limit: int | None = None,
    sample_rate: int | None = None,
    clean_signal: np.ndarray | None = None,
    sample_labels: np.ndarray | None = None,
    description: str = "",
) -> Dataset:
    """A dataset of windows framed from a continuous ``(channels, samples)`` signal.

    ``window`` defaults to :data:`DEFAULT_WINDOW`, ``hop`` to half the window.
    ``limit`` keeps the first ``limit`` windows and trims the signal to what they cover.
    Window labels come from ``sample_labels`` (see :func:`window_labels`).
    """
    _check_layout(layout, name)
    _check_limit(limit, name)
    if layout == "NCHW":
        raise DataError(f"{name}: a signal is framed as NCW (or NF), not NCHW")
    if signal.ndim == 1:
        signal = signal[np.newaxis, :]
    if signal.ndim != 2 or signal.shape[1] == 0 or signal.shape[0] == 0:
        raise DataError(f"{name}: no signal data (array of shape {signal.shape})")
    window = DEFAULT_WINDOW if window is None else window
    hop = max(window // 2, 1) if hop is None else hop
    if limit is not None:
        keep = (limit - 1) * hop + window
        signal = signal[:, :keep]
        clean_signal = None if clean_signal is None else clean_signal[:, :keep]
        sample_labels = None if sample_labels is None else sample_labels[:keep]
    signal = _to_float32(signal, name)
    check_finite(signal, name, ("channel", "sample"))
    x = frame_signal(signal, window, hop, where=name)
    target = None
    if clean_signal is not None:
        clean_signal = _to_float32(clean_signal, f"{name} (clean)")
        target = frame_signal(clean_signal, window, hop, where=name)
    labels = None
    if sample_labels is not None:
        labels = window_labels(sample_labels, window, hop)
    got = layout or "NCW"
    if got == "NF":
        x = x.reshape(x.shape[0], -1)
        target = None if target is None else target.reshape(x.shape)
    full = {**options, "window": window, "hop": hop, "layout": got, "limit": limit}
    return Dataset(
        name=name,
        x=x,
        layout=got,
        fingerprint=fingerprint([signal, clean_signal, sample_labels], full),
        description=description,
        target=target,
        labels=labels,
        sample_rate=sample_rate,
        window=window,
        hop=hop,
        signal=signal,
        clean_signal=clean_signal,
        sample_labels=sample_labels,
    )
