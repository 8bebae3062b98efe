"""Whole images of any size in the model's tiles (format version 6, codec/tiles.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime.codec import (
    compress_image,
    compress_items,
    decode_image_stream,
    decompress_image,
    decompress_items,
)
from edgeae_runtime.codec import tiles as tiles_module
from edgeae_runtime.codec.format import StreamHeader, pack_header, parse_header
from edgeae_runtime.codec.tiles import join_tiles, pad_to_tiles, split_tiles, tile_grid
from edgeae_runtime.errors import InputError, ModelError, StreamError


def _image(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A smooth image (what the test tables were fitted on), so few codes escape."""
    return (np.cumsum(rng.standard_normal(shape), axis=-1) * 0.2).astype(np.float32)


@given(
    st.integers(1, 4),
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(1, 9),
    st.integers(1, 9),
)
def test_tiles_put_back_give_the_image(c: int, height: int, width: int, th: int, tw: int) -> None:
    image = np.arange(c * height * width, dtype=np.float32).reshape(c, height, width)
    tiles = split_tiles(image, (th, tw))
    rows, cols = tile_grid((height, width), (th, tw))
    assert tiles.shape == (rows * cols, c, th, tw)
    assert rows * th >= height > (rows - 1) * th and cols * tw >= width > (cols - 1) * tw
    np.testing.assert_array_equal(join_tiles(tiles, (height, width)), image)
    # Row by row, the padding repeats the image's last row and column.
    last = tiles.reshape(rows, cols, c, th, tw)[-1, -1]
    np.testing.assert_array_equal(last[:, -1, -1], image[:, -1, -1])


@pytest.mark.parametrize("size", [(8, 8), (1, 1), (13, 21), (16, 40), (9, 8)])
def test_a_tiled_image_decodes_as_its_tiles_would(images, size: tuple[int, int]) -> None:
    enc, dec = images
    image = np.random.default_rng(sum(size)).random((1, *size)).astype(np.float32)
    data = compress_image(enc, image)
    header, _ = parse_header(data)
    assert header.version == 6 and header.canvas == size and header.item_shape == (1, 8, 8)
    got = decompress_image(dec, data)
    batch = compress_items(enc, split_tiles(image, (8, 8)))
    expected = join_tiles(decompress_items(dec, batch), size)
    assert got.shape == (1, *size)
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("model", ["factorized", "context", "adaptive"])
@pytest.mark.parametrize("frame_items", [1, 5, 64])
def test_every_entropy_model_codes_tiles(adaptive_images, model: str, frame_items: int) -> None:
    enc, dec = adaptive_images
    image = _image(np.random.default_rng(3), (1, 30, 45))
    data = compress_image(enc, image, entropy_model=model, frame_items=frame_items)
    header, _ = parse_header(data)
    assert (header.version, header.entropy_model, header.tiles) == (6, model, 24)
    reference = decompress_image(dec, compress_image(enc, image, per_frame=True, bits=16))
    np.testing.assert_allclose(decompress_image(dec, data), reference, atol=0.2)


def test_a_one_channel_model_takes_a_2d_image(images) -> None:
    enc, dec = images
    image = np.random.default_rng(0).random((11, 19)).astype(np.float32)
    assert decompress_image(dec, compress_image(enc, image)).shape == (1, 11, 19)


def test_bad_images_are_named(images, entropy_items) -> None:
    enc, _ = images
    for bad in (np.zeros((2, 9, 9)), np.zeros((1, 0, 9)), np.zeros((4, 1, 9, 9)), np.zeros(5)):
        with pytest.raises(InputError, match="expected one image of shape"):
            compress_image(enc, bad)
    with pytest.raises(InputError, match="not images; use compress_items"):
        compress_image(entropy_items[0], np.zeros((1, 9, 9)))


def test_a_batch_and_a_tiled_image_are_not_mistaken(images) -> None:
    enc, dec = images
    tiled = compress_image(enc, np.zeros((1, 12, 12), np.float32))
    batch = compress_items(enc, np.zeros((3, 1, 8, 8), np.float32))
    with pytest.raises(StreamError, match="one 12x12 image in tiles; decode it with decompress"):
        decompress_items(dec, tiled)
    with pytest.raises(StreamError, match="a batch of items; decode it with decompress_items"):
        decompress_image(dec, batch)


def test_a_truncated_stream_is_refused_or_concealed_tile_by_tile(adaptive_images) -> None:
    enc, dec = adaptive_images
    image = _image(np.random.default_rng(4), (1, 24, 32))  # 3 x 4 tiles
    data = compress_image(enc, image, frame_items=4)  # 3 frames of 4 tiles (one row each)
    whole = decompress_image(dec, data)
    cut = data[: len(data) - 40]  # the last frame and the end marker gone
    with pytest.raises(StreamError):
        decompress_image(dec, cut)
    result = decode_image_stream(dec, cut, conceal=True)
    assert result.concealed_tiles == (8, 9, 10, 11)
    np.testing.assert_array_equal(result.image[:, :16], whole[:, :16])
    assert not result.image[:, 16:].any()  # concealed tiles are raw zeros


def test_an_end_marker_that_lies_about_the_tiles_is_refused(images) -> None:
    enc, dec = images
    data = compress_image(enc, np.zeros((1, 16, 16), np.float32))  # 4 tiles, 4 frames
    header, end = parse_header(data)
    fewer = pack_header(dataclasses.replace(header, canvas=(8, 16))) + data[end:]
    with pytest.raises(StreamError, match="more than the 2 tiles of its 8x16 image"):
        decompress_image(dec, fewer)
    more = pack_header(dataclasses.replace(header, canvas=(24, 16))) + data[end:]
    with pytest.raises(StreamError, match="ends after 4 tiles, but its 24x16 image needs 6"):
        decompress_image(dec, more)
    assert len(decode_image_stream(dec, more, conceal=True).concealed_tiles) == 2


def test_version_6_header_round_trips_and_is_checked() -> None:
    base = StreamHeader(
        fingerprint="f", kind="image", item_shape=(3, 8, 8), latent_shape=(4, 2, 2)
    )
    header = dataclasses.replace(base, canvas=(480, 641))
    data = pack_header(header)
    assert data[4] == 6 and header.tiles == 60 * 81
    assert parse_header(data)[0] == header
    assert parse_header(pack_header(base))[0].version == 1  # no canvas: as before
    whole = dataclasses.replace(header, latent_map=True)
    assert parse_header(pack_header(whole))[0] == whole and pack_header(whole) != data
    with pytest.raises(StreamError, match="latent map"):
        dataclasses.replace(base, latent_map=True)
    with pytest.raises(StreamError, match="canvas"):
        dataclasses.replace(base, kind="items", canvas=(9, 9))
    with pytest.raises(StreamError, match=r"canvas .* absurd"):
        dataclasses.replace(base, canvas=(0, 9))
    with pytest.raises(StreamError, match=r"canvas .* absurdly large"):
        dataclasses.replace(base, canvas=(1 << 20, 1 << 20))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 3, 64]))
def test_any_size_round_trips_through_the_lossless_codec(
    pixels, height: int, width: int, frame_items: int
) -> None:
    enc, dec = pixels  # space-to-depth: the codes are the pixels
    image = np.random.default_rng(height * 41 + width).integers(0, 17, (3, height, width))
    data = compress_image(enc, image.astype(np.float32), per_frame=True, frame_items=frame_items)
    np.testing.assert_allclose(decompress_image(dec, data), image, atol=16 / 255 / 2 + 1e-5)


# -- one latent map: a fully convolutional model with spatial axes -------------------------
@pytest.mark.parametrize("size", [(8, 8), (13, 21), (40, 17)])
def test_a_latent_map_is_the_whole_padded_image_through_the_graphs(
    any_size_images, size: tuple[int, int]
) -> None:
    enc, dec = any_size_images
    image = np.random.default_rng(sum(size)).random((1, *size)).astype(np.float32)
    data = compress_image(enc, image, per_frame=True, bits=16)
    header, _ = parse_header(data)
    assert header.latent_map and header.canvas == size
    padded = pad_to_tiles(image, (8, 8))[None]
    expected = dec.decode(enc.encode(padded, any_size=True), any_size=True)[0]
    np.testing.assert_allclose(
        decompress_image(dec, data), expected[:, : size[0], : size[1]], atol=2e-3
    )


def test_bands_give_the_whole_map(any_size_adaptive_images, monkeypatch) -> None:
    enc, dec = any_size_adaptive_images
    image = _image(np.random.default_rng(5), (1, 45, 30))  # 6 x 4 tiles
    whole = compress_image(enc, image)
    monkeypatch.setattr(tiles_module, "BAND_VALUES", 4 * 64)  # one tile row of 4 per band
    assert compress_image(enc, image) == whole  # a tile's receptive field is inside it
    banded = decompress_image(dec, whole)
    monkeypatch.undo()
    np.testing.assert_allclose(banded, decompress_image(dec, whole), atol=1e-6)


def test_a_fixed_size_model_codes_tile_by_tile(images, any_size_images) -> None:
    enc, dec = images
    image = np.random.default_rng(1).random((1, 12, 20)).astype(np.float32)
    assert not parse_header(compress_image(enc, image))[0].latent_map
    with pytest.raises(ModelError, match="latent_map=True needs an encoder"):
        compress_image(enc, image, latent_map=True)
    any_enc, any_dec = any_size_images
    forced = compress_image(any_enc, image, latent_map=False)
    assert not parse_header(forced)[0].latent_map
    np.testing.assert_allclose(decompress_image(any_dec, forced), decompress_image(dec, forced))
    with pytest.raises(StreamError, match=r"one latent map, and decoder\.onnx decodes only"):
        decompress_image(dec, compress_image(any_enc, image))


def test_a_lost_frame_of_a_latent_map_conceals_its_tiles(any_size_adaptive_images) -> None:
    enc, dec = any_size_adaptive_images
    image = _image(np.random.default_rng(4), (1, 24, 32))  # 3 x 4 tiles, a row per frame
    data = compress_image(enc, image, frame_items=4)
    whole = decompress_image(dec, data)
    result = decode_image_stream(dec, data[: len(data) - 40], conceal=True)
    assert result.concealed_tiles == (8, 9, 10, 11)
    assert not result.image[:, 16:].any()
    np.testing.assert_allclose(result.image[:, :16], whole[:, :16], atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30))
def test_a_lossless_latent_map_gives_any_image_back(
    any_size_pixels, height: int, width: int
) -> None:
    enc, dec = any_size_pixels
    image = np.random.default_rng(height * 31 + width).integers(0, 17, (3, height, width))
    data = compress_image(enc, image.astype(np.float32), per_frame=True)
    assert parse_header(data)[0].latent_map
    np.testing.assert_allclose(decompress_image(dec, data), image, atol=16 / 255 / 2 + 1e-5)
