"""Fixtures of the adversarial suite: one good model triplet, and garbage built from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae_runtime import AnomalySpec, CodecSpec, Model
from edgeae_runtime.audio import write_wav
from edgeae_runtime.codec import StreamEncoder
from tests.adversarial.garbage import bad_data, bad_models, bad_streams
from tests.runtime.onnx_models import make_triplet


@pytest.fixture(scope="session")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A conv1d signal model (mono, window 32, hop 16, codec, anomaly), a WAV and its stream."""
    d = tmp_path_factory.mktemp("adv_good")
    model, encoder, decoder = make_triplet(
        d,
        kind="conv1d",
        channels=1,
        window=32,
        hop=16,
        anomaly=AnomalySpec(threshold=2.0),
        codec=CodecSpec(bits=8, scale=(0.05,), zero_point=(0,)),
    )
    x = (np.random.default_rng(0).standard_normal(800) * 0.2).astype(np.float32)
    write_wav(d / "in.wav", x, 16000)
    np.save(d / "items.npy", x[: 32 * 10].reshape(10, 1, 32))
    enc = StreamEncoder(Model(encoder))
    (d / "in.eae").write_bytes(enc.push(x[None]) + enc.flush())
    return {
        "model": model,
        "encoder": encoder,
        "decoder": decoder,
        "wav": d / "in.wav",
        "items": d / "items.npy",
        "stream": d / "in.eae",
    }


@pytest.fixture(scope="session")
def models(good: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bad models by name (random, truncated, foreign ONNX, ``lie_<field>`` manifests)."""
    return bad_models(tmp_path_factory.mktemp("adv_models"), good["model"])


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bad data files by name (see :func:`tests.adversarial.garbage.bad_data`)."""
    return bad_data(tmp_path_factory.mktemp("adv_data"))


@pytest.fixture(scope="session")
def streams(good: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bad stream files by name, made from the good stream."""
    d = tmp_path_factory.mktemp("adv_streams")
    out = {}
    for name, blob in bad_streams(good["stream"].read_bytes()).items():
        out[name] = d / f"{name}.eae"
        out[name].write_bytes(blob)
    return out
