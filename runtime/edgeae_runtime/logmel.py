"""Log-mel features in numpy: the front-end of machine-sound anomaly models (DCASE Task 2).

A mono signal is cut into ``n_fft``-sample frames every ``hop`` samples by the
one framing module (:mod:`edgeae_runtime.framing`, ``tail="cover"``: the end is
zero-padded so every sample is in a frame), each frame is weighted by a
periodic Hann window, its power spectrum ``|rfft|**2`` is mapped onto
``n_mels`` Slaney-style mel bands (librosa's default filterbank: linear below
1 kHz, logarithmic above, each band normalized to unit area) and compressed as
``10 * log10(mel + LOG_EPS)`` (the DCASE baseline's ``20 / power * log10``
with power 2). ``frames`` consecutive log-mel frames make one model item, in
the layout of the model's manifest (:meth:`LogMelSpec.item_shape`): NF
concatenates them frame-major into ``frames * n_mels`` values (the ad01
autoencoder: 5 x 128 = 640); NCW is the patch ``(n_mels, frames)`` (conv1d over
time, mels as channels) and NCHW ``(1, n_mels, frames)`` (conv2d): the flat
item reshaped to ``(frames, n_mels)`` and transposed. Item ``k`` starts at
log-mel frame ``k`` in every layout. A clip's score is the mean (or max) of its
items' scores.

:func:`logmel` / :func:`stack_frames` / :func:`feature_items` are the whole-clip
forms; :class:`LogMelStream` computes the same items from chunks pushed in any
sizes (a microphone pipe) and equals them item for item. Training uses this
same code (the host imports it), so there is no second implementation to drift.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError
from .framing import SignalFramer, as_signal, frame_signal
from .manifest import LogMelSpec

__all__ = [
    "LOG_EPS",
    "LogMelSpec",
    "LogMelStream",
    "clip_score",
    "feature_items",
    "logmel",
    "mel_filterbank",
    "stack_frames",
]

#: Added to mel power before the log (the DCASE baseline's float epsilon).
LOG_EPS = float(np.finfo(np.float64).eps)


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear (3 mel / 200 Hz) below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    lin = f * 3.0 / 200.0
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, lin)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    lin = m * 200.0 / 3.0
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log, lin)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Triangular Slaney-normalized mel filters ``(n_mels, n_fft // 2 + 1)``, float32."""
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    if not 0 <= fmin < fmax <= sample_rate / 2.0:
        raise InputError(
            f"mel range: need 0 <= fmin < fmax <= {sample_rate / 2}, got {fmin}, {fmax}"
        )
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (bins[None] - lower) / (center - lower)
    down = (upper - bins[None]) / (upper - center)
    weights = np.maximum(0.0, np.minimum(up, down))
    weights *= 2.0 / (upper - lower)  # unit area per band (Slaney)
    return weights.astype(np.float32)


def _hann(n: int) -> np.ndarray:
    """Periodic Hann window (scipy/librosa ``hann(n, sym=False)``)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


class _Front:
    """The per-frame law: window, power spectrum, mel bands, log. Shared by both forms."""

    def __init__(self, spec: LogMelSpec) -> None:
        self.spec = spec
        self.window = _hann(spec.n_fft)
        self.bank = mel_filterbank(spec.sample_rate, spec.n_fft, spec.n_mels, spec.fmin, spec.fmax)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """Frames ``(k, n_fft)`` -> log-mel frames ``(k, n_mels)`` float32."""
        power = np.abs(np.fft.rfft(frames * self.window, axis=-1)) ** 2
        mel = power.astype(np.float64) @ self.bank.T.astype(np.float64)
        return (10.0 * np.log10(mel + LOG_EPS)).astype(np.float32)


def _mono(signal: Any, spec: LogMelSpec, name: str) -> np.ndarray:
    sig = as_signal(signal, None, name)
    if sig.shape[0] != 1:
        raise InputError(
            f"{name}: the log-mel front-end takes one channel, got {sig.shape[0]}; "
            "pick or mix one channel first"
        )
    return sig


def logmel(signal: Any, spec: LogMelSpec, *, name: str = "signal") -> np.ndarray:
    """Log-mel frames ``(k, n_mels)`` of a mono signal (``(n,)`` or ``(1, n)``)."""
    sig = _mono(signal, spec, name)
    frames = frame_signal(sig, spec.n_fft, spec.hop, "cover")[:, 0, :]
    return _Front(spec)(frames)


def stack_frames(mels: np.ndarray, frames: int, layout: str = "NF") -> np.ndarray:
    """``(k, n_mels)`` log-mel frames -> ``(k - frames + 1, *item)`` items of ``frames`` each.

    ``layout`` NF: ``(frames * n_mels,)``, frame-major; NCW: ``(n_mels, frames)``;
    NCHW: ``(1, n_mels, frames)`` (:meth:`LogMelSpec.item_shape`).
    """
    mels = np.asarray(mels, dtype=np.float32)
    law = LogMelSpec(sample_rate=1, n_mels=mels.shape[1], frames=frames)  # shape only
    shape = law.item_shape(layout)
    k = mels.shape[0] - frames + 1
    if k <= 0:
        return np.zeros((0, *shape), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(mels, frames, axis=0)  # (k, n_mels, frames)
    if layout == "NF":
        view = view.transpose(0, 2, 1)
    return np.ascontiguousarray(view.reshape(k, *shape))


def feature_items(
    signal: Any, spec: LogMelSpec, *, layout: str = "NF", name: str = "signal"
) -> np.ndarray:
    """The model items of a whole clip: stacked log-mel frames ``(items, *item_shape)``
    in ``layout`` (the model's manifest.layout; :func:`stack_frames`).

    A clip shorter than ``frames`` log-mel frames raises InputError naming its length.
    """
    items = stack_frames(logmel(signal, spec, name=name), spec.frames, layout)
    if items.shape[0] == 0:
        need = (spec.frames - 1) * spec.hop + spec.n_fft
        raise InputError(
            f"{name}: too short for one feature item ({spec.frames} log-mel frames need "
            f"{need} samples at {spec.sample_rate} Hz)"
        )
    return items


def clip_score(scores: Any, reduce: str = "mean") -> float:
    """One score per clip from its items' scores: their ``mean`` or ``max``."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0:
        raise InputError("clip_score: no item scores")
    if reduce == "mean":
        return float(s.mean())
    if reduce == "max":
        return float(s.max())
    raise InputError(f"clip reduce: must be 'mean' or 'max', got {reduce!r}")


class LogMelStream:
    """Stacked log-mel items (in ``layout``) from a mono signal pushed in chunks of any size.

    ``push`` returns the items its samples completed, ``flush`` the zero-padded
    tail's; together they equal :func:`feature_items` of the whole signal.
    Memory stays bounded (under one FFT frame of samples and ``frames - 1``
    log-mel frames).
    """

    def __init__(self, spec: LogMelSpec, *, layout: str = "NF", name: str = "stream") -> None:
        spec.item_shape(layout)  # an unknown layout fails here, not at the first item
        self.spec, self.layout = spec, layout
        self._front = _Front(spec)
        self._framer = SignalFramer(1, spec.n_fft, spec.hop, name=name, tail="cover")
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self._framer.reset()
        self._mels = np.zeros((0, self.spec.n_mels), dtype=np.float32)
        self.items_out = 0

    @property
    def samples_in(self) -> int:
        """Samples pushed in the current stream."""
        return self._framer.samples_in

    def _items(self, frames: np.ndarray) -> np.ndarray:
        if frames.shape[0]:
            self._mels = np.concatenate([self._mels, self._front(frames[:, 0, :])])
        items = stack_frames(self._mels, self.spec.frames, self.layout)
        self._mels = self._mels[max(self._mels.shape[0] - (self.spec.frames - 1), 0) :]
        self.items_out += items.shape[0]
        return items

    def push(self, chunk: Any) -> np.ndarray:
        """Feed samples; return the ``(k, *item_shape)`` items they complete."""
        return self._items(self._framer.push(chunk).frames)

    def flush(self) -> np.ndarray:
        """End of stream: the items of the zero-padded last frames."""
        items = self._items(self._framer.flush().frames)
        self._framer.reset()
        self._mels = self._mels[:0]
        return items
