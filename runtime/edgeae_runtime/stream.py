"""Streaming denoising: cut a signal into windows, reconstruct them, overlap-add them back.

The framing and the weighted overlap-add (with the manifest's synthesis window)
are :mod:`edgeae_runtime.framing`'s, shared with the anomaly scorer, the codec
and the trainer. :func:`denoise_offline` is the whole-signal form the stream
must equal.
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
from .manifest import Preprocessing, SignalSpec
from .model import Model
from .preprocess import denormalize, normalize

__all__ = ["StreamDenoiser", "check_signal_model", "denoise_offline"]


def _reconstruct_frames(
    model: Model, frames: np.ndarray, max_batch: int | None, identity: bool | None = None
) -> np.ndarray:
    """Raw-unit reconstructions of validated (finite) frames ``(k, C, W)``, same shape.

    ``identity`` (whether the preprocessing is the identity) is computed when not given;
    streams pass it once known.
    """
    k = frames.shape[0]
    items = frames.reshape((k, *model.manifest.item_shape))
    pre = model.manifest.preprocessing
    if identity is None:
        identity = _is_identity(pre)
    if identity:  # skip two passes over the data per push; the frames are finite already
        y = model._run_model_space("reconstruction", items, max_batch, finite=True)
        return y.reshape(frames.shape)
    y = model._run_model_space("reconstruction", normalize(items, pre), max_batch)
    return denormalize(y, pre).reshape(frames.shape)


def _is_identity(pre: Preprocessing) -> bool:
    return (
        pre.clip is None and all(o == 0.0 for o in pre.offset) and all(s == 1.0 for s in pre.scale)
    )


def check_signal_model(model: Model, sample_rate: int | None) -> SignalSpec:
    """The model's signal spec, after checking it can run windows of a signal."""
    if model.role != "autoencoder":
        raise ModelError(
            f"{model.path.name} is the {model.role}; denoising needs the full autoencoder "
            "(model.onnx)"
        )
    spec = model.require_signal()
    if int(np.prod(model.item_shape)) != spec.channels * spec.window:
        raise ManifestError(
            f"{model.path.name}: manifest.signal says {spec.channels} channel(s) x "
            f"{spec.window} samples per window, but items have shape {model.item_shape}"
        )
    if sample_rate is not None and int(sample_rate) != spec.sample_rate:
        raise InputError(
            f"sample rate {sample_rate} Hz does not match the model's {spec.sample_rate} Hz; "
            "resample the input first"
        )
    return spec


class StreamDenoiser(FramedStream):
    """Denoise a signal pushed in chunks of any size; one per stream, many per Model.

    ``push(chunk)`` takes ``(samples,)`` (mono) or ``(channels, samples)`` and
    returns the samples that became final, ``(channels, n)``; the windows that
    one push completes run as one batch. ``flush()`` returns the rest: after it,
    the total output length equals the total input length exactly, and the
    denoiser is reset for a new stream. ``sample_rate``, when given, must match
    the model's. (The streaming itself is :class:`~edgeae_runtime.framing.FramedStream`.)
    """

    def __init__(
        self, model: Model, *, sample_rate: int | None = None, max_batch: int | None = None
    ) -> None:
        self.model = model
        self.spec = check_signal_model(model, sample_rate)
        self.max_batch = max_batch
        self._framer = SignalFramer.of(self.spec, name=f"{model.path.name} stream")
        self._ola = OverlapAdd.of(self.spec)
        self._identity = _is_identity(model.manifest.preprocessing)

    def _process(self, frames: np.ndarray) -> np.ndarray:
        return _reconstruct_frames(self.model, frames, self.max_batch, self._identity)


def denoise_offline(
    model: Model, signal: Any, *, sample_rate: int | None = None, max_batch: int | None = None
) -> np.ndarray:
    """Denoise a whole signal at once: the reference :class:`StreamDenoiser` must equal.

    Plain framing (:func:`~edgeae_runtime.framing.frame_signal`), one batch, and
    the overlap-add definition (:func:`~edgeae_runtime.framing.overlap_add`);
    holds the whole signal in memory.
    """
    spec = check_signal_model(model, sample_rate)
    x = as_signal(signal, spec.channels, f"{model.path.name} signal")
    n = x.shape[1]
    if n == 0:
        raise InputError(f"{model.path.name} signal: empty input (no samples)")
    frames = frame_signal(x, spec.window, spec.hop)
    y = _reconstruct_frames(model, frames, max_batch)
    return overlap_add(y, spec.hop, synthesis_window(spec.synthesis_window, spec.window), n)
