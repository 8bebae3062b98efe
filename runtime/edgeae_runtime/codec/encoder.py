"""``StreamEncoder``: samples in, edgeae stream bytes out, chunk by chunk.

The signal is cut into the manifest's windows by the runtime's one framer
(:mod:`edgeae_runtime.framing`; by default non-overlapping, ``hop == window``:
half the bytes of the manifest's overlapping hop for nearly the same SNR, see
docs/stream-format.md), each window is encoded by the model into a latent and
quantized to integer codes; each window carries the ``hop`` samples it starts
(the framer's ``tail="hop"`` rule). Fixed-width codes are written one window per
frame; with the model's entropy model, ``frame_windows`` windows share one
rANS-coded frame (format version 3), the last frame holding the rest. The
stream header comes with the first bytes returned.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import numpy as np

from ..errors import InputError, ManifestError, ParameterError, StreamError
from ..framing import FrameBatch, SignalFramer
from ..model import Model
from .entropy import codec_tables
from .format import MAX_FRAME_ITEMS, StreamHeader, pack_end, pack_frame, pack_header
from .payload import encode_payloads

__all__ = ["FRAME_WINDOWS", "StreamEncoder", "compress", "frame_size", "header_for_model"]

#: Signal windows per frame of an entropy-coded stream: the 19-byte frame header and the
#: 4-byte rANS flush are paid once per 8 windows, for at most 7 hops of added latency
#: (docs/stream-format.md, "Grouped windows").
FRAME_WINDOWS = 8


def frame_size(header: StreamHeader, size: object, param: str) -> StreamHeader:
    """``header`` with ``size`` latents per frame when it is entropy-coded (else as is)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not (
        1 <= size <= MAX_FRAME_ITEMS
    ):
        raise InputError(f"must be an integer 1..{MAX_FRAME_ITEMS}, got {size!r}", param=param)
    if header.entropy is None:
        return header
    return dataclasses.replace(header, frame_items=int(size))


def header_for_model(
    model: Model,
    kind: Literal["signal", "image", "items"],
    *,
    overlap: bool = False,
    bits: int | None = None,
    per_frame: bool | None = None,
    entropy_model: str | None = None,
) -> StreamHeader:
    """The stream header describing how ``model`` codes a signal or images.

    Quantization comes from the manifest's codec section; ``per_frame=True`` (or
    a manifest without one) stores a scale and offset in every frame instead.
    ``bits`` overrides the code width (4, 8 or 16; per-frame scaling only).
    ``entropy_model`` picks one of the manifest's entropy models (``"factorized"``,
    ``"context"``: format version 4, ``"adaptive"``: version 5); None takes the adaptive
    model when the manifest has one, else its context model.
    """
    codec = model.manifest.codec
    if per_frame is None:
        per_frame = codec is None
    if not per_frame and codec is None:
        raise ManifestError(
            f"{model.path.name}: manifest.codec is missing; use per-frame scaling instead"
        )
    if not per_frame and bits is not None and codec is not None and bits != codec.bits:
        raise ParameterError(
            f"{model.path.name}: manifest.codec is calibrated for {codec.bits}-bit codes; "
            f"{bits}-bit codes need `per_frame` scaling",
            param="bits",
        )
    if bits is None:
        bits = codec.bits if codec is not None and not per_frame else 8
    if bits not in (4, 8, 16):
        raise InputError(f"code bits must be 4, 8 or 16, got {bits}")
    fields: dict[str, Any] = {}
    if kind == "signal":
        spec = model.require_signal()
        if math.prod(model.item_shape) != spec.channels * spec.window:
            raise ManifestError(
                f"{model.path.name}: item shape {model.item_shape} does not hold one window "
                f"of {spec.channels} channel(s) x {spec.window} samples"
            )
        fields = {
            "sample_rate": spec.sample_rate,
            "channels": spec.channels,
            "window": spec.window,
            "hop": spec.hop if overlap else spec.window,
            "synthesis": spec.synthesis_window if overlap else "rect",
        }
    elif kind == "image" and len(model.item_shape) != 3:
        raise ManifestError(
            f"{model.path.name}: image streams need an image model (item shape C, H, W), "
            f"this one has item shape {model.item_shape}"
        )
    tables = None if per_frame else codec_tables(codec, entropy_model)
    if entropy_model in ("context", "adaptive") and tables is None:
        raise ManifestError(
            f"{model.path.name}: manifest.codec.{entropy_model} is missing (no "
            f"{entropy_model} entropy model)"
        )
    return StreamHeader(
        fingerprint=model.fingerprint,
        kind=kind,
        item_shape=model.item_shape,
        latent_shape=model.latent_shape,
        bits=bits,
        scale=() if per_frame else tuple(codec.scale),  # type: ignore[union-attr]
        zero_point=() if per_frame else tuple(codec.zero_point),  # type: ignore[union-attr]
        entropy_digest=tables.digest if tables is not None else b"",
        entropy=tables,
        entropy_model=tables.model if tables is not None else "factorized",
        **fields,
    )


class StreamEncoder:
    """Encodes one signal into an edgeae stream, incrementally.

    ``push(samples)`` returns the bytes that are final so far (the header with
    the first call), ``flush()`` codes the zero-padded tail, the last (possibly
    partial) group of windows and the end marker. The bytes are the same whatever
    the chunking. ``overlap=True`` codes the manifest's overlapping hop (decoded by
    overlap-add); ``entropy`` deflates a fixed-width frame when that makes it
    smaller. With the model's entropy model, ``frame_windows`` windows share one
    frame (1 writes format version 2, one window per frame); ``entropy_model`` as in
    :func:`header_for_model` (by default the adaptive model, else the context model, when
    the manifest has one).
    """

    def __init__(
        self,
        encoder: Model,
        *,
        overlap: bool = False,
        entropy: bool = True,
        bits: int | None = None,
        per_frame: bool | None = None,
        frame_windows: int = FRAME_WINDOWS,
        entropy_model: str | None = None,
    ) -> None:
        self.model = encoder
        self.header = frame_size(
            header_for_model(
                encoder,
                "signal",
                overlap=overlap,
                bits=bits,
                per_frame=per_frame,
                entropy_model=entropy_model,
            ),
            frame_windows,
            "frame_windows",
        )
        self.entropy = entropy
        self.reset()

    def reset(self) -> None:
        """Start a new stream (the next output begins with a header again)."""
        h = self.header
        self._framer = SignalFramer(h.channels, h.window, h.hop, name="compress input", tail="hop")
        self._header_sent = False
        self._closed = False
        self.bytes_out = 0
        self._frames = 0
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # (latents, samples) not sent

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self._frames

    @property
    def samples(self) -> int:
        """Samples pushed so far."""
        return self._framer.samples_in

    @property
    def latency(self) -> int:
        """Samples of input buffered before a frame can be written: one window, plus a hop
        per further window of a frame (``frame_windows``)."""
        return self.header.window + (self.header.frame_items - 1) * self.header.hop

    def push(self, samples: Any) -> bytes:
        """Add samples ``(channels, n)``; return the stream bytes that are ready."""
        if self._closed:
            raise StreamError("this StreamEncoder was flushed; call reset() to start a new stream")
        return self._emit(self._encode(self._framer.push(samples), final=False))

    def flush(self) -> bytes:
        """Code the remaining samples (zero-padded to a full window) and end the stream."""
        if self._closed:
            raise StreamError("this StreamEncoder was already flushed")
        out = self._encode(self._framer.flush(), final=True) + pack_end(self.frames, self.samples)
        self._closed = True
        return self._emit(out)

    def _encode(self, batch: FrameBatch, *, final: bool) -> bytes:
        """Encode ready windows; write every full group of them (all of them when ``final``)
        as frames carrying the samples their windows start."""
        n, h = len(batch), self.header
        if n:
            z = self.model.encode(batch.frames.reshape((n, *h.item_shape)))
            self._pending.append((z, np.minimum(h.hop, self.samples - batch.starts)))
        have = sum(len(c) for _, c in self._pending)
        take = have if final else have - have % h.frame_items
        if take == 0:
            return b""
        z = np.concatenate([p[0] for p in self._pending])
        counts = np.concatenate([p[1] for p in self._pending])
        self._pending = [(z[take:], counts[take:])] if take < have else []
        parts, pos = [], 0
        for payload, flags, windows in encode_payloads(z[:take], h, entropy=self.entropy):
            samples = int(counts[pos : pos + windows].sum())
            parts.append(pack_frame(self._frames, samples, payload, flags=flags))
            pos += windows
            self._frames += 1
        return b"".join(parts)

    def _emit(self, data: bytes) -> bytes:
        if not self._header_sent:
            data = pack_header(self.header) + data
            self._header_sent = True
        self.bytes_out += len(data)
        return data


def compress(encoder: Model, samples: Any, **options: Any) -> bytes:
    """A whole signal ``(channels, n)`` -> one complete edgeae stream (see StreamEncoder)."""
    enc = StreamEncoder(encoder, **options)
    return enc.push(samples) + enc.flush()
