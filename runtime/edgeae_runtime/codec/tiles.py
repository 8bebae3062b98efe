"""One whole image of any size as one edgeae stream of the model's tiles (format version 6).

An image model codes images of one size, its item shape ``(C, h, w)``. A larger (or
smaller, or oddly sized) image is cut into ``h x w`` tiles row by row, the last row and
column padded by repeating the image's edge pixels (no dark border for the codec to pay
for); the tiles are coded as an item stream whose header also holds the image's height
and width (its *canvas*), and decoding puts the tiles back and crops the padding. A lost
frame conceals its tiles (raw zeros), nothing else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..model import Model
from .format import MAX_DECODED_VALUES
from .items import FRAME_ITEMS, decode_items, encode_items, item_header, item_kind

__all__ = [
    "ImageDecoding",
    "compress_image",
    "decode_image_stream",
    "decompress_image",
    "join_tiles",
    "split_tiles",
    "tile_grid",
]


def tile_grid(canvas: tuple[int, int], tile: tuple[int, int]) -> tuple[int, int]:
    """Rows and columns of ``tile``-size tiles that cover a ``canvas`` (height, width)."""
    return -(-canvas[0] // tile[0]), -(-canvas[1] // tile[1])


def split_tiles(image: np.ndarray, tile: tuple[int, int]) -> np.ndarray:
    """An image ``(C, H, W)`` -> its tiles ``(rows * cols, C, h, w)``, row by row, the
    last row and column padded with the image's edge values."""
    c, height, width = image.shape
    rows, cols = tile_grid((height, width), tile)
    h, w = tile
    padded = np.pad(image, ((0, 0), (0, rows * h - height), (0, cols * w - width)), mode="edge")
    tiles = padded.reshape(c, rows, h, cols, w).transpose(1, 3, 0, 2, 4)
    return np.ascontiguousarray(tiles.reshape(rows * cols, c, h, w))


def join_tiles(tiles: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """Tiles ``(rows * cols, C, h, w)`` in :func:`split_tiles` order -> the image
    ``(C, H, W)`` of size ``canvas``, padding cropped."""
    _, c, h, w = tiles.shape
    rows, cols = tile_grid(canvas, (h, w))
    image = tiles.reshape(rows, cols, c, h, w).transpose(2, 0, 3, 1, 4)
    return np.ascontiguousarray(image.reshape(c, rows * h, cols * w)[:, : canvas[0], : canvas[1]])


def compress_image(
    encoder: Model,
    image: Any,
    *,
    entropy: bool = True,
    bits: int | None = None,
    per_frame: bool | None = None,
    frame_items: int = FRAME_ITEMS,
    entropy_model: str | None = None,
) -> bytes:
    """One image ``(C, H, W)`` of any height and width, in raw units -> one edgeae stream
    of the model's tiles (``(H, W)`` for a one-channel model). Options as in
    :func:`~.items.compress_items`; ``frame_items`` tiles share an entropy-coded frame."""
    header = item_header(
        encoder,
        bits=bits,
        per_frame=per_frame,
        frame_items=frame_items,
        entropy_model=entropy_model,
    )
    if item_kind(encoder) != "image":
        raise InputError(
            f"{encoder.path.name} codes items of shape {encoder.item_shape}, not images; "
            "use compress_items",
            param="encoder",
        )
    channels, h, w = header.item_shape
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 2 and channels == 1:
        x = x[None]
    if x.ndim != 3 or x.shape[0] != channels or 0 in x.shape:
        raise InputError(
            f"expected one image of shape ({channels}, H, W), got {tuple(np.shape(image))}",
            param="image",
        )
    canvas = (int(x.shape[1]), int(x.shape[2]))
    rows, cols = tile_grid(canvas, (h, w))
    if rows * cols * channels * h * w > MAX_DECODED_VALUES:
        raise InputError(
            f"a {canvas[0]}x{canvas[1]} image is more than one stream may hold "
            f"({MAX_DECODED_VALUES} values); split it",
            param="image",
        )
    header = dataclasses.replace(header, canvas=canvas)
    return encode_items(encoder, split_tiles(x, (h, w)), header, entropy=entropy)


@dataclass(frozen=True)
class ImageDecoding:
    """The decoded image ``(C, H, W)`` and the indices of its concealed tiles (row by row)."""

    image: np.ndarray
    concealed_tiles: tuple[int, ...] = ()


def decode_image_stream(decoder: Model, data: bytes, *, conceal: bool = False) -> ImageDecoding:
    """A tiled image stream -> :class:`ImageDecoding`; strict unless ``conceal``."""
    header, tiles = decode_items(decoder, data, conceal=conceal, tiled=True)
    return ImageDecoding(join_tiles(tiles.items, header.canvas), tiles.concealed)


def decompress_image(decoder: Model, data: bytes, *, conceal: bool = False) -> np.ndarray:
    """A tiled image stream -> the image ``(C, H, W)`` in raw units."""
    return decode_image_stream(decoder, data, conceal=conceal).image
