"""Cutting a ``(channels, samples)`` signal into model windows, and labelling those windows.

The framing is the runtime's (:mod:`edgeae_runtime.framing`, docs/architecture.md,
"Signals"): windows of ``window`` samples start every ``hop`` samples and the end
is zero-padded so every sample is covered; the streaming denoiser undoes exactly
this framing with overlap-add. One data rule comes on top for training: a signal
must hold at least one full window of real samples (a shorter one frames into a
single, mostly padded window, too little to learn from), so :func:`frame_signal`
refuses it with a :class:`DataError`.
"""

from __future__ import annotations

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime.errors import InputError
from edgeae_runtime.framing import check_geometry, n_frames
from edgeae_runtime.framing import frame_signal as _frame_signal

__all__ = ["MIN_ANOMALY_FRACTION", "frame_signal", "n_windows", "padded_length", "window_labels"]

# A window is labelled anomalous when at least this fraction of its samples is.
MIN_ANOMALY_FRACTION = 0.25


def _check_framing(samples: int, window: int, hop: int, where: str) -> None:
    """Raise :class:`DataError` unless ``window``/``hop`` can frame ``samples`` training samples."""
    try:
        check_geometry(window, hop)
    except InputError as exc:
        raise DataError(f"{where}: {exc}") from None
    if samples < window:
        raise DataError(
            f"{where}: window of {window} samples is longer than the signal "
            f"({samples} samples); use a shorter --window or a longer signal"
        )


def n_windows(samples: int, window: int, hop: int) -> int:
    """Number of windows a signal of ``samples`` samples frames into (the runtime's rule)."""
    try:
        check_geometry(window, hop)
    except InputError as exc:
        raise DataError(f"signal: {exc}") from None
    return n_frames(samples, window, hop)


def padded_length(samples: int, window: int, hop: int) -> int:
    """Length of the zero-padded signal the windows tile: ``(n - 1) * hop + window``."""
    return (n_windows(samples, window, hop) - 1) * hop + window


def frame_signal(signal: np.ndarray, window: int, hop: int, *, where: str = "signal") -> np.ndarray:
    """Frame ``signal`` ``(C, T)`` (or ``(T,)``) into float32 windows ``(N, C, window)``.

    Window ``k`` is ``signal[:, k*hop : k*hop + window]``; the last window is
    zero-padded past the end so every sample is covered. The result is a
    read-only strided view (of the signal, or of one padded copy of it when the
    windows overrun the end), so framing a long signal costs no memory per window;
    :func:`edgeae.data.batches` makes contiguous copies batch by batch.
    """
    sig = np.asarray(signal)
    if sig.ndim == 1:
        sig = sig[np.newaxis, :]
    if sig.ndim != 2:
        raise DataError(f"{where}: a signal must be (channels, samples), got shape {sig.shape}")
    _check_framing(int(sig.shape[1]), window, hop, where)
    if sig.dtype != np.float32:
        sig = sig.astype(np.float32)
    return _frame_signal(sig, window, hop)


def window_labels(
    sample_labels: np.ndarray,
    window: int,
    hop: int,
    *,
    min_fraction: float = MIN_ANOMALY_FRACTION,
) -> np.ndarray:
    """Label each window from per-sample labels (0 = normal, k > 0 = anomaly kind k).

    A window gets the most frequent anomaly kind among its samples when at least
    ``min_fraction`` of its ``window`` samples are anomalous (padding counts as
    normal), else 0.
    """
    labels = np.asarray(sample_labels).astype(np.int64).reshape(-1)
    frames = frame_signal(labels[np.newaxis, :].astype(np.float32), window, hop)[:, 0, :]
    frames = frames.astype(np.int64)
    kinds = int(labels.max(initial=0))
    out = np.zeros(frames.shape[0], dtype=np.int64)
    if kinds == 0:
        return out
    counts = np.stack([(frames == k).sum(axis=1) for k in range(1, kinds + 1)], axis=1)
    anomalous = counts.sum(axis=1)
    hit = anomalous >= min_fraction * window
    out[hit] = np.argmax(counts[hit], axis=1) + 1
    return out
