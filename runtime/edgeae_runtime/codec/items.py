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
    EndOfStream,
    Frame,
    StreamHeader,
    pack_end,
    pack_frame,
    pack_header,
)
from .parser import LOST_PER_FRAME, Lost, StreamParser
from .payload import decode_payload, encode_payloads

__all__ = ["ItemDecoding", "compress_items", "decode_item_stream", "decompress_items", "item_kind"]


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
    header = frame_size(
        header_for_model(
            encoder,
            item_kind(encoder),
            bits=bits,
            per_frame=per_frame,
            entropy_model=entropy_model,
        ),
        frame_items,
        "frame_items",
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
    z = encoder.encode(x)
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
    parser = StreamParser(tolerant=conceal)
    events = parser.feed(data) + parser.finish()
    header: StreamHeader | None = None
    latents: list[np.ndarray | None] = []
    n_concealed = 0  # None entries in latents
    for ev in events:
        if isinstance(ev, StreamHeader):
            header = check_stream_model(ev, decoder, item_kind(decoder))
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
            del latents[ev.total :]
    if header is None:  # pragma: no cover - finish() raises before this
        raise StreamError("stream has no header")
    good = [z for z in latents if z is not None]
    out = np.zeros((len(latents), *header.item_shape), np.float32)
    if good:
        decoded = decoder.decode(np.stack(good))
        mask = np.array([z is not None for z in latents])
        out[mask] = decoded
    concealed = tuple(i for i, z in enumerate(latents) if z is None)
    return ItemDecoding(out, concealed)


#: Concealed items may add at most this many values, plus LOST_PER_FRAME times the values
#: received: a few hostile bytes cannot make the decoder allocate gigabytes of zeros.
MAX_CONCEALED_VALUES = 1 << 25


#: One item stream decodes into one array: at most this many values (512 MiB of float32),
#: whatever the compression ratio (an entropy-coded frame of zeros is a few bytes).
MAX_DECODED_VALUES = 1 << 27


def _check_total(count: int, header: StreamHeader) -> None:
    size = math.prod(header.item_shape)
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
