"""Streaming denoising: cut a signal into windows, reconstruct them, overlap-add them back.

Framing (docs/architecture.md, "Signals"): window ``k`` covers samples
``[k*hop, k*hop + window)``; the signal is padded with zeros at the end so every
sample is covered. Reconstruction is weighted overlap-add with the manifest's
synthesis window ``w``::

    out[n] = sum_k w[n - k*hop] * y_k[n - k*hop] / sum_k w[n - k*hop]

The pieces are public so the codec and the anomaly scorer frame signals the same
way: :class:`SignalFramer` (chunks in, ready windows out), :class:`OverlapAdd`
(window outputs in, final samples out) and :func:`synthesis_window`.
:func:`denoise_offline` is the whole-signal reference the stream must equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError, ManifestError, ModelError
from .manifest import Preprocessing, SignalSpec
from .model import Model
from .preprocess import denormalize, normalize

__all__ = [
    "OverlapAdd",
    "SignalFramer",
    "StreamDenoiser",
    "check_signal_model",
    "denoise_offline",
    "n_windows",
    "synthesis_window",
]


def synthesis_window(kind: str, length: int) -> np.ndarray:
    """The synthesis weights of ``length`` samples: ``"rect"`` or ``"hann"``.

    ``hann`` is sampled half a sample off the grid,
    ``w[i] = 0.5 - 0.5*cos(2*pi*(i + 0.5)/length)``: strictly positive (so the
    first and last samples of a signal, covered by one window only, are never
    divided by zero) and summing to a constant at ``hop = length/2``.
    """
    if kind == "rect":
        return np.ones(length, dtype=np.float32)
    if kind == "hann":
        i = np.arange(length, dtype=np.float64)
        return (0.5 - 0.5 * np.cos(2.0 * np.pi * (i + 0.5) / length)).astype(np.float32)
    raise ManifestError(f"manifest.signal.synthesis_window: unknown window {kind!r}")


def n_windows(n_samples: int, window: int, hop: int) -> int:
    """How many windows cover ``n_samples`` samples once the end is zero-padded."""
    if n_samples <= 0:
        return 0
    if n_samples <= window:
        return 1
    return -(-(n_samples - window) // hop) + 1


class SignalFramer:
    """Validate pushed chunks and hand out each window once it is complete.

    Holds only the samples future windows still need (under ``window`` samples
    per channel), so memory stays bounded however long the stream runs.
    """

    def __init__(self, spec: SignalSpec, *, name: str = "stream") -> None:
        self.spec = spec
        self.name = name
        self.reset()

    def reset(self) -> None:
        """Forget everything pushed so far."""
        self._buf = np.zeros((self.spec.channels, 0), dtype=np.float32)
        self.samples_in = 0
        self.windows_out = 0

    def check_chunk(self, chunk: Any) -> np.ndarray:
        """A validated float32 ``(channels, n)`` copy of ``chunk`` (errors name the sample)."""
        c = self.spec.channels
        try:
            x = np.asarray(chunk)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{self.name}: chunk is not an array ({exc})") from None
        if x.dtype.kind not in "iuf":
            raise InputError(f"{self.name}: chunk dtype {x.dtype} is not numeric")
        if x.ndim == 1 and c == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[0] != c:
            want = "(samples,) or (1, samples)" if c == 1 else f"({c}, samples)"
            raise InputError(
                f"{self.name}: the model takes {c} channel(s); chunk shape must be {want}, "
                f"got {tuple(x.shape)}"
            )
        x = np.array(x, dtype=np.float32)  # a copy: callers may reuse their buffer
        bad = ~np.isfinite(x)
        if bad.any():
            col = int(np.argmax(bad.any(axis=0)))
            ch = int(np.argmax(bad[:, col]))
            kind = "NaN" if np.isnan(x[ch, col]) else "Inf"
            raise InputError(
                f"{self.name}: sample {self.samples_in + int(col)} (channel {int(ch)}) is "
                f"{kind}; samples must be finite"
            )
        return x

    def _frames(self, buf: np.ndarray, count: int) -> np.ndarray:
        """Copy ``count`` windows out of a contiguous ``(channels, n)`` buffer."""
        buf = np.ascontiguousarray(buf)
        s_ch, s_n = buf.strides
        view = np.lib.stride_tricks.as_strided(
            buf,
            shape=(count, self.spec.channels, self.spec.window),
            strides=(self.spec.hop * s_n, s_ch, s_n),
            writeable=False,
        )
        return np.ascontiguousarray(view)

    def push(self, chunk: Any) -> np.ndarray:
        """Append a chunk; return the windows it completed, ``(k, channels, window)``."""
        x = self.check_chunk(chunk)
        self._buf = np.concatenate([self._buf, x], axis=1) if self._buf.shape[1] else x
        self.samples_in += x.shape[1]
        w, hop = self.spec.window, self.spec.hop
        ready = (self._buf.shape[1] - w) // hop + 1 if self._buf.shape[1] >= w else 0
        if ready <= 0:
            return np.zeros((0, self.spec.channels, w), dtype=np.float32)
        frames = self._frames(self._buf, ready)
        self._buf = self._buf[:, ready * hop :].copy()
        self.windows_out += ready
        return frames

    def flush(self) -> np.ndarray:
        """The remaining windows, zero-padded at the end so every sample is covered."""
        w, hop = self.spec.window, self.spec.hop
        left = n_windows(self.samples_in, w, hop) - self.windows_out
        if left <= 0:
            return np.zeros((0, self.spec.channels, w), dtype=np.float32)
        need = (left - 1) * hop + w
        buf = np.zeros((self.spec.channels, need), dtype=np.float32)
        buf[:, : self._buf.shape[1]] = self._buf
        self._buf = buf[:, :0]
        self.windows_out += left
        return self._frames(buf, left)


class OverlapAdd:
    """Weighted overlap-add of consecutive window outputs, vectorized over the windows.

    Windows are zero-padded to ``R = ceil(window / hop)`` hops so the sum is ``R``
    numpy additions per call, whatever the number of windows.
    """

    def __init__(self, spec: SignalSpec) -> None:
        self.spec = spec
        self._r = -(-spec.window // spec.hop)
        self._win = synthesis_window(spec.synthesis_window, spec.window)
        w = np.zeros(self._r * spec.hop, dtype=np.float32)
        w[: spec.window] = self._win
        self._parts = w.reshape(self._r, spec.hop)
        full = self._parts.sum(axis=0)
        self._inv_full = np.where(full > 0, 1.0 / np.where(full > 0, full, 1.0), 0.0).astype(
            np.float32
        )
        self.reset()

    def reset(self) -> None:
        """Drop the pending tail."""
        self._tail = np.zeros((self.spec.channels, self._r - 1, self.spec.hop), dtype=np.float32)
        self._count = 0  # windows added since the start

    def _wsum(self, first: int, stop: int) -> np.ndarray:
        """Window-weight sums of hop segments ``[first, stop)`` given the windows added."""
        seg = np.arange(first, stop)[:, None]
        out = np.zeros((stop - first, self.spec.hop), dtype=np.float32)
        for j in range(self._r):
            k = seg - j  # the window whose part j lands on each segment
            out += np.where((k >= 0) & (k < self._count), self._parts[j], 0.0)
        return out

    def add(self, y: np.ndarray) -> np.ndarray:
        """Add ``k`` consecutive window outputs ``(k, channels, window)``; return the
        ``k * hop`` samples that no later window touches, ``(channels, k*hop)``."""
        k, c, hop, r = y.shape[0], self.spec.channels, self.spec.hop, self._r
        if k == 0:
            return np.zeros((c, 0), dtype=np.float32)
        if r * hop == self.spec.window:
            yw = (y * self._win).reshape(k, c, r, hop)
        else:
            yw = np.zeros((k, c, r * hop), dtype=np.float32)
            yw[:, :, : self.spec.window] = y * self._win
            yw = yw.reshape(k, c, r, hop)
        seg = np.empty((c, k + r - 1, hop), dtype=np.float32)
        seg[:, :k] = yw[:, :, 0].transpose(1, 0, 2)
        seg[:, k:] = 0.0
        seg[:, : r - 1] += self._tail
        for j in range(1, r):
            seg[:, j : j + k] += yw[:, :, j].transpose(1, 0, 2)
        self._tail = seg[:, k:].copy()
        first = self._count
        self._count += k
        done = seg[:, :k]
        if first >= r - 1:  # steady state: every segment has all its windows
            out = done * self._inv_full
        else:
            out = _divide(done, self._wsum(first, first + k))
        return out.reshape(c, k * hop)

    def finish(self) -> np.ndarray:
        """The pending tail ``(channels, (R-1)*hop)`` as final samples; then reset."""
        c = self.spec.channels
        wsum = self._wsum(self._count, self._count + self._r - 1)
        out = _divide(self._tail, wsum).reshape(c, -1)
        self.reset()
        return out


def _divide(acc: np.ndarray, wsum: np.ndarray) -> np.ndarray:
    """``acc / wsum`` where a sample is covered, 0 where no window weight reaches it."""
    return np.where(wsum > 0, acc / np.where(wsum > 0, wsum, 1.0), 0.0).astype(np.float32)


def _reconstruct_frames(model: Model, frames: np.ndarray, max_batch: int | None) -> np.ndarray:
    """Raw-unit reconstructions of validated frames ``(k, C, W)``, same shape."""
    k = frames.shape[0]
    items = frames.reshape((k, *model.item_shape))
    pre = model.manifest.preprocessing
    if _is_identity(pre):  # skip two passes over the data per push
        return model.run_model_space("reconstruction", items, max_batch).reshape(frames.shape)
    y = model.run_model_space("reconstruction", normalize(items, pre), max_batch)
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


class StreamDenoiser:
    """Denoise a signal pushed in chunks of any size; one per stream, many per Model.

    ``push(chunk)`` takes ``(samples,)`` (mono) or ``(channels, samples)`` and
    returns the samples that became final, ``(channels, n)``; the windows that
    one push completes run as one batch. ``flush()`` returns the rest: after it,
    the total output length equals the total input length exactly, and the
    denoiser is reset for a new stream. ``sample_rate``, when given, must match
    the model's.
    """

    def __init__(
        self, model: Model, *, sample_rate: int | None = None, max_batch: int | None = None
    ) -> None:
        self.model = model
        self.spec = check_signal_model(model, sample_rate)
        self.max_batch = max_batch
        self._framer = SignalFramer(self.spec, name=f"{model.path.name} stream")
        self._ola = OverlapAdd(self.spec)
        self.samples_out = 0

    @property
    def latency_samples(self) -> int:
        """Algorithmic latency: output sample ``n`` is final (returned by ``push``) once
        input sample ``n + latency_samples`` has been pushed.

        It is ``window - 1``: the first sample of each hop waits for the whole
        window starting there; later samples of the hop wait less. Compute time
        comes on top.
        """
        return self.spec.window - 1

    @property
    def latency_ms(self) -> float:
        """:attr:`latency_samples` in milliseconds at the model's sample rate."""
        return 1000.0 * self.latency_samples / self.spec.sample_rate

    @property
    def samples_in(self) -> int:
        """Samples pushed since the start (or the last flush/reset)."""
        return self._framer.samples_in

    def push(self, chunk: Any) -> np.ndarray:
        """Feed samples; get back the ones that are final (possibly none)."""
        frames = self._framer.push(chunk)
        if frames.shape[0] == 0:
            return np.zeros((self.spec.channels, 0), dtype=np.float32)
        out = self._ola.add(_reconstruct_frames(self.model, frames, self.max_batch))
        self.samples_out += out.shape[1]
        return out

    def flush(self) -> np.ndarray:
        """End of stream: the remaining samples, so output length == input length."""
        frames = self._framer.flush()
        parts = []
        if frames.shape[0]:
            parts.append(self._ola.add(_reconstruct_frames(self.model, frames, self.max_batch)))
        parts.append(self._ola.finish())
        rest = np.concatenate(parts, axis=1)[:, : self._framer.samples_in - self.samples_out]
        self.reset()
        return rest

    def reset(self) -> None:
        """Start a new stream (drops any buffered samples)."""
        self._framer.reset()
        self._ola.reset()
        self.samples_out = 0


def denoise_offline(
    model: Model, signal: Any, *, sample_rate: int | None = None, max_batch: int | None = None
) -> np.ndarray:
    """Denoise a whole signal at once: the reference :class:`StreamDenoiser` must equal.

    Written independently of the streaming code (plain framing, one loop over
    windows); holds the whole signal in memory.
    """
    spec = check_signal_model(model, sample_rate)
    x = SignalFramer(spec, name=f"{model.path.name} signal").check_chunk(signal)
    n = x.shape[1]
    if n == 0:
        raise InputError(f"{model.path.name} signal: empty input (no samples)")
    w, hop = spec.window, spec.hop
    k = n_windows(n, w, hop)
    padded = np.zeros((spec.channels, (k - 1) * hop + w), dtype=np.float32)
    padded[:, :n] = x
    frames = np.stack([padded[:, i * hop : i * hop + w] for i in range(k)])
    y = _reconstruct_frames(model, frames, max_batch)
    win = synthesis_window(spec.synthesis_window, w)
    acc = np.zeros_like(padded)
    wsum = np.zeros(padded.shape[1], dtype=np.float32)
    for i in range(k):
        acc[:, i * hop : i * hop + w] += win * y[i]
        wsum[i * hop : i * hop + w] += win
    return (acc / wsum)[:, :n]
