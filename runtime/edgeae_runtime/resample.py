"""Rational sample-rate conversion in numpy: a Kaiser-windowed sinc polyphase filter.

Audio at any rate meets a model trained at one rate (16 kHz for the speech
denoiser) here, on the host's loaders and at the runtime's edges. One filter
design and one per-sample law serve both the offline function and the
streaming class, so streaming output equals the offline result exactly,
whatever the chunk sizes.

The law (the same as ``scipy.signal.resample_poly`` with its default Kaiser
window, beta 5, which the tests check): for ``up/down = to_rate/from_rate`` in
lowest terms, a low-pass FIR ``h`` of ``2*half_len + 1`` taps (``half_len =
10 * max(up, down)``, cutoff at the lower rate's Nyquist, DC gain ``up``) is
applied to the zero-stuffed input, and output sample ``j`` is

    y[j] = sum_k h[k] * xup[j*down + half_len - k],   xup[i*up] = x[i], else 0,

with zeros before the first and after the last input sample. The output has
``ceil(n * up / down)`` samples, and sample ``j`` sits at time ``j / to_rate``,
like input sample ``j * down / up``: no delay to compensate. A streaming
converter can emit output ``j`` once input ``floor((j*down + half_len)/up)``
has arrived, so its delay is ``half_len / up`` input samples (0.6 ms from
48 kHz to 16 kHz).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .errors import InputError

__all__ = [
    "DEFAULT_BETA",
    "DEFAULT_HALF_TAPS",
    "StreamResampler",
    "design_filter",
    "rational_ratio",
    "resample",
    "resample_poly",
]

#: Kaiser window shape (scipy's default): about 50 dB stop-band attenuation.
DEFAULT_BETA = 5.0
#: Filter half-length in units of max(up, down) (scipy's default: 10).
DEFAULT_HALF_TAPS = 10
# Output samples computed per block (bounds the gathered-window memory).
_BLOCK = 4096
_MAX_FACTOR = 1 << 16


def rational_ratio(from_rate: int, to_rate: int) -> tuple[int, int]:
    """``(up, down)`` in lowest terms with ``up / down == to_rate / from_rate``."""
    for name, rate in (("from_rate", from_rate), ("to_rate", to_rate)):
        if int(rate) != rate or rate <= 0:
            raise InputError(f"resample: {name} must be a positive integer in Hz, got {rate!r}")
    g = math.gcd(int(from_rate), int(to_rate))
    return int(to_rate) // g, int(from_rate) // g


def _check_factors(up: int, down: int) -> tuple[int, int]:
    for name, v in (("up", up), ("down", down)):
        if int(v) != v or v < 1:
            raise InputError(f"resample: {name} must be an integer >= 1, got {v!r}")
    g = math.gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    if max(up, down) > _MAX_FACTOR:
        raise InputError(
            f"resample: the ratio {up}/{down} needs a filter too long to be practical; "
            f"up and down in lowest terms must be <= {_MAX_FACTOR}"
        )
    return up, down


@lru_cache(maxsize=32)
def design_filter(
    up: int, down: int, beta: float = DEFAULT_BETA, half_taps: int = DEFAULT_HALF_TAPS
) -> np.ndarray:
    """The anti-aliasing/anti-imaging low-pass: ``2*half_len + 1`` taps, DC gain ``up``.

    A Kaiser-windowed sinc with cutoff ``1 / max(up, down)`` of the up-sampled
    Nyquist, normalized to unit DC gain and scaled by ``up`` (zero-stuffing
    divides the level by ``up``). Read-only; cached per ratio.
    """
    up, down = _check_factors(up, down)
    max_rate = max(up, down)
    half_len = half_taps * max_rate
    n = 2 * half_len + 1
    m = np.arange(n, dtype=np.float64) - half_len
    cutoff = 1.0 / max_rate
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(n, beta)
    h *= up / h.sum()
    h.setflags(write=False)
    return h


@lru_cache(maxsize=32)
def _polyphase(up: int, down: int, beta: float, half_taps: int) -> tuple[np.ndarray, int]:
    """``(H, half_len)``: ``H[r, m] = h[r + m*up]`` (zero past the end), one row per phase."""
    h = design_filter(up, down, beta, half_taps)
    taps = -(-h.size // up)
    padded = np.zeros(taps * up)
    padded[: h.size] = h
    bank = np.ascontiguousarray(padded.reshape(taps, up).T)
    bank.setflags(write=False)
    return bank, (h.size - 1) // 2


def _as_signal(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """``x`` as float64 ``(rows, samples)`` plus its leading shape."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"resample: samples must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise InputError("resample: need at least one axis of samples, got a scalar")
    lead = arr.shape[:-1]
    rows = math.prod(lead) if lead else 1
    return arr.reshape(rows, arr.shape[-1]).astype(np.float64, copy=False), lead


def _out_dtype(x: np.ndarray) -> np.dtype:
    return np.dtype(np.float32) if np.asarray(x).dtype == np.float32 else np.dtype(np.float64)


class StreamResampler:
    """Stateful rational resampler for a live stream ``(channels, samples)``.

    ``process(chunk)`` returns every output sample that the input so far
    determines; ``flush()`` ends the stream (zeros after the last sample) and
    returns the rest, ``ceil(n_in * up / down)`` samples in total. The output
    is identical for any chunking and equals :func:`resample_poly`. The delay
    before an output sample can be emitted is :attr:`delay` input samples.
    """

    def __init__(
        self,
        from_rate: int,
        to_rate: int,
        channels: int = 1,
        *,
        beta: float = DEFAULT_BETA,
        half_taps: int = DEFAULT_HALF_TAPS,
        up_down: tuple[int, int] | None = None,
    ) -> None:
        up, down = rational_ratio(from_rate, to_rate) if up_down is None else up_down
        self.up, self.down = _check_factors(up, down)
        if int(channels) != channels or channels < 1:
            raise InputError(f"resample: channels must be an integer >= 1, got {channels!r}")
        self.channels = int(channels)
        self._bank, self._half = _polyphase(self.up, self.down, float(beta), int(half_taps))
        self._taps = self._bank.shape[1]
        # The buffer holds absolute input indices [self._start, self._start + width);
        # indices below 0 are the zeros before the stream.
        self._buf = np.zeros((self.channels, self._taps), dtype=np.float64)
        self._start = -self._taps
        self._n_in = 0
        self._next = 0
        self._dtype: np.dtype | None = None
        self._done = False

    @property
    def delay(self) -> float:
        """Input samples that must arrive after a sample's time before it is emitted."""
        return self._half / self.up

    @property
    def samples_in(self) -> int:
        """Input samples received so far (per channel)."""
        return self._n_in

    @property
    def samples_out(self) -> int:
        """Output samples emitted so far (per channel)."""
        return self._next

    def _emit(self, stop: int) -> np.ndarray:
        """Output samples ``self._next .. stop - 1`` from the buffer."""
        out = np.empty((self.channels, max(stop - self._next, 0)), dtype=np.float64)
        for pos in range(0, out.shape[1], _BLOCK):
            j = np.arange(self._next + pos, min(self._next + pos + _BLOCK, stop), dtype=np.int64)
            t = j * self.down + self._half
            newest = t // self.up - self._start  # buffer position of each output's newest input
            idx = newest[:, None] - np.arange(self._taps)[None, :]
            coeffs = self._bank[t % self.up]  # (n, taps)
            win = self._buf[:, idx]  # (channels, n, taps)
            out[:, pos : pos + j.size] = np.einsum("cnt,nt->cn", win, coeffs)
        self._next = max(stop, self._next)
        # Keep only what later outputs can still need.
        keep_from = (self._next * self.down + self._half) // self.up - self._taps + 1
        drop = min(max(keep_from - self._start, 0), self._buf.shape[1])
        if drop:
            self._buf = self._buf[:, drop:]
            self._start += drop
        return out.astype(self._dtype or np.float64, copy=False)

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Feed ``(channels, n)`` samples (1-D for one channel); return the outputs now known."""
        if self._done:
            raise InputError("resample: the stream was flushed; start a new StreamResampler")
        if self._dtype is None:
            self._dtype = _out_dtype(chunk)
        arr = np.asarray(chunk)
        if arr.ndim == 1 and self.channels == 1:
            arr = arr[np.newaxis]
        if arr.ndim != 2 or arr.shape[0] != self.channels:
            raise InputError(
                f"resample: expected a chunk of shape ({self.channels}, n), got {arr.shape}"
            )
        data, _ = _as_signal(arr)
        if not np.all(np.isfinite(data)):
            raise InputError("resample: the chunk holds NaN or Inf samples")
        self._buf = np.concatenate([self._buf, data], axis=1)
        self._n_in += data.shape[1]
        # Output j is known once input floor((j*down + half)/up) has arrived.
        stop = max(-(-(self._n_in * self.up - self._half) // self.down), 0)
        out = self._emit(stop)
        return out[0] if np.ndim(chunk) == 1 else out

    def flush(self) -> np.ndarray:
        """End the stream: the remaining outputs, up to ``ceil(n_in * up / down)`` in all."""
        if self._done:
            raise InputError("resample: the stream was already flushed")
        self._done = True
        total = -(-(self._n_in * self.up) // self.down)
        newest = ((total - 1) * self.down + self._half) // self.up if total else 0
        pad = max(newest - (self._start + self._buf.shape[1]) + 1, 0)
        self._buf = np.concatenate([self._buf, np.zeros((self.channels, pad))], axis=1)
        return self._emit(total)


def resample_poly(
    x: np.ndarray,
    up: int,
    down: int,
    *,
    beta: float = DEFAULT_BETA,
    half_taps: int = DEFAULT_HALF_TAPS,
) -> np.ndarray:
    """Resample ``x`` along its last axis by ``up / down`` (see the module law).

    float32 input gives float32 output, anything else float64. ``ceil(n * up / down)``
    samples come out; equal factors return a copy.
    """
    data, lead = _as_signal(x)
    up, down = _check_factors(up, down)
    if up == down:
        return np.array(x, dtype=_out_dtype(x), copy=True)
    if not np.all(np.isfinite(data)):
        raise InputError("resample: the signal holds NaN or Inf samples")
    stream = StreamResampler(
        1, 1, channels=data.shape[0], beta=beta, half_taps=half_taps, up_down=(up, down)
    )
    stream._dtype = _out_dtype(x)
    head = stream.process(data) if data.shape[1] else np.zeros((data.shape[0], 0))
    out = np.concatenate([head, stream.flush()], axis=1)
    return out.reshape(*lead, out.shape[-1]).astype(_out_dtype(x), copy=False)


def resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample ``x`` (last axis = samples) from ``from_rate`` to ``to_rate`` Hz."""
    up, down = rational_ratio(from_rate, to_rate)
    return resample_poly(x, up, down)
