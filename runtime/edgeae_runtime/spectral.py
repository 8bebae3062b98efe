"""Streaming spectral-mask denoising: STFT frames -> model mask -> inverse STFT + overlap-add.

A spectral model (``manifest.spectral``, docs/speech.md) sees, for every STFT
frame, the compressed magnitudes of that frame and the ``context_frames - 1``
frames before it, item ``(bins, context_frames)``, and returns a mask in [0, 1]
per bin, ``(bins, 1)``; with ``noise_floor`` set, a last item column holds a
running noise-floor estimate of the features (:func:`track_floor`). The mask
multiplies the noisy complex spectrum; the inverse FFT and overlap-add rebuild
the waveform.

Framing is the runtime's one framing code (:mod:`edgeae_runtime.framing`): frame
``k`` covers samples ``[k*hop, k*hop + window)``. The analysis window is
``a = sqrt(hann)`` (the runtime's half-sample-offset Hann); the overlap-add
weights each inverse frame by ``a`` and divides by the sum of ``a*a``: the
least-squares inverse STFT ``sum_k a*irfft(mask*X_k) / sum_k a*a`` (exact
reconstruction for a mask of ones). Frames before the stream start count as
silence (zero magnitudes) for the context. Algorithmic latency is
``window - 1`` samples (19.9 ms for 320 samples at 16 kHz).

A recurrent model (``spectral.state > 0``) carries its past in a state instead of (or
besides) context frames: the last item column holds the previous frame's latent, so
frames run one at a time, in order (:func:`run_recurrent`), in the stream and offline alike.

:class:`SpectralDenoiser` is the stream; :func:`denoise_spectral_offline` is the
whole-signal reference it must equal for any chunking. :func:`stft_frames` and
:func:`compress` are the numpy twins of the host's torch training code
(``edgeae.models.spectral``; the parity is tested).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError, ManifestError, ModelError
from .framing import (
    FramedStream,
    OverlapAdd,
    SignalFramer,
    as_signal,
    frame_signal,
    overlap_add,
    synthesis_window,
)
from .manifest import SignalSpec, SpectralSpec
from .model import Model

__all__ = [
    "SpectralDenoiser",
    "analysis_window",
    "check_spectral_model",
    "compress",
    "context_items",
    "denoise_spectral_offline",
    "is_spectral",
    "mask_gain",
    "run_recurrent",
    "signal_items",
    "spectral_items",
    "stft_frames",
    "track_floor",
]


def analysis_window(window: int) -> np.ndarray:
    """``sqrt`` of the runtime's half-sample-offset Hann window (float32, never zero)."""
    return np.sqrt(synthesis_window("hann", window)).astype(np.float32)


def stft_frames(frames: np.ndarray, spectral: SpectralSpec) -> np.ndarray:
    """Complex spectra ``(k, bins)`` of time frames ``(k, window)`` (analysis-windowed rfft)."""
    a = analysis_window(frames.shape[-1])
    return np.fft.rfft(frames * a, n=spectral.fft_size, axis=-1).astype(np.complex64)


def compress(mag: np.ndarray, spectral: SpectralSpec) -> np.ndarray:
    """The model's input features from magnitudes: ``|X|**exponent`` or ``log1p(|X|)``."""
    if spectral.compression == "log1p":
        return np.log1p(mag).astype(np.float32)
    return np.power(np.maximum(mag, 0.0), spectral.exponent).astype(np.float32)


def context_items(feats: np.ndarray, history: np.ndarray) -> np.ndarray:
    """Model items ``(k, bins, K)`` for ``k`` new feature frames ``(k, bins)``.

    ``history`` holds the ``K - 1`` frames before them ``(K - 1, bins)``, oldest
    first; item ``i`` is frames ``i .. i + K - 1`` of ``history + feats``, the last
    being the current frame.
    """
    seq = np.concatenate([history, feats], axis=0)
    k, ctx = feats.shape[0], history.shape[0] + 1
    s_t, s_f = seq.strides
    view = np.lib.stride_tricks.as_strided(
        seq, shape=(k, seq.shape[1], ctx), strides=(s_t, s_f, s_t), writeable=False
    )
    return np.ascontiguousarray(view)


def track_floor(
    feats: np.ndarray, state: np.ndarray | None, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Noise-floor estimates ``(k, bins)`` of feature frames ``(k, bins)``, and the new state.

    Per frame ``n += rate * (f - n)`` where the features rise above the floor and
    ``n += min(1, 10 * rate) * (f - n)`` where they fall below it (slow to follow
    speech, quick to drop back to the noise); the first frame of a stream
    (``state is None``) starts the floor at itself.
    """
    out = np.empty_like(feats)
    n = feats[0].copy() if state is None else state.copy()
    fall = min(1.0, 10.0 * rate)
    for t in range(feats.shape[0]):
        d = feats[t] - n
        n = (n + np.where(d > 0, np.float32(rate), np.float32(fall)) * d).astype(np.float32)
        out[t] = n
    return out, n


def mask_gain(mask: np.ndarray, spectral: SpectralSpec) -> np.ndarray:
    """The gain applied per bin: the model's mask clipped to [0, 1], lifted by ``mask_floor``."""
    m = np.clip(mask, 0.0, 1.0)
    if spectral.mask_floor > 0:
        m = np.float32(spectral.mask_floor) + np.float32(1.0 - spectral.mask_floor) * m
    return m


def is_spectral(model: Model) -> bool:
    """True when the model's manifest describes a spectral front-end."""
    return model.manifest.spectral is not None


def check_spectral_model(model: Model, sample_rate: int | None) -> tuple[SignalSpec, SpectralSpec]:
    """The model's signal and spectral specs, after checking it can run as a mask denoiser."""
    if model.role != "autoencoder":
        raise ModelError(
            f"{model.path.name} is the {model.role}; denoising needs the full model (model.onnx)"
        )
    spectral = model.manifest.spectral
    if spectral is None:
        raise ManifestError(
            f"{model.path.name}: manifest.spectral is missing; not a spectral model"
        )
    spec = model.require_signal()
    if sample_rate is not None and int(sample_rate) != spec.sample_rate:
        raise InputError(
            f"sample rate {sample_rate} Hz does not match the model's {spec.sample_rate} Hz; "
            "resample the input first"
        )
    return spec, spectral


class _MaskEngine:
    """Frames -> masked, window-divided frames for the overlap-add (keeps the context)."""

    def __init__(
        self, model: Model, spec: SignalSpec, spectral: SpectralSpec, max_batch: int | None
    ):
        self.model, self.spec, self.spectral, self.max_batch = model, spec, spectral, max_batch
        self.bins = spectral.fft_size // 2 + 1
        self.reset()

    def reset(self) -> None:
        self._history = np.zeros((self.spectral.context_frames - 1, self.bins), dtype=np.float32)
        self._floor: np.ndarray | None = None
        self._state: np.ndarray | None = None

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """``(k, 1, window)`` time frames in, their masked inverse FFTs ``(k, 1, window)`` out."""
        x = stft_frames(frames[:, 0, :], self.spectral)
        feats = compress(np.abs(x), self.spectral)
        items = context_items(feats, self._history)
        if self.spectral.noise_floor > 0:
            floors, self._floor = track_floor(feats, self._floor, self.spectral.noise_floor)
            items = np.concatenate([items, floors[:, :, None]], axis=2)
        if self._history.shape[0]:
            self._history = np.concatenate([self._history, feats])[-self._history.shape[0] :]
        if self.spectral.state > 0:
            mask, _, self._state = run_recurrent(self.model, _state_column(items), self._state)
        else:
            mask = self.model._run_model_space("reconstruction", items, self.max_batch)
        mask = mask_gain(mask.reshape(frames.shape[0], self.bins), self.spectral)
        y = np.fft.irfft(x * mask, n=self.spectral.fft_size, axis=-1)[:, : self.spec.window]
        return y.astype(np.float32)[:, None, :]


class SpectralDenoiser(FramedStream):
    """Denoise a mono signal pushed in chunks of any size with a spectral-mask model.

    Same contract as :class:`~edgeae_runtime.stream.StreamDenoiser`: ``push``
    returns the samples that became final ``(1, n)``, ``flush`` the rest (output
    length == input length) and resets for a new stream.
    """

    def __init__(
        self, model: Model, *, sample_rate: int | None = None, max_batch: int | None = None
    ) -> None:
        self.model = model
        self.spec, self.spectral = check_spectral_model(model, sample_rate)
        self._framer = SignalFramer.of(self.spec, name=f"{model.path.name} stream")
        a = analysis_window(self.spec.window)
        self._ola = OverlapAdd(1, self.spec.window, self.spec.hop, weights=a, divisor=a * a)
        self._engine = _MaskEngine(model, self.spec, self.spectral, max_batch)

    def _process(self, frames: np.ndarray) -> np.ndarray:
        return self._engine(frames)

    def _reset_state(self) -> None:
        """Drop the spectral context (the previous frames' features, the noise floor)."""
        self._engine.reset()


def spectral_items(
    model: Model, signal: Any, *, sample_rate: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A whole signal's complex spectra ``(k, bins)`` and model items ``(k, bins, columns)``
    (context frames from silence at the start, plus the noise floor column when tracked,
    plus a zero state column for a recurrent model: :func:`run_recurrent` fills it)."""
    spec, spectral = check_spectral_model(model, sample_rate)
    x = as_signal(signal, 1, f"{model.path.name} signal")
    if x.shape[1] == 0:
        raise InputError(f"{model.path.name} signal: empty input (no samples)")
    return signal_items(x[0], spec, spectral)


def signal_items(
    x: np.ndarray, spec: SignalSpec, spectral: SpectralSpec
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`spectral_items` from the specs alone, for a mono signal ``(n,)`` with ``n > 0``:
    what the host uses to make parity and calibration items before a model file exists."""
    ctx = spectral.context_frames
    frames = frame_signal(np.asarray(x, np.float32)[None], spec.window, spec.hop)[:, 0, :]
    k = frames.shape[0]
    spec_x = stft_frames(frames, spectral)
    feats = compress(np.abs(spec_x), spectral)
    bins = feats.shape[1]
    seq = np.concatenate([np.zeros((ctx - 1, bins), np.float32), feats])
    items = np.stack([seq[i : i + ctx].T for i in range(k)])
    if spectral.noise_floor > 0:
        floors, _ = track_floor(feats, None, spectral.noise_floor)
        items = np.concatenate([items, floors[:, :, None]], axis=2)
    if spectral.state > 0:
        items = _state_column(items)
    return spec_x, items


def _state_column(items: np.ndarray) -> np.ndarray:
    """Items with a recurrent model's state column appended, zero (:func:`run_recurrent`
    fills it frame by frame as the model runs)."""
    return np.concatenate([items, np.zeros_like(items[:, :, :1])], axis=2)


def run_recurrent(
    model: Model, items: np.ndarray, state: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run a recurrent spectral model over one stream's items ``(k, bins, columns)`` in
    order, each item's state column set to the previous frame's latent (``state``: the
    latent before the first item, None at the start of a stream; the input is not modified).

    Returns the masks ``(k, bins, 1)``, the items as run (what calibration and parity of a
    recurrent model are made of) and the last latent ``(state, 1)``.
    """
    width = model.latent_shape[0]
    fed = np.array(items, dtype=np.float32)
    fed[:, :, -1] = 0.0
    masks = np.empty((fed.shape[0], fed.shape[1], 1), np.float32)
    h = np.zeros((width, 1), np.float32) if state is None else state
    step = model._step_runner()
    for t in range(fed.shape[0]):
        fed[t, :width, -1] = h[:, 0]
        mask, latent = step(fed[t : t + 1])
        masks[t], h = mask[0], latent[0]
    model._check_outputs(masks, h)  # a non-finite state reaches every later mask
    return masks, fed, h.astype(np.float32, copy=False)


def denoise_spectral_offline(
    model: Model, signal: Any, *, sample_rate: int | None = None, max_batch: int | None = None
) -> np.ndarray:
    """Denoise a whole signal at once: the reference :class:`SpectralDenoiser` must equal.

    Written independently of the streaming path (plain framing, all frames and
    their context at once, a loop for the overlap-add).
    """
    spec, spectral = check_spectral_model(model, sample_rate)
    x = as_signal(signal, 1, f"{model.path.name} signal")
    n, w = x.shape[1], spec.window
    spec_x, items = spectral_items(model, x, sample_rate=sample_rate)
    k, bins = spec_x.shape
    if spectral.state > 0:
        mask = run_recurrent(model, items, None)[0].reshape(k, bins)
    else:
        mask = model._run_model_space("reconstruction", items, max_batch).reshape(k, bins)
    mask = mask_gain(mask, spectral)
    y = np.fft.irfft(spec_x * mask, n=spectral.fft_size, axis=-1)[:, :w].astype(np.float32)
    a = analysis_window(w)
    return overlap_add(y[:, None, :], spec.hop, a, n, divisor=a * a)
