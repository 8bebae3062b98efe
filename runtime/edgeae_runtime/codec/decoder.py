"""``StreamDecoder``: edgeae stream bytes in, samples out, chunk by chunk.

Frames are parsed incrementally, their codes dequantized to latents, decoded by
the model in one batch per push, and put back together by the runtime's one
overlap-add (:class:`~edgeae_runtime.framing.OverlapAdd`: a plain copy for
non-overlapping windows, weighted overlap-add otherwise). A frame holds one
window, or (format version 3) a group of them. With ``conceal=True`` every
window of a lost or corrupted frame is replaced by the last good latent (zeros
before the first one) and decoding carries on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..errors import StreamError
from ..framing import OverlapAdd, synthesis_window
from ..model import Model
from .entropy import codec_tables
from .format import EndOfStream, Frame, StreamHeader
from .parser import LOST_PER_FRAME, MAX_GAP, Lost, StreamParser
from .payload import decode_payload

__all__ = ["StreamDecoder", "bind_entropy", "check_stream_model", "decompress"]


def check_stream_model(header: StreamHeader, model: Model, kind: str) -> StreamHeader:
    """Refuse a stream that ``model`` cannot decode (other model, kind, shapes or entropy
    model); returns the header with the model's entropy tables bound for decoding."""
    if header.fingerprint != model.fingerprint:
        raise StreamError(
            f"stream was made by model {header.fingerprint} but this decoder is "
            f"{model.fingerprint} ({model.path.name}); use the matching decoder"
        )
    if header.kind != kind:
        use = "decompress" if header.kind == "signal" else "decompress_items"
        raise StreamError(f"this is a stream of {header.kind}s; decode it with {use}")
    if header.latent_shape != model.latent_shape or header.item_shape != model.item_shape:
        raise StreamError(
            f"stream has item shape {header.item_shape} / latent shape {header.latent_shape}, "
            f"{model.path.name} has {model.item_shape} / {model.latent_shape}"
        )
    return bind_entropy(header, model)


def bind_entropy(header: StreamHeader, model: Model) -> StreamHeader:
    """The header with ``model``'s entropy tables, if the stream names them (versions 2-5:
    the factorized tables, in version 4 the context model, in version 5 the adaptive one)."""
    if not header.entropy_digest:
        return header
    tables = codec_tables(model.manifest.codec, header.entropy_model)
    if tables is None or tables.digest != header.entropy_digest:
        raise StreamError(
            f"stream was coded with {header.entropy_model} entropy model "
            f"{header.entropy_digest.hex()}, but "
            f"{model.path.name} has {tables.digest.hex() if tables else 'none'}; "
            "use the matching decoder"
        )
    return dataclasses.replace(header, entropy=tables)


DECODE_BLOCK = 1024  # frames decoded per model call, however many one push completes


class StreamDecoder:
    """Decodes one edgeae signal stream, incrementally.

    ``push(data)`` returns the samples ``(channels, n)`` that are final so far;
    ``flush()`` checks the stream ended properly (StreamError naming the frame
    if it was truncated, unless ``conceal``) and returns the rest. Output is the
    same whatever the byte chunking. ``concealed`` counts replaced windows (one per
    frame for streams of one window per frame).
    """

    def __init__(self, decoder: Model, *, conceal: bool = False) -> None:
        self.model = decoder
        self.conceal = conceal
        self.reset()

    def reset(self) -> None:
        """Forget the current stream and get ready for a new one."""
        self._parser = StreamParser(tolerant=self.conceal)
        self.header: StreamHeader | None = None
        self.concealed = 0  # windows filled in instead of decoded
        self._received = 0  # windows of the intact frames, decoded or not
        self._lost = 0  # windows of the lost frames
        self.samples = 0  # samples returned so far
        self.ended = False
        self._last: np.ndarray | None = None  # last good latent
        self._ola: OverlapAdd | None = None

    @property
    def truncated(self) -> bool:
        """True when a concealing decoder's input ended without an end marker."""
        return self._parser.truncated

    @property
    def channels(self) -> int:
        if self.header is not None:
            return self.header.channels
        spec = self.model.signal
        return spec.channels if spec is not None else 1

    def push(self, data: bytes | bytearray | memoryview) -> np.ndarray:
        """Add stream bytes; return the newly decoded samples ``(channels, n)``."""
        return self._process(self._parser.feed(data))

    def flush(self) -> np.ndarray:
        """End of input: decode what is left; StreamError if the stream was cut short."""
        return self._process(self._parser.finish())

    def _process(self, events: list[Any]) -> np.ndarray:
        slots: list[tuple[np.ndarray, int]] = []  # (latent, samples covered)
        for ev in events:
            if isinstance(ev, StreamHeader):
                ev = check_stream_model(ev, self.model, "signal")
                self.header = ev
                self._start(ev)
            elif self.header is None:
                continue  # the parser yields nothing before the header
            elif isinstance(ev, Frame):
                slots.extend(self._frame_slots(self.header, ev))
            elif isinstance(ev, Lost):
                windows = ev.count * self.header.frame_items
                self._check_budget(ev, windows)
                slots.extend(self._concealed(self.header, windows))
            elif isinstance(ev, EndOfStream):
                self._fit_tail(slots, ev.total)
                self.ended = True
        if self.header is None or not slots:
            return np.zeros((self.channels, 0), np.float32)
        # Decode in blocks: a long concealed gap never becomes one huge batch.
        parts = [
            self._synthesize(self.header, slots[i : i + DECODE_BLOCK])
            for i in range(0, len(slots), DECODE_BLOCK)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _start(self, h: StreamHeader) -> None:
        w = synthesis_window(h.synthesis, h.window)
        self._ola = OverlapAdd(h.channels, h.window, h.hop, w)

    def _frame_slots(self, h: StreamHeader, frame: Frame) -> list[tuple[np.ndarray, int]]:
        """A frame's windows as (latent, samples): every window a hop, the last the rest."""
        n = h.frame_latents(frame.samples)
        self._received += n
        try:
            z = decode_payload(frame, h)
        except StreamError:
            if not self.conceal:
                raise
            slots = self._concealed(h, n)
        else:
            self._last = z[-1]
            slots = list(zip(z, [h.hop] * n, strict=True))
        last = frame.samples - (n - 1) * h.hop
        slots[-1] = (slots[-1][0], last)
        return slots

    def _check_budget(self, lost: Lost, windows: int) -> None:
        """Bound what lost frames may conceal, in windows (the parser bounds frames): a
        forged frame count times a large group must not claim gigabytes of samples."""
        budget = MAX_GAP + LOST_PER_FRAME * self._received
        self._lost += windows
        if self._lost > budget:
            raise StreamError(
                f"lost frames {lost.first}..{lost.first + lost.count - 1}: concealing "
                f"{self._lost} windows in all for {self._received} received is more than "
                f"the {budget} that can be concealed (a broken link or a forged stream)"
            )

    def _concealed(self, h: StreamHeader, count: int) -> list[tuple[np.ndarray, int]]:
        """``count`` stand-in windows: the last good latent again (zeros before any)."""
        z = self._last if self._last is not None else np.zeros(h.latent_shape, np.float32)
        self.concealed += count
        return [(z, h.hop)] * count

    def _fit_tail(self, slots: list[tuple[np.ndarray, int]], total: int) -> None:
        """Concealing: give the concealed frames before the end marker the right lengths."""
        if not self.conceal or self.header is None:
            return
        have = self.samples + sum(n for _, n in slots)
        # stand-ins at the end of ``slots`` were sized as full hops; trim them to ``total``.
        i = len(slots)
        while have > total and i > 0:
            i -= 1
            z, n = slots[i]
            cut = min(n, have - total)
            slots[i] = (z, n - cut)
            have -= cut

    def _synthesize(self, h: StreamHeader, slots: list[tuple[np.ndarray, int]]) -> np.ndarray:
        """Decode the slots' latents in one batch and overlap-add them in order."""
        slots = [s for s in slots if s[1] > 0]
        if not slots:
            return np.zeros((h.channels, 0), np.float32)
        z = np.stack([s[0] for s in slots])
        y = self.model.decode(z).reshape(len(slots), h.channels, h.window)
        assert self._ola is not None  # set with the header
        result = self._ola.add(y)  # each slot's hop of final samples, in order
        counts = np.array([n for _, n in slots])
        if (counts < h.hop).any():  # a slot carries only the first n samples of its hop
            keep = (np.arange(h.hop)[None, :] < counts[:, None]).reshape(-1)
            result = result[:, keep]
        self.samples += result.shape[1]
        return result


def decompress(decoder: Model, data: bytes, *, conceal: bool = False) -> np.ndarray:
    """A whole edgeae stream -> the samples ``(channels, n)`` (see StreamDecoder)."""
    dec = StreamDecoder(decoder, conceal=conceal)
    return np.concatenate([dec.push(data), dec.flush()], axis=1)
