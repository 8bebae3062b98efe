"""Models shared by the codec tests (built once per session, tiny, fixed weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae_runtime.codec import calibrate_codec
from edgeae_runtime.model import Model
from tests.runtime.onnx_models import make_triplet

from .models import (
    DIGITS_LIKE,
    entropy_image_pair,
    entropy_items_pair,
    entropy_signal_pair,
    make_image_pair,
    make_pixel_pair,
)


@pytest.fixture(scope="session")
def identity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """(encoder, decoder) whose decoder inverts the encoder exactly: window 32, hop 16, mono."""
    d = tmp_path_factory.mktemp("identity")
    _, enc, dec = make_triplet(d, kind="identity", window=32, hop=16, fingerprint="sha256:ident")
    return Model(enc), Model(dec)


@pytest.fixture(scope="session")
def stereo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """A two-channel identity pair (window 16, hop 8)."""
    d = tmp_path_factory.mktemp("stereo")
    _, enc, dec = make_triplet(d, kind="identity", channels=2, window=16, hop=8)
    return Model(enc), Model(dec)


@pytest.fixture(scope="session")
def conv1d(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """A conv1d pair whose manifest carries a calibrated CodecSpec."""
    d = tmp_path_factory.mktemp("conv1d")
    _, enc, _ = make_triplet(d, kind="conv1d", window=32, hop=16)
    x = np.random.default_rng(1).standard_normal((64, 1, 32)).astype(np.float32)
    spec = calibrate_codec(Model(enc).encode(x), bits=8)
    d2 = tmp_path_factory.mktemp("conv1d_codec")
    _, enc, dec = make_triplet(d2, kind="conv1d", window=32, hop=16, codec=spec)
    return Model(enc), Model(dec)


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """A conv2d (1, 8, 8) image pair."""
    enc, dec = make_image_pair(tmp_path_factory.mktemp("images"))
    return Model(enc), Model(dec)


@pytest.fixture(scope="session")
def other_identity(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A decoder with the same shapes as ``identity`` but another fingerprint."""
    d = tmp_path_factory.mktemp("other")
    _, _, dec = make_triplet(d, kind="identity", window=32, hop=16, fingerprint="sha256:other")
    return dec


@pytest.fixture(scope="session")
def entropy_signal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """(encoder, decoder): window 32, hop 16, mono, rANS tables in the manifest."""
    return entropy_signal_pair(tmp_path_factory.mktemp("rans_signal"))


@pytest.fixture(scope="session")
def entropy_items(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """(encoder, decoder) of dense items (16 features), rANS tables in the manifest."""
    return entropy_items_pair(tmp_path_factory.mktemp("rans_items"))


@pytest.fixture(scope="session")
def context_signal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """(encoder, decoder) as ``entropy_signal``, plus a context model (version 4 streams)."""
    return entropy_signal_pair(tmp_path_factory.mktemp("ctx_signal"), context=True)


@pytest.fixture(scope="session")
def context_items(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """(encoder, decoder) as ``entropy_items``, plus a context model (version 4 streams)."""
    return entropy_items_pair(tmp_path_factory.mktemp("ctx_items"), context=True)


@pytest.fixture(scope="session")
def adaptive_signal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """(encoder, decoder) as ``context_signal``, plus an adaptive model (version 5 streams)."""
    return entropy_signal_pair(tmp_path_factory.mktemp("ada_signal"), adaptive=True)


@pytest.fixture(scope="session")
def adaptive_items(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """(encoder, decoder) as ``context_items``, plus an adaptive model (version 5 streams)."""
    return entropy_items_pair(tmp_path_factory.mktemp("ada_items"), adaptive=True)


@pytest.fixture(scope="session")
def adaptive_images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """(encoder, decoder) of (1, 8, 8) images with factorized, context and adaptive tables."""
    return entropy_image_pair(tmp_path_factory.mktemp("ada_images"))


@pytest.fixture(scope="session")
def pixels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """The lossless RGB (3, 6, 8) pixel pair: 8-bit codes give the pixels back."""
    enc, dec = make_pixel_pair(tmp_path_factory.mktemp("pixels"), DIGITS_LIKE)
    return Model(enc), Model(dec)


@pytest.fixture(scope="session")
def any_size_images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """The ``images`` pair with spatial axes: whole images are coded as one latent map."""
    enc, dec = make_image_pair(tmp_path_factory.mktemp("any_images"), any_size=True)
    return Model(enc), Model(dec)


@pytest.fixture(scope="session")
def any_size_adaptive_images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """The ``adaptive_images`` pair with spatial axes."""
    return entropy_image_pair(tmp_path_factory.mktemp("any_ada_images"), any_size=True)


@pytest.fixture(scope="session")
def any_size_pixels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    """The lossless pixel pair with spatial axes."""
    enc, dec = make_pixel_pair(tmp_path_factory.mktemp("any_pixels"), DIGITS_LIKE, any_size=True)
    return Model(enc), Model(dec)
