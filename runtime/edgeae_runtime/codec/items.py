"""Batches of items as one edgeae stream (images, feature vectors, rows).

The same format as signals, with item kind ``image`` for conv2d/dense2d models
(item shape ``(C, H, W)``) and ``items`` for any other item shape (a dense
model's feature vectors or tabular rows): the header holds the item shape,
every frame codes one item's latent (entropy-coded: ``frame_items`` of them) and
covers that many "samples", and the end marker counts the items. A lost item is
returned as zeros when concealing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, StreamError
from ..model import Model
from .decoder import check_stream_model
from .encoder import frame_size, header_for_model
from .format import (
    MAX_DECODED_VALUES,
    EndOfStream,
    Frame,
    StreamHeader,
    pack_end,
    pack_frame,
    pack_header,
)
from .parser import LOST_PER_FRAME, Lost, StreamParser
from .payload import decode_payload, encode_payloads

__all__ = [
    "ItemDecoding",
    "compress_items",
    "decode_each",
    "decode_item_stream",
    "decode_items",
    "decode_latents",
    "decompress_items",
    "encode_items",
    "item_header",
    "item_kind",
    "pack_latents",
]


FRAME_ITEMS = 64  # items per frame of an entropy-coded stream: overhead vs what a loss costs


def item_kind(model: Model) -> str:
    """The stream kind of ``model``'s batches: ``image`` for (C, H, W) items, else ``items``."""
    return "image" if len(model.item_shape) == 3 else "items"


def compress_items(
    encoder: Model,
    items: Any,
    *,
    entropy: bool = True,
    bits: int | None = None,
    per_frame: bool | None = None,
    frame_items: int = FRAME_ITEMS,
    entropy_model: str | None = None,
) -> bytes:
    """Items ``(N, *item_shape)`` in raw units -> one edgeae stream.

    With the model's entropy model, ``frame_items`` items share one frame (a lost
    frame then conceals that many); otherwise every item has its own frame.
    ``entropy_model`` as in :func:`~.encoder.header_for_model` (by default the adaptive
    model, else the context model, when the manifest has one).
    """
    header = item_header(
        encoder,
        bits=bits,
        per_frame=per_frame,
        frame_items=frame_items,
        entropy_model=entropy_model,
    )
    x = np.asarray(items) if not isinstance(items, np.ndarray) else items
    shape = header.item_shape
    if x.ndim == len(shape) and tuple(x.shape) == shape:
        x = x[None]
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape or x.shape[0] == 0:
        raise InputError(
            f"expected items of shape (N, {', '.join(map(str, shape))}) with N >= 1, "
            f"got {tuple(x.shape)}",
            param="items",
        )
    return encode_items(encoder, x, header, entropy=entropy)


def item_header(
    encoder: Model,
    *,
    bits: int | None = None,
    per_frame: bool | None = None,
    frame_items: int = FRAME_ITEMS,
    entropy_model: str | None = None,
) -> StreamHeader:
    """The header of ``encoder``'s item (or image) streams, ``frame_items`` per frame."""
    header = header_for_model(
        encoder, item_kind(encoder), bits=bits, per_frame=per_frame, entropy_model=entropy_model
    )
    return frame_size(header, frame_items, "frame_items")


def encode_items(encoder: Model, x: np.ndarray, header: StreamHeader, *, entropy: bool) -> bytes:
    """Checked items ``(N, *item_shape)`` -> the stream: header, frames, end marker."""
    return pack_latents(encoder.encode(x), header, entropy=entropy)


def pack_latents(z: np.ndarray, header: StreamHeader, *, entropy: bool) -> bytes:
    """Latents ``(N, *latent_shape)`` -> the stream: header, frames, end marker."""
    frames = encode_payloads(z, header, entropy=entropy)
    parts = [pack_header(header)]
    for i, (payload, flags, count) in enumerate(frames):
        parts.append(pack_frame(i, count, payload, flags=flags))
    parts.append(pack_end(len(frames), z.shape[0]))
    return b"".join(parts)


@dataclass(frozen=True)
class ItemDecoding:
    """Decoded items ``(N, *item_shape)`` and the indices of those concealed (zeros)."""

    items: np.ndarray
    concealed: tuple[int, ...] = ()


def decode_item_stream(decoder: Model, data: bytes, *, conceal: bool = False) -> ItemDecoding:
    """An item (or image) stream -> :class:`ItemDecoding`; strict unless ``conceal``."""
    return decode_items(decoder, data, conceal=conceal, tiled=False)[1]


def decode_items(
    decoder: Model, data: bytes, *, conceal: bool, tiled: bool
) -> tuple[StreamHeader, ItemDecoding]:
    """The stream's header and its items, decoded one by one; ``tiled`` streams (version
    6) hold exactly the tiles of their canvas (a truncated one, concealing, ends in
    concealed tiles)."""
    header, latents = decode_latents(decoder, data, conceal=conceal, tiled=tiled)
    return header, decode_each(decoder, header, latents)


def decode_each(
    decoder: Model, header: StreamHeader, latents: list[np.ndarray | None]
) -> ItemDecoding:
    """Decode latents one item each; a concealed one (None) is raw zeros."""
    good = [z for z in latents if z is not None]
    out = np.zeros((len(latents), *header.item_shape), np.float32)
    if good:
        decoded = decoder.decode(np.stack(good))
        mask = np.array([z is not None for z in latents])
        out[mask] = decoded
    concealed = tuple(i for i, z in enumerate(latents) if z is None)
    return ItemDecoding(out, concealed)


def decode_latents(
    decoder: Model, data: bytes, *, conceal: bool, tiled: bool
) -> tuple[StreamHeader, list[np.ndarray | None]]:
    """The stream's header and its latents in order, None for each concealed one."""
    parser = StreamParser(tolerant=conceal)
    events = parser.feed(data) + parser.finish()
    header: StreamHeader | None = None
    latents: list[np.ndarray | None] = []
    n_concealed = 0  # None entries in latents
    for ev in events:
        if isinstance(ev, StreamHeader):
            header = _check_tiled(check_stream_model(ev, decoder, item_kind(decoder)), tiled)
        elif header is None:
            continue
        elif isinstance(ev, Frame):
            try:
                decoded_items = decode_payload(ev, header)
            except StreamError:
                if not conceal:
                    raise
                latents.extend([None] * ev.samples)
                n_concealed += ev.samples
                _check_concealment(len(latents) - n_concealed, n_concealed, header)
            else:
                latents.extend(decoded_items)
                _check_total(len(latents), header)
        elif isinstance(ev, Lost):
            lost = ev.count * header.frame_items
            n_concealed += lost
            _check_concealment(len(latents) - n_concealed + lost, n_concealed, header)
            latents.extend([None] * lost)
        elif isinstance(ev, EndOfStream):
            if header.canvas and ev.total != header.tiles and not conceal:
                raise StreamError(
                    f"stream ends after {ev.total} tiles, but its {header.canvas[0]}x"
                    f"{header.canvas[1]} image needs {header.tiles} (corrupted stream)"
                )
            del latents[ev.total :]
    if header is None:  # pragma: no cover - finish() raises before this
        raise StreamError("stream has no header")
    if header.canvas:  # concealing: exactly the canvas' tiles, the missing ones concealed
        del latents[header.tiles :]
        missing = header.tiles - len(latents)
        if missing:
            received = sum(z is not None for z in latents)
            _check_concealment(received, len(latents) - received + missing, header)
            latents.extend([None] * missing)
    return header, latents


def _check_tiled(header: StreamHeader, tiled: bool) -> StreamHeader:
    """Refuse a tiled image where a batch is expected, and the other way round."""
    if header.canvas and not tiled:
        raise StreamError(
            f"this stream is one {header.canvas[0]}x{header.canvas[1]} image in tiles; "
            "decode it with decompress_image"
        )
    if tiled and not header.canvas:
        raise StreamError("this stream is a batch of items; decode it with decompress_items")
    return header


#: Concealed items may add at most this many values, plus LOST_PER_FRAME times the values
#: received: a few hostile bytes cannot make the decoder allocate gigabytes of zeros.
MAX_CONCEALED_VALUES = 1 << 25


def _check_total(count: int, header: StreamHeader) -> None:
    size = math.prod(header.item_shape)
    if header.canvas and count > header.tiles:
        raise StreamError(
            f"stream holds more than the {header.tiles} tiles of its {header.canvas[0]}x"
            f"{header.canvas[1]} image (corrupted stream)"
        )
    if count * size > MAX_DECODED_VALUES:
        raise StreamError(
            f"stream decodes to more than {count} items of {size} values, over the "
            f"{MAX_DECODED_VALUES} values one batch may hold; split the batch when compressing"
        )


def _check_concealment(received: int, concealed: int, header: StreamHeader) -> None:
    size = math.prod(header.item_shape)
    budget = MAX_CONCEALED_VALUES + LOST_PER_FRAME * received * size
    if concealed * size > budget:
        raise StreamError(
            f"lost items: concealing {concealed} items of {size} values for {received} received "
            f"is more than the {budget} values that can be concealed (a broken link or a forged "
            "stream)"
        )


def decompress_items(decoder: Model, data: bytes, *, conceal: bool = False) -> np.ndarray:
    """An item (or image) stream -> items ``(N, *item_shape)`` in raw units."""
    return decode_item_stream(decoder, data, conceal=conceal).items
