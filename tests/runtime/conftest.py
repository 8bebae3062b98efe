"""Models shared by the runtime tests: tiny, fixed weights, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeae_runtime import AnomalySpec, Model, Preprocessing
from tests.runtime.onnx_models import make_autoencoder, make_triplet


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding model.onnx / encoder.onnx / decoder.onnx of a conv1d model."""
    d = tmp_path_factory.mktemp("conv1d")
    make_triplet(
        d,
        kind="conv1d",
        channels=1,
        window=32,
        hop=16,
        anomaly=AnomalySpec(threshold=2.0),
        preprocessing=Preprocessing(offset=(0.1,), scale=(0.5,)),
    )
    return d


@pytest.fixture(scope="session")
def conv(model_dir: Path) -> Model:
    """The conv1d autoencoder (mono, window 32, hop 16, hann, 16 kHz, threshold 2.0)."""
    return Model(model_dir / "model.onnx")


@pytest.fixture(scope="session")
def stereo(tmp_path_factory: pytest.TempPathFactory) -> Model:
    """A two-channel conv1d autoencoder, window 16, hop 6 (hop does not divide window)."""
    path = tmp_path_factory.mktemp("stereo") / "model.onnx"
    return Model(make_autoencoder(path, kind="conv1d", channels=2, window=16, hop=6))


@pytest.fixture(scope="session")
def identity(tmp_path_factory: pytest.TempPathFactory) -> Model:
    """Reconstruction == input: denoising with it must return the signal itself."""
    path = tmp_path_factory.mktemp("identity") / "model.onnx"
    return Model(make_autoencoder(path, kind="identity", channels=1, window=32, hop=16))
