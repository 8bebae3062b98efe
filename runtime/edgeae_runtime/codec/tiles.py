"""One whole image of any size as one edgeae stream of the model's tiles (format version 6).

An image model codes images of one size, its item shape ``(C, h, w)``. A larger (or
smaller, or oddly sized) image is padded to whole tiles by repeating its edge pixels (no
dark border for the codec to pay for) and coded as the latents of ``h x w`` tiles, row by
row, in an item stream whose header also holds the image's height and width (its
*canvas*); decoding puts the tiles back and crops the padding.

A fully convolutional model exported with spatial axes (:attr:`Model.any_size`) encodes the
padded image whole, as one latent map, and decodes the map whole: no tile sees a border
that is not the image's, so no seams. Its latent map is cut into the latent tiles the
stream codes. Row bands of tiles, each with a halo of one tile row above and below, bound
the memory (BAND_VALUES). A model with fixed sizes codes every tile on its own. A lost
frame conceals its tiles (raw zeros), nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ModelError, StreamError
from ..model import Model
from .format import MAX_DECODED_VALUES, StreamHeader
from .items import (
    FRAME_ITEMS,
    decode_each,
    decode_latents,
    item_header,
    item_kind,
    pack_latents,
)

__all__ = [
    "BAND_VALUES",
    "ImageDecoding",
    "compress_image",
    "decode_image_stream",
    "decompress_image",
    "join_tiles",
    "pad_to_tiles",
    "split_tiles",
    "tile_grid",
]

#: Image values (channels x pixels) one band of a latent-map encode or decode covers,
#: halo excluded: as many whole tile rows as fit, at least one.
BAND_VALUES = 1 << 21


def tile_grid(canvas: tuple[int, int], tile: tuple[int, int]) -> tuple[int, int]:
    """Rows and columns of ``tile``-size tiles that cover a ``canvas`` (height, width)."""
    return -(-canvas[0] // tile[0]), -(-canvas[1] // tile[1])


def pad_to_tiles(image: np.ndarray, tile: tuple[int, int]) -> np.ndarray:
    """An image ``(C, H, W)`` padded at the bottom and right, with its edge values, to
    whole ``tile``-size tiles."""
    rows, cols = tile_grid(image.shape[1:], tile)
    pad = ((0, 0), (0, rows * tile[0] - image.shape[1]), (0, cols * tile[1] - image.shape[2]))
    return np.pad(image, pad, mode="edge")


def split_tiles(image: np.ndarray, tile: tuple[int, int]) -> np.ndarray:
    """An image ``(C, H, W)`` -> its tiles ``(rows * cols, C, h, w)``, row by row, the
    last row and column padded with the image's edge values."""
    c = image.shape[0]
    rows, cols = tile_grid(image.shape[1:], tile)
    h, w = tile
    tiles = pad_to_tiles(image, tile).reshape(c, rows, h, cols, w).transpose(1, 3, 0, 2, 4)
    return np.ascontiguousarray(tiles.reshape(rows * cols, c, h, w))


def join_tiles(tiles: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """Tiles ``(rows * cols, C, h, w)`` in :func:`split_tiles` order -> the image
    ``(C, H, W)`` of size ``canvas``, padding cropped."""
    _, c, h, w = tiles.shape
    rows, cols = tile_grid(canvas, (h, w))
    image = tiles.reshape(rows, cols, c, h, w).transpose(2, 0, 3, 1, 4)
    return np.ascontiguousarray(image.reshape(c, rows * h, cols * w)[:, : canvas[0], : canvas[1]])


def _banded(
    run: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    rows: int,
    band_rows: int,
) -> np.ndarray:
    """``run`` over ``x`` ``(C, rows * t, W)`` in bands of ``band_rows`` tile rows, each
    with a halo of one tile row above and below, keeping each band's own rows."""
    step = x.shape[1] // rows  # one tile row of the input
    parts = []
    for r0 in range(0, rows, band_rows):
        r1 = min(r0 + band_rows, rows)
        a, b = max(r0 - 1, 0), min(r1 + 1, rows)
        y = run(x[None, :, a * step : b * step])[0]
        out_step = y.shape[1] // (b - a)
        parts.append(y[:, (r0 - a) * out_step : (r1 - a) * out_step])
    return np.concatenate(parts, axis=1)


def _band_rows(header: StreamHeader, cols: int) -> int:
    """Tile rows per band: BAND_VALUES of the image (its channels, all its columns)."""
    return max(1, BAND_VALUES // (int(np.prod(header.item_shape)) * cols))


def compress_image(
    encoder: Model,
    image: Any,
    *,
    entropy: bool = True,
    bits: int | None = None,
    per_frame: bool | None = None,
    frame_items: int = FRAME_ITEMS,
    entropy_model: str | None = None,
    latent_map: bool | None = None,
) -> bytes:
    """One image ``(C, H, W)`` of any height and width, in raw units -> one edgeae stream
    of the model's tiles (``(H, W)`` for a one-channel model): one latent map when the
    encoder is :attr:`~Model.any_size` (``latent_map=False``: tile by tile anyway), else
    tile by tile. Options as in :func:`~.items.compress_items`; ``frame_items`` tiles
    share an entropy-coded frame."""
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
    whole = encoder.any_size if latent_map is None else latent_map
    if whole and not encoder.any_size:
        raise ModelError(
            f"{encoder.path.name} encodes only single tiles; latent_map=True needs an encoder "
            "exported with spatial axes",
        )
    header = dataclasses.replace(header, canvas=canvas, latent_map=whole)
    if not whole:
        return pack_latents(encoder.encode(split_tiles(x, (h, w))), header, entropy=entropy)
    zmap = _banded(
        lambda band: encoder.encode(band, any_size=True),
        pad_to_tiles(x, (h, w)),
        rows,
        _band_rows(header, cols),
    )
    lh, lw = header.latent_shape[1:]
    if zmap.shape[1:] != (rows * lh, cols * lw):
        raise ModelError(
            f"{encoder.path.name}: a {rows * h}x{cols * w} image gave a latent map of "
            f"{zmap.shape[1]}x{zmap.shape[2]}, not {rows * lh}x{cols * lw} (its tiles' "
            "latents side by side); the model is not fully convolutional"
        )
    return pack_latents(split_tiles(zmap, (lh, lw)), header, entropy=entropy)


@dataclass(frozen=True)
class ImageDecoding:
    """The decoded image ``(C, H, W)`` and the indices of its concealed tiles (row by row)."""

    image: np.ndarray
    concealed_tiles: tuple[int, ...] = ()


def decode_image_stream(decoder: Model, data: bytes, *, conceal: bool = False) -> ImageDecoding:
    """A tiled image stream -> :class:`ImageDecoding`; strict unless ``conceal``."""
    header, latents = decode_latents(decoder, data, conceal=conceal, tiled=True)
    if not header.latent_map:
        tiles = decode_each(decoder, header, latents)
        return ImageDecoding(join_tiles(tiles.items, header.canvas), tiles.concealed)
    if not decoder.any_size:
        raise StreamError(
            f"this stream codes its image as one latent map, and {decoder.path.name} decodes "
            "only single tiles; decode it with the decoder exported with spatial axes "
            "(edgeae export writes it for a fully convolutional model)"
        )
    h, w = header.item_shape[1:]
    rows, cols = tile_grid(header.canvas, (h, w))
    lost = [i for i, z in enumerate(latents) if z is None]
    zero = np.zeros(header.latent_shape, np.float32)
    lat = np.stack([zero if z is None else z for z in latents])
    lh, lw = header.latent_shape[1:]
    zmap = join_tiles(lat, (rows * lh, cols * lw))
    image = _banded(
        lambda band: decoder.decode(band, any_size=True), zmap, rows, _band_rows(header, cols)
    )
    if image.shape[1:] != (rows * h, cols * w):
        raise ModelError(
            f"{decoder.path.name}: a {rows * lh}x{cols * lw} latent map gave a "
            f"{image.shape[1]}x{image.shape[2]} image, not {rows * h}x{cols * w} (its tiles "
            "side by side); the model is not fully convolutional"
        )
    for i in lost:  # concealed tiles are raw zeros, as in every image stream
        r, c = divmod(i, cols)
        image[:, r * h : (r + 1) * h, c * w : (c + 1) * w] = 0.0
    return ImageDecoding(np.ascontiguousarray(image[:, : header.canvas[0], : header.canvas[1]]),
                         tuple(lost))  # fmt: skip


def decompress_image(decoder: Model, data: bytes, *, conceal: bool = False) -> np.ndarray:
    """A tiled image stream -> the image ``(C, H, W)`` in raw units."""
    return decode_image_stream(decoder, data, conceal=conceal).image
