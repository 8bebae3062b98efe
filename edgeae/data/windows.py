"""Cutting a ``(channels, samples)`` signal into model windows, and labelling those windows.

The framing contract (docs/architecture.md, "Signals"): windows of ``window``
samples start every ``hop`` samples; the end of the signal is padded with zeros
so that every sample is covered by at least one window. The runtime's streaming
denoiser undoes exactly this framing with overlap-add.
"""

from __future__ import annotations

import numpy as np

from edgeae.errors import DataError

__all__ = ["MIN_ANOMALY_FRACTION", "frame_signal", "n_windows", "padded_length", "window_labels"]

# A window is labelled anomalous when at least this fraction of its samples is.
MIN_ANOMALY_FRACTION = 0.25


def _check_framing(samples: int, window: int, hop: int, where: str) -> None:
    """Raise :class:`DataError` unless ``window``/``hop`` can frame ``samples`` samples."""
    if window < 1:
        raise DataError(f"{where}: window must be >= 1 sample, got {window}")
    if not 1 <= hop <= window:
        raise DataError(
            f"{where}: hop must be between 1 and the window ({window}), got {hop}; "
            "a hop longer than the window would skip samples"
        )
    if samples < window:
        raise DataError(
            f"{where}: window of {window} samples is longer than the signal "
            f"({samples} samples); use a shorter --window or a longer signal"
        )


def n_windows(samples: int, window: int, hop: int) -> int:
    """Number of windows :func:`frame_signal` makes: ``1 + ceil((samples - window) / hop)``."""
    _check_framing(samples, window, hop, "signal")
    return 1 + -(-(samples - window) // hop)


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
    total = padded_length(int(sig.shape[1]), window, hop)
    if total > sig.shape[1]:
        padded = np.zeros((sig.shape[0], total), dtype=np.float32)
        padded[:, : sig.shape[1]] = sig
        sig = padded
    view = np.lib.stride_tricks.sliding_window_view(sig, window, axis=1)[:, ::hop]
    # (C, N, window) -> (N, C, window), still a view.
    return view.transpose(1, 0, 2)


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
