"""Denoising a signal at any rate: pick the model's stream and resample at the edges.

:func:`open_denoiser` is what ``edgeae-rt denoise`` and the 5-line example use::

    from edgeae_runtime import Model, read_wav, write_wav
    from edgeae_runtime.speech import denoise_signal
    x, rate = read_wav("noisy.wav")
    model = Model.default("speech-denoiser")
    write_wav("clean.wav", denoise_signal(model, x, rate), rate)

It returns the spectral-mask stream (:class:`~edgeae_runtime.spectral.SpectralDenoiser`)
for a model with ``manifest.spectral`` and the time-domain
:class:`~edgeae_runtime.stream.StreamDenoiser` otherwise. Input at another rate
than the model's (8-48 kHz) goes through the runtime's polyphase resampler
(:mod:`edgeae_runtime.resample`) on the way in and back to the input's rate on
the way out; output length still equals input length, and the stream is still
identical for any chunking (both resamplers are). A mono model given a recording
of several channels (a stereo WAV) denoises each channel on its own
(:class:`PerChannelDenoiser`) and keeps the channels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError
from .framing import as_signal
from .model import Model
from .resample import StreamResampler
from .spectral import SpectralDenoiser, is_spectral
from .stream import StreamDenoiser

__all__ = [
    "MAX_RATE",
    "MIN_RATE",
    "PerChannelDenoiser",
    "ResampledDenoiser",
    "denoise_signal",
    "open_denoiser",
]

MIN_RATE, MAX_RATE = 8000, 48000


class ResampledDenoiser:
    """A model-rate denoiser behind a resampler in and a resampler out (same push/flush API)."""

    def __init__(self, inner: Any, rate: int) -> None:
        self.inner = inner
        self.sample_rate = int(rate)
        model_rate = inner.spec.sample_rate
        ch = inner.spec.channels
        self._down = StreamResampler(rate, model_rate, ch)
        self._up = StreamResampler(model_rate, rate, ch)
        self.samples_in = 0
        self.samples_out = 0

    @property
    def spec(self) -> Any:
        return self.inner.spec

    @property
    def latency_ms(self) -> float:
        """The model's latency plus the two resamplers' delays."""
        return (
            self.inner.latency_ms
            + 1000.0 * self._down.delay / self.sample_rate
            + 1000.0 * self._up.delay / self.inner.spec.sample_rate
        )

    def push(self, chunk: Any) -> np.ndarray:
        x = as_signal(chunk, self.spec.channels, "stream", first_sample=self.samples_in)
        self.samples_in += x.shape[1]
        y = self._up.process(self.inner.push(self._down.process(x).astype(np.float32)))
        self.samples_out += y.shape[1]
        return y.astype(np.float32)

    def flush(self) -> np.ndarray:
        mid = self.inner.push(self._down.flush().astype(np.float32))
        rest = np.concatenate([mid, self.inner.flush()], axis=1)
        tail = np.concatenate([self._up.process(rest), self._up.flush()], axis=1)
        tail = tail[:, : max(0, self.samples_in - self.samples_out)].astype(np.float32)
        self.reset()
        return tail

    def reset(self) -> None:
        ch = self.inner.spec.channels
        self.inner.reset()
        self._down = StreamResampler(self.sample_rate, self.inner.spec.sample_rate, ch)
        self._up = StreamResampler(self.inner.spec.sample_rate, self.sample_rate, ch)
        self.samples_in = self.samples_out = 0


class PerChannelDenoiser:
    """One mono denoiser per channel of a multichannel stream (same push/flush API).

    Every channel goes through its own copy of the same stream, so channel ``c`` of the
    output is exactly what the mono stream makes of channel ``c`` alone.
    """

    def __init__(self, make: Any, channels: int) -> None:
        self._streams = [make() for _ in range(channels)]
        self.channels = int(channels)
        self.samples_in = 0

    @property
    def spec(self) -> Any:
        return self._streams[0].spec

    @property
    def latency_ms(self) -> float:
        return float(self._streams[0].latency_ms)

    def push(self, chunk: Any) -> np.ndarray:
        x = as_signal(chunk, self.channels, "stream", first_sample=self.samples_in)
        self.samples_in += x.shape[1]
        return np.concatenate([s.push(x[c : c + 1]) for c, s in enumerate(self._streams)])

    def flush(self) -> np.ndarray:
        self.samples_in = 0
        return np.concatenate([s.flush() for s in self._streams])

    def reset(self) -> None:
        for s in self._streams:
            s.reset()
        self.samples_in = 0


def open_denoiser(
    model: Model,
    sample_rate: int | None = None,
    *,
    channels: int | None = None,
    max_batch: int | None = None,
) -> Any:
    """The stream that denoises this model's signals, resampling when ``sample_rate`` differs.

    ``channels``: the input's channel count when it is not the model's; a mono model then
    denoises each channel on its own (:class:`PerChannelDenoiser`). InputError otherwise.
    """
    want = model.require_signal().channels
    if channels is not None and int(channels) != want:
        if want != 1:
            raise InputError(f"input has {channels} channel(s), the model takes {want}")
        return PerChannelDenoiser(
            lambda: open_denoiser(model, sample_rate, max_batch=max_batch), int(channels)
        )
    cls = SpectralDenoiser if is_spectral(model) else StreamDenoiser
    inner = cls(model, max_batch=max_batch)
    if sample_rate is None or int(sample_rate) == inner.spec.sample_rate:
        return inner
    if not MIN_RATE <= int(sample_rate) <= MAX_RATE:
        raise InputError(
            f"sample rate {sample_rate} Hz: the denoiser resamples {MIN_RATE}-{MAX_RATE} Hz input"
        )
    return ResampledDenoiser(inner, int(sample_rate))


def denoise_signal(model: Model, signal: Any, sample_rate: int | None = None) -> np.ndarray:
    """Denoise a whole signal ``(samples,)`` or ``(channels, samples)``; same shape back
    (a mono model denoises each channel on its own)."""
    x = np.asarray(signal)
    den = open_denoiser(model, sample_rate, channels=x.shape[0] if x.ndim == 2 else None)
    y = np.concatenate([den.push(x), den.flush()], axis=1)
    return y[0] if x.ndim == 1 else y
