"""Batches of items as one edgeae stream: one frame per item (images, feature vectors, rows).

The same format as signals, with item kind ``image`` for conv2d/dense2d models
(item shape ``(C, H, W)``) and ``items`` for any other item shape (a dense
model's feature vectors or tabular rows): the header holds the item shape,
every frame codes one item's latent and covers one "sample", and the end marker
counts the items. A lost item is returned as zeros when concealing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, StreamError
from ..model import Model
from .decoder import check_stream_model
from .encoder import header_for_model
from .format import EndOfStream, Frame, StreamHeader, pack_end, pack_frame, pack_header
from .parser import Lost, StreamParser
from .payload import decode_payload, encode_payloads

__all__ = ["ItemDecoding", "compress_items", "decode_item_stream", "decompress_items", "item_kind"]


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
) -> bytes:
    """Items ``(N, *item_shape)`` in raw units -> one edgeae stream, one frame per item."""
    header = header_for_model(encoder, item_kind(encoder), bits=bits, per_frame=per_frame)
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
    parts = [pack_header(header)]
    for i, (payload, flags) in enumerate(encode_payloads(z, header, entropy=entropy)):
        parts.append(pack_frame(i, 1, payload, flags=flags))
    parts.append(pack_end(z.shape[0], z.shape[0]))
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
    for ev in events:
        if isinstance(ev, StreamHeader):
            header = check_stream_model(ev, decoder, item_kind(decoder))
        elif header is None:
            continue
        elif isinstance(ev, Frame):
            try:
                latents.append(decode_payload(ev, header))
            except StreamError:
                if not conceal:
                    raise
                latents.append(None)
        elif isinstance(ev, Lost):
            latents.extend([None] * ev.count)
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


def decompress_items(decoder: Model, data: bytes, *, conceal: bool = False) -> np.ndarray:
    """An item (or image) stream -> items ``(N, *item_shape)`` in raw units."""
    return decode_item_stream(decoder, data, conceal=conceal).items
