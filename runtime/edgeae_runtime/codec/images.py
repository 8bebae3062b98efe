"""Batches of images as one edgeae stream: one frame per image (conv2d models).

The same format as signals, with item kind ``image``: the header holds the
image shape ``(C, H, W)``, every frame codes one image's latent and covers one
"sample", and the end marker counts the images. A lost image is returned as
zeros when concealing.
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

__all__ = ["ImageDecoding", "compress_images", "decode_image_stream", "decompress_images"]


def compress_images(
    encoder: Model,
    images: Any,
    *,
    entropy: bool = True,
    bits: int | None = None,
    per_frame: bool | None = None,
) -> bytes:
    """Images ``(N, C, H, W)`` in raw units -> one edgeae stream, one frame per image."""
    header = header_for_model(encoder, "image", bits=bits, per_frame=per_frame)
    x = np.asarray(images) if not isinstance(images, np.ndarray) else images
    if x.ndim == 3 and tuple(x.shape) == header.item_shape:
        x = x[None]
    shape = header.item_shape
    if x.ndim != 4 or x.shape[0] == 0:
        raise InputError(
            f"compress_images: expected images of shape (N, {', '.join(map(str, shape))}) "
            f"with N >= 1, got {tuple(x.shape)}"
        )
    z = encoder.encode(x)
    parts = [pack_header(header)]
    for i, (payload, flags) in enumerate(encode_payloads(z, header, entropy=entropy)):
        parts.append(pack_frame(i, 1, payload, flags=flags))
    parts.append(pack_end(z.shape[0], z.shape[0]))
    return b"".join(parts)


@dataclass(frozen=True)
class ImageDecoding:
    """Decoded images ``(N, C, H, W)`` and the indices of those concealed (zeros)."""

    images: np.ndarray
    concealed: tuple[int, ...] = ()


def decode_image_stream(decoder: Model, data: bytes, *, conceal: bool = False) -> ImageDecoding:
    """An image stream -> :class:`ImageDecoding`; strict unless ``conceal``."""
    parser = StreamParser(tolerant=conceal)
    events = parser.feed(data) + parser.finish()
    header: StreamHeader | None = None
    latents: list[np.ndarray | None] = []
    for ev in events:
        if isinstance(ev, StreamHeader):
            header = check_stream_model(ev, decoder, "image")
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
    return ImageDecoding(out, concealed)


def decompress_images(decoder: Model, data: bytes, *, conceal: bool = False) -> np.ndarray:
    """An image stream -> images ``(N, C, H, W)`` in raw units."""
    return decode_image_stream(decoder, data, conceal=conceal).images
