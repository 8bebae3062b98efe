"""Item batches as one stream (one frame per item): conv2d images and dense feature vectors."""

from __future__ import annotations

import numpy as np
import pytest

from edgeae_runtime import Model
from edgeae_runtime.codec import compress_items, decode_item_stream, decompress_items
from edgeae_runtime.errors import InputError, StreamError

from ..onnx_models import make_triplet


def batch(n: int = 5) -> np.ndarray:
    return np.random.default_rng(3).random((n, 1, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("per_frame", [True, None])
def test_images_round_trip_close_to_the_model(images, per_frame) -> None:
    enc, dec = images
    x = batch()
    if per_frame is None:
        per_frame = True  # the test model has no codec section: per-frame is the only choice
    y = decompress_items(dec, compress_items(enc, x, per_frame=per_frame))
    reference = dec.decode(enc.encode(x))
    assert y.shape == x.shape
    assert np.abs(y - reference).max() < 0.02 * max(1.0, np.abs(reference).max())


def test_lost_image_is_concealed_as_zeros(images) -> None:
    enc, dec = images
    data = bytearray(compress_items(enc, batch(), entropy=False))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(StreamError, match="CRC32 mismatch"):
        decompress_items(dec, bytes(data))
    result = decode_item_stream(dec, bytes(data), conceal=True)
    assert result.items.shape == (5, 1, 8, 8)
    assert len(result.concealed) == 1
    assert not result.items[result.concealed[0]].any()


def test_signal_decoder_refuses_an_image_stream(images, identity) -> None:
    enc, _ = images
    from edgeae_runtime.codec import decompress

    with pytest.raises(StreamError):
        decompress(identity[1], compress_items(enc, batch()))


def test_wrong_image_shape(images) -> None:
    enc, _ = images
    with pytest.raises(InputError):
        compress_items(enc, np.zeros((2, 1, 4, 4), np.float32))


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """A dense pair: feature vectors (12,), latent (4,), no signal spec."""
    _, enc, dec = make_triplet(
        tmp_path_factory.mktemp("dense"), kind="dense", features=12, latent=4
    )
    return Model(enc), Model(dec)


def test_dense_items_round_trip_as_an_items_stream(dense) -> None:
    enc, dec = dense
    x = np.random.default_rng(0).normal(size=(7, 12)).astype(np.float32)
    data = compress_items(enc, x, per_frame=True)
    assert data[4] == 2  # kind "items" is new in format version 2
    y = decompress_items(dec, data)
    reference = dec.decode(enc.encode(x))
    assert y.shape == x.shape
    assert np.abs(y - reference).max() < 0.02 * max(1.0, np.abs(reference).max())
    with pytest.raises(InputError, match=r"\(N, 12\)"):
        compress_items(enc, x[:, :5], per_frame=True)


def test_a_forged_frame_scale_that_overflows_is_a_stream_error(images) -> None:
    """A CRC-valid frame whose per-frame step overflows float32: an error naming the frame
    (concealed when concealing), never a RuntimeWarning and never Inf in the output."""
    import struct

    from edgeae_runtime.codec.format import parse_header

    from .mutations import reseal

    enc, dec = images
    x = np.random.default_rng(0).random((3, 1, 8, 8)).astype(np.float32)
    data = bytearray(compress_items(enc, x, entropy=False))  # raw per-frame payloads
    start = parse_header(bytes(data))[1]
    struct.pack_into("<ff", data, start + 15, 0.0, 3e38)  # frame 0: low 0, step 3e38
    forged = reseal(bytes(data), start)
    with pytest.raises(StreamError, match=r"frame 0 at byte .*non-finite"):
        decompress_items(dec, forged)
    result = decode_item_stream(dec, forged, conceal=True)
    assert result.concealed == (0,) and np.isfinite(result.items).all()
