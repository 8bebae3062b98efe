"""Signal framing: the one place that cuts signals into frames and puts frames back together.

Usage (a streaming STFT-style processor; the denoiser, scorer and codec do the same)::

    from edgeae_runtime.framing import OverlapAdd, SignalFramer, synthesis_window
    framer = SignalFramer(channels=1, window=512, hop=256, name="mic")
    w = synthesis_window("hann", 512)
    ola = OverlapAdd(channels=1, window=512, hop=256, weights=w, divisor=w * w)
    for chunk in chunks:                      # any sizes, (samples,) or (channels, samples)
        batch = framer.push(chunk)            # FrameBatch: .frames (k, C, W), .index, .starts
        y = process(batch.frames * w)         # e.g. rfft, mask, irfft (one batch per push)
        emit(ola.add(y))                      # (C, k*hop) samples no later frame touches
    last = framer.flush()                     # zero-padded last frames (every sample covered)
    emit(ola.flush(process(last.frames * w), length=framer.samples_in))  # exact length

The contract (docs/architecture.md, "Signals"): frame ``k`` covers samples
``[k*hop, k*hop + window)`` of the signal zero-padded at the end; a frame is
*ready* once its last sample has arrived. How many frames a signal of ``n``
samples makes is :func:`n_frames`: with ``tail="cover"`` (denoiser, scorer,
trainer) the fewest that cover every sample, so a signal shorter than a window
is one padded frame; with ``tail="hop"`` (the codec) one frame per hop start,
each frame carrying the ``hop`` samples it starts (the two agree at
``hop == window``). Overlap-add is weighted and normalized::

    out[n] = sum_k a[n - k*hop] * y_k[n - k*hop] / sum_k d[n - k*hop]

with ``a`` the synthesis ``weights`` and ``d`` the ``divisor`` (default ``a``:
then the result is exact wherever a frame covers a sample). :func:`frame_signal`
and :func:`overlap_add` are the whole-signal forms the streaming classes equal;
:func:`as_signal` is the one validator of signal chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .errors import InputError, ManifestError
from .manifest import SignalSpec

__all__ = [
    "FrameBatch",
    "FramedStream",
    "OverlapAdd",
    "SignalFramer",
    "Tail",
    "as_signal",
    "check_geometry",
    "frame_signal",
    "n_frames",
    "numeric_array",
    "overlap_add",
    "overrunning",
    "padded_length",
    "signal_shape",
    "synthesis_window",
    "whole_signal",
]

Tail = Literal["cover", "hop"]


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


def check_geometry(window: int, hop: int) -> None:
    """InputError unless ``window >= 1`` and ``1 <= hop <= window`` (no sample skipped)."""
    if int(window) < 1:
        raise InputError(f"window must be >= 1 sample, got {window}")
    if not 1 <= int(hop) <= int(window):
        raise InputError(
            f"hop must be between 1 and the window ({window}), got {hop}; "
            "a hop longer than the window would skip samples"
        )


def n_frames(n_samples: int, window: int, hop: int, tail: Tail = "cover") -> int:
    """How many frames a signal of ``n_samples`` makes (0 for an empty signal).

    ``"cover"``: the fewest frames covering every sample once the end is
    zero-padded, ``1 + ceil((n - window) / hop)`` and 1 for ``n <= window``.
    ``"hop"``: one frame per hop start, ``ceil(n / hop)``.
    """
    if n_samples <= 0:
        return 0
    if tail == "hop":
        return -(-n_samples // hop)
    if n_samples <= window:
        return 1
    return -(-(n_samples - window) // hop) + 1


def padded_length(n_samples: int, window: int, hop: int, tail: Tail = "cover") -> int:
    """Length of the zero-padded signal the frames tile: ``(frames - 1) * hop + window``."""
    k = n_frames(n_samples, window, hop, tail)
    return (k - 1) * hop + window if k else 0


def overrunning(starts: Any, window: int, n_samples: int) -> np.ndarray:
    """Which frames starting at ``starts`` run past the end of a signal of ``n_samples``
    samples, i.e. are partly zero padding: ``starts + window > n_samples`` (bool array).

    The one padding rule of anomaly scoring: padding is not data, so the trainer
    calibrates no threshold on such a window and :class:`~edgeae_runtime.StreamScorer`
    scores none at ``flush`` (each unless it is the signal's only window). With
    ``tail="cover"`` only the last frame can overrun.
    """
    return np.asarray(starts, dtype=np.int64) + int(window) > int(n_samples)


def numeric_array(x: Any, name: str) -> np.ndarray:
    """``x`` as an integer or float array (no copy), else InputError naming ``name``.

    The first check of every array the runtime is given (signal chunks here,
    model batches in :mod:`edgeae_runtime.model`).
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name}: not an array ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{name}: dtype {arr.dtype} cannot be converted to float32; give numbers")
    return arr


def signal_shape(x: Any, channels: int | None, name: str) -> np.ndarray:
    """``x`` as a numeric ``(channels, n)`` array (no copy); ``(n,)`` is mono.

    ``channels=None`` accepts any channel count. InputError names ``name``.
    """
    arr = numeric_array(x, name)
    if arr.ndim == 1 and channels in (None, 1):
        arr = arr[None, :]
    if channels is None:
        if arr.ndim != 2:
            raise InputError(
                f"{name}: a signal is (samples,) or (channels, samples), got {tuple(arr.shape)}"
            )
    elif arr.ndim != 2 or arr.shape[0] != channels:
        want = "(samples,) or (1, samples)" if channels == 1 else f"({channels}, samples)"
        raise InputError(
            f"{name}: the model takes {channels} channel(s); chunk shape must be {want}, "
            f"got {tuple(arr.shape)}"
        )
    return arr


def whole_signal(x: Any, channels: int | None, name: str) -> np.ndarray:
    """A whole recording read from a file as ``(channels, samples)`` (no copy).

    Files hold multichannel signals either way round: ``(channels, samples)``
    (this package) or time-major ``(samples, channels)`` (soundfile, wfdb, pandas,
    a CSV's rows). A 2-D array is taken as time-major, and transposed, when its
    rows can only be samples: the model's ``channels`` are its columns and not its
    rows, or, with ``channels=None``, it has more rows than columns (a signal has
    more samples than channels). The channel count is not checked here (the caller
    says what it expected); chunks pushed to a stream are never guessed
    (:func:`as_signal`). InputError names ``name``.
    """
    arr = numeric_array(x, name)
    if arr.ndim == 2:
        rows, cols = arr.shape
        if (rows != channels and cols == channels) if channels else rows > cols:
            arr = arr.T
    return signal_shape(arr, None, name)


def as_signal(x: Any, channels: int | None, name: str, *, first_sample: int = 0) -> np.ndarray:
    """The chunk validator: a float32 ``(channels, n)`` copy of ``x``, all samples finite.

    A NaN/Inf raises InputError naming its sample (counted from ``first_sample``,
    the chunk's position in the stream) and channel. A copy, so callers may
    reuse their buffer.
    """
    arr = signal_shape(x, channels, name)
    out = np.empty(arr.shape, dtype=np.float32)
    _store(out, arr, name, first_sample)
    return out


def _store(dst: np.ndarray, src: np.ndarray, name: str, first_sample: int) -> None:
    """Copy the numeric ``src`` into the float32 ``dst`` (same shape), then refuse a
    non-finite sample (:func:`as_signal`'s error); ``dst`` holds garbage after a refusal."""
    if src.dtype == np.float32:
        np.copyto(dst, src)
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: Inf, refused below
            np.copyto(dst, src, casting="unsafe")
    if src.dtype.kind == "f" and not np.isfinite(dst).all():
        bad = ~np.isfinite(dst)
        col = int(np.argmax(bad.any(axis=0)))
        ch = int(np.argmax(bad[:, col]))
        kind = "NaN" if np.isnan(dst[ch, col]) else "Inf"
        raise InputError(
            f"{name}: sample {first_sample + col} (channel {ch}) is {kind}; samples must be finite"
        )


def frame_signal(signal: np.ndarray, window: int, hop: int, tail: Tail = "cover") -> np.ndarray:
    """All frames of a whole validated signal ``(C, n)``: a read-only ``(k, C, window)`` view.

    A view of the signal, or of one zero-padded copy when the frames overrun
    its end, so framing a long signal costs no memory per frame.
    """
    check_geometry(window, hop)
    sig = np.asarray(signal)
    total = padded_length(int(sig.shape[1]), window, hop, tail)
    if total == 0:
        return np.zeros((0, sig.shape[0], window), dtype=sig.dtype)
    if total > sig.shape[1]:
        padded = np.zeros((sig.shape[0], total), dtype=sig.dtype)
        padded[:, : sig.shape[1]] = sig
        sig = padded
    view = np.lib.stride_tricks.sliding_window_view(sig[:, :total], window, axis=1)[:, ::hop]
    return view.transpose(1, 0, 2)  # (C, k, window) -> (k, C, window), still a view


def overlap_add(
    frames: np.ndarray,
    hop: int,
    weights: np.ndarray,
    length: int,
    divisor: np.ndarray | None = None,
) -> np.ndarray:
    """The definition, one loop over frames: ``sum a*y_k / sum d`` cut to ``length`` samples.

    What :class:`OverlapAdd` computes incrementally; samples no frame weight
    reaches are 0.
    """
    k, c, window = frames.shape
    weights, d = _cancel(window, hop, np.asarray(weights, np.float32), divisor)
    total = max((k - 1) * hop + window, length) if k else length
    acc = np.zeros((c, total), dtype=np.float32)
    wsum = np.zeros(total, dtype=np.float32)
    for i in range(k):
        acc[:, i * hop : i * hop + window] += weights * frames[i]
        wsum[i * hop : i * hop + window] += d
    return _divide(acc, wsum)[:, :length]


@dataclass(frozen=True)
class FrameBatch:
    """Frames that became ready: ``frames[j]`` is frame number ``index + j``."""

    index: int  # number of the first frame in the stream (0 for the very first)
    frames: np.ndarray  # (k, channels, window) float32, contiguous
    hop: int

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def starts(self) -> np.ndarray:
        """The first sample of each frame in the stream, int64 ``(k,)``."""
        return (np.arange(len(self), dtype=np.int64) + self.index) * self.hop


class SignalFramer:
    """Validate pushed chunks and hand out each frame once it is complete.

    Holds only the samples future frames still need (under ``window`` samples
    per channel, in a buffer reused from push to push), so memory stays bounded
    however long the stream runs. The frames are the same whatever the chunking.
    """

    def __init__(
        self, channels: int, window: int, hop: int, *, name: str = "stream", tail: Tail = "cover"
    ) -> None:
        check_geometry(window, hop)
        self.channels, self.window, self.hop = int(channels), int(window), int(hop)
        self.name = name
        self.tail: Tail = tail
        # the buffer's usual size: one window plus a 100 ms-class chunk; a larger push grows
        # it, and it shrinks back once a push leaves it mostly empty
        self._capacity = max(2 * self.window, 4096)
        self._none = np.zeros((0, self.channels, self.window), dtype=np.float32)
        self.reset()

    @classmethod
    def of(cls, spec: SignalSpec, *, name: str = "stream", tail: Tail = "cover") -> SignalFramer:
        """The framer of a manifest's signal section."""
        return cls(spec.channels, spec.window, spec.hop, name=name, tail=tail)

    def reset(self) -> None:
        """Forget everything pushed so far."""
        self._buf = np.zeros((self.channels, self._capacity), dtype=np.float32)
        self._n = 0  # samples held: _buf[:, :_n], the first at stream sample frames_out * hop
        self.samples_in = 0
        self.frames_out = 0

    def check_chunk(self, chunk: Any) -> np.ndarray:
        """:func:`as_signal` of ``chunk`` for this stream (errors name the stream sample)."""
        return as_signal(chunk, self.channels, self.name, first_sample=self.samples_in)

    def _reserve(self, need: int) -> None:
        """Room for ``need`` samples in the buffer, keeping the ``_n`` held."""
        cap = self._buf.shape[1]
        if need <= cap and (cap == self._capacity or need > cap // 4):
            return
        new = max(need, self._capacity) if need <= cap else max(need, 2 * cap)
        buf = np.zeros((self.channels, new), dtype=np.float32)
        buf[:, : self._n] = self._buf[:, : self._n]
        self._buf = buf

    def _take(self, count: int) -> np.ndarray:
        """Copy ``count`` frames out of the buffer's head; drop the samples no frame needs."""
        if count <= 0:
            return self._none
        buf = self._buf  # always a whole, C-contiguous array
        s_ch, s_n = buf.strides
        view = np.ndarray(
            (count, self.channels, self.window), np.float32, buf, 0, (self.hop * s_n, s_ch, s_n)
        )
        frames = view.copy()
        self.frames_out += count
        used = min(count * self.hop, self._n)
        keep = self._n - used
        if keep:
            buf[:, :keep] = buf[:, used : self._n]  # numpy copies overlapping ranges safely
        self._n = keep
        return frames

    def _batch(self, count: int) -> FrameBatch:
        first = self.frames_out
        return FrameBatch(first, self._take(count), self.hop)

    def push(self, chunk: Any) -> FrameBatch:
        """Append a chunk; return the frames it completed."""
        first = self.frames_out
        return FrameBatch(first, self.push_frames(chunk), self.hop)

    def push_frames(self, chunk: Any) -> np.ndarray:
        """:meth:`push` without the batch record: the completed frames ``(k, C, window)``."""
        x = signal_shape(chunk, self.channels, self.name)
        m = x.shape[1]
        end = self._n + m
        self._reserve(end)
        _store(self._buf[:, self._n : end], x, self.name, self.samples_in)
        self._n = end
        self.samples_in += m
        w = self.window
        return self._take((end - w) // self.hop + 1 if end >= w else 0)

    def flush(self) -> FrameBatch:
        """The remaining frames (:func:`n_frames` in all), zero-padded at the end."""
        left = n_frames(self.samples_in, self.window, self.hop, self.tail) - self.frames_out
        if left <= 0:
            self._n = 0
            return self._batch(0)
        need = (left - 1) * self.hop + self.window
        self._reserve(need)
        self._buf[:, self._n : need] = 0.0
        batch = self._batch(left)
        self._n = 0
        self._reserve(0)  # back to the usual size after a long flush
        return batch


class OverlapAdd:
    """Weighted overlap-add of consecutive frame outputs, vectorized over the frames.

    ``weights`` multiply each frame (the synthesis window), ``divisor`` is summed
    for the normalization (default ``weights``; an STFT passes
    ``analysis * synthesis``). At ``hop == window`` nothing overlaps, the weights
    cancel, and frames are copied through exactly. Frames are zero-padded to
    ``R = ceil(window / hop)`` hops so the sum is ``R`` numpy additions per call.
    """

    def __init__(
        self,
        channels: int,
        window: int,
        hop: int,
        weights: np.ndarray,
        divisor: np.ndarray | None = None,
    ) -> None:
        check_geometry(window, hop)
        self.channels, self.window, self.hop = int(channels), int(window), int(hop)
        weights, divisor = _cancel(window, hop, np.asarray(weights, np.float32), divisor)
        if weights.shape != (window,) or divisor.shape != (window,):
            raise InputError(f"weights: need {window} values, got {weights.shape}/{divisor.shape}")
        self._r = -(-window // hop)
        self._win = weights
        d = np.zeros(self._r * hop, dtype=np.float32)
        d[:window] = divisor
        self._parts = d.reshape(self._r, hop)
        self._full = np.zeros(hop, dtype=np.float32)  # a segment's divisor sum, steady state
        for j in range(self._r - 1, -1, -1):  # oldest frame first, as in _wsum and add
            self._full += self._parts[j]
        self._inv_full = _reciprocal(self._full)  # the steady state's normalization, once
        self.reset()

    @classmethod
    def of(cls, spec: SignalSpec) -> OverlapAdd:
        """The overlap-add of a manifest's signal section (its synthesis window)."""
        w = synthesis_window(spec.synthesis_window, spec.window)
        return cls(spec.channels, spec.window, spec.hop, w)

    def reset(self) -> None:
        """Drop the pending tail."""
        # segment sums: rows [0, R-1) hold the pending tail (the partial sums of hop
        # segments later frames still add to); add() sums a batch in the rows after them
        self._seg = np.zeros((self.channels, self._r - 1 + 8, self.hop), dtype=np.float32)
        self._plans: dict[int, tuple[Any, ...]] = {}
        self._count = 0  # frames added since the start
        self.samples_out = 0

    @property
    def _tail(self) -> np.ndarray:
        return self._seg[:, : self._r - 1]

    def _plan(self, k: int) -> tuple[Any, ...]:
        """The buffers and views :meth:`add` uses for a batch of ``k`` frames (cached per
        ``k``: a stream pushes the same few batch sizes over and over)."""
        plan = self._plans.get(k)
        if plan is not None:
            return plan
        c, hop, r = self.channels, self.hop, self._r
        rows = k + r - 1
        if rows > self._seg.shape[1]:
            grown = np.zeros((c, 2 * rows, hop), dtype=np.float32)
            grown[:, : r - 1] = self._tail
            self._seg, self._plans = grown, {}
        seg = self._seg
        yw = np.zeros((k, c, r * hop), dtype=np.float32)  # weighted frames, zero past window
        parts = yw.reshape(k, c, r, hop).transpose(1, 0, 2, 3)  # (c, k, r, hop) views
        adds = tuple((seg[:, j : j + k], parts[:, :, j]) for j in range(r - 1, -1, -1))
        plan = (yw[:, :, : self.window], seg[:, r - 1 : rows], adds, seg[:, :k],
                seg[:, : r - 1], seg[:, k:rows])  # fmt: skip
        if k <= 64:
            self._plans[k] = plan
        return plan

    def _wsum(self, first: int, stop: int) -> np.ndarray:
        """Divisor sums of hop segments ``[first, stop)`` given the frames added so far.

        Frame ``s - j`` puts its part ``j`` on segment ``s``; summed oldest frame first.
        """
        seg = np.arange(first, stop)[:, None]
        out = np.zeros((stop - first, self.hop), dtype=np.float32)
        for j in range(self._r - 1, -1, -1):
            k = seg - j  # the frame whose part j lands on each segment
            out += np.where((k >= 0) & (k < self._count), self._parts[j], 0.0)
        return out

    def add(self, y: np.ndarray) -> np.ndarray:
        """Add ``k`` consecutive frame outputs ``(k, channels, window)``; return the
        ``k * hop`` samples that no later frame touches, ``(channels, k*hop)``.

        Every sample is summed in the same order (oldest frame first) however the
        frames are batched, so the output does not depend on the chunking, bit for
        bit, and equals :func:`overlap_add`.
        """
        k, c, hop, r = y.shape[0], self.channels, self.hop, self._r
        if k == 0:
            return np.zeros((c, 0), dtype=np.float32)
        weighted, fresh, adds, done, tail, next_tail = self._plan(k)
        np.multiply(y, self._win, out=weighted)
        fresh.fill(0.0)
        for acc, part in adds:  # oldest frame's part first on every segment
            np.add(acc, part, out=acc)
        first = self._count
        self._count += k
        if first >= r - 1:  # steady state: every segment has all its frames
            out = done * self._inv_full
        else:
            out = _divide(done, self._wsum(first, first + k))
        if r > 1:
            np.copyto(tail, next_tail)  # the new pending tail (overlap-safe)
        self.samples_out += k * hop
        return out.reshape(c, k * hop)

    def finish(self) -> np.ndarray:
        """The pending tail ``(channels, (R-1)*hop)`` as final samples; then reset."""
        wsum = self._wsum(self._count, self._count + self._r - 1)
        out = _divide(self._tail, wsum).reshape(self.channels, -1)  # a new array
        self.reset()
        return out

    def flush(self, y: np.ndarray, length: int) -> np.ndarray:
        """Add the last frame outputs and return the rest, so that all the samples
        returned since the start number exactly ``length``; then reset."""
        before = self.samples_out
        rest = np.concatenate([self.add(y), self.finish()], axis=1)
        return rest[:, : max(0, length - before)]


class FramedStream:
    """Chunks in, final samples out: frames -> :meth:`_process` -> overlap-add.

    The streaming skeleton of every frame-by-frame signal processor (the
    autoencoder's :class:`~edgeae_runtime.stream.StreamDenoiser`, the spectral
    denoiser): a subclass sets ``spec``, ``_framer`` and ``_ola`` and defines
    ``_process(frames) -> outputs`` (``(k, channels, window)`` both), plus
    ``_reset_state`` for state of its own. ``push`` returns the samples that
    became final, ``(channels, n)``, the frames one push completes processed as
    one batch; ``flush`` returns the rest (output length == input length) and
    resets for a new stream.
    """

    spec: SignalSpec
    _framer: SignalFramer
    _ola: OverlapAdd

    def _process(self, frames: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _reset_state(self) -> None:
        """Forget the subclass's own stream state (none by default)."""

    @property
    def latency_samples(self) -> int:
        """Algorithmic latency: output sample ``n`` is final (returned by ``push``) once
        input sample ``n + latency_samples`` has been pushed.

        It is ``window - 1``: the first sample of each hop waits for the whole
        window starting there; later samples of the hop wait less. Compute time
        comes on top.
        """
        return self._framer.window - 1

    @property
    def latency_ms(self) -> float:
        """:attr:`latency_samples` in milliseconds at the stream's sample rate."""
        return 1000.0 * self.latency_samples / self.spec.sample_rate

    @property
    def samples_in(self) -> int:
        """Samples pushed since the start (or the last flush/reset)."""
        return self._framer.samples_in

    @property
    def samples_out(self) -> int:
        """Samples returned since the start of the stream."""
        return self._ola.samples_out

    def push(self, chunk: Any) -> np.ndarray:
        """Feed samples; get back the ones that are final (possibly none)."""
        frames = self._framer.push_frames(chunk)
        if frames.shape[0] == 0:
            return np.zeros((self._framer.channels, 0), dtype=np.float32)
        return self._ola.add(self._process(frames))

    def flush(self) -> np.ndarray:
        """End of stream: the remaining samples, so output length == input length."""
        frames = self._framer.flush().frames
        y = self._process(frames) if len(frames) else frames
        rest = self._ola.flush(y, self._framer.samples_in)
        self.reset()
        return rest

    def reset(self) -> None:
        """Start a new stream (drops any buffered samples and the processor's state)."""
        self._framer.reset()
        self._ola.reset()
        self._reset_state()


def _cancel(
    window: int, hop: int, weights: np.ndarray, divisor: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(weights, divisor)``; without overlap a window divided by itself is 1, exactly."""
    if divisor is None:
        if hop == window:
            weights = np.ones(window, dtype=np.float32)
        return weights, weights
    return weights, np.asarray(divisor, dtype=np.float32)


def _reciprocal(wsum: np.ndarray) -> np.ndarray:
    """``1 / wsum`` where a sample is covered, 0 where no frame weight reaches it."""
    covered = wsum > 0
    return np.where(covered, 1.0 / np.where(covered, wsum, 1.0), 0.0).astype(np.float32)


def _divide(acc: np.ndarray, wsum: np.ndarray) -> np.ndarray:
    """``acc`` normalized by ``wsum``: one multiply by its reciprocal, so the streaming
    steady state can reuse a cached reciprocal and stay bit-identical to the offline sum."""
    return acc * _reciprocal(wsum)
