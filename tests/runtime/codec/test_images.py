"""Image batches as one stream (one frame per image) for a conv2d model."""

from __future__ import annotations

import numpy as np
import pytest

from edgeae_runtime.codec import compress_images, decode_image_stream, decompress_images
from edgeae_runtime.errors import InputError, StreamError


def batch(n: int = 5) -> np.ndarray:
    return np.random.default_rng(3).random((n, 1, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("per_frame", [True, None])
def test_images_round_trip_close_to_the_model(images, per_frame) -> None:
    enc, dec = images
    x = batch()
    if per_frame is None:
        per_frame = True  # the test model has no codec section: per-frame is the only choice
    y = decompress_images(dec, compress_images(enc, x, per_frame=per_frame))
    reference = dec.decode(enc.encode(x))
    assert y.shape == x.shape
    assert np.abs(y - reference).max() < 0.02 * max(1.0, np.abs(reference).max())


def test_lost_image_is_concealed_as_zeros(images) -> None:
    enc, dec = images
    data = bytearray(compress_images(enc, batch(), entropy=False))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(StreamError, match="CRC32 mismatch"):
        decompress_images(dec, bytes(data))
    result = decode_image_stream(dec, bytes(data), conceal=True)
    assert result.images.shape == (5, 1, 8, 8)
    assert len(result.concealed) == 1
    assert not result.images[result.concealed[0]].any()


def test_signal_decoder_refuses_an_image_stream(images, identity) -> None:
    enc, _ = images
    from edgeae_runtime.codec import decompress

    with pytest.raises(StreamError):
        decompress(identity[1], compress_images(enc, batch()))


def test_wrong_image_shape(images) -> None:
    enc, _ = images
    with pytest.raises(InputError):
        compress_images(enc, np.zeros((2, 1, 4, 4), np.float32))
