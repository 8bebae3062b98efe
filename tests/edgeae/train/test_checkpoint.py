"""Checkpoints: weights_only loading, a faithful rebuild, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from edgeae.errors import CheckpointError
from edgeae.train import CHECKPOINT_FORMAT, TrainConfig, load_checkpoint, train
from edgeae_runtime import Preprocessing


@pytest.fixture
def run(low_rank: np.ndarray, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    train(
        low_rank,
        "dense",
        {"hidden": (8,), "latent": 3},
        TrainConfig(epochs=2, batch_size=32),
        out,
        progress=False,
        data_source="toy.npy",
    )
    return out


def test_checkpoint_loads_with_weights_only_and_rebuilds(run: Path, low_rank: np.ndarray) -> None:
    blob = torch.load(run / "checkpoint.pt", weights_only=True)
    assert blob["format"] == CHECKPOINT_FORMAT and blob["version"] == 1
    for key in (
        "arch",
        "model_config",
        "optimizer",
        "scheduler",
        "rng",
        "preprocessing",
        "data_fingerprint",
        "train_config",
        "versions",
        "best_val",
        "epoch",
    ):
        assert key in blob
    ck = load_checkpoint(run)
    assert not ck.model.training
    assert (ck.arch, ck.layout, ck.item_shape, ck.latent_shape) == ("dense", "NF", (16,), (3,))
    assert isinstance(ck.preprocessing, Preprocessing) and len(ck.preprocessing.scale) == 1
    assert ck.data_source == "toy.npy" and ck.data_fingerprint.startswith("sha256:")
    assert ck.epoch == 2 and ck.signal is None and ck.anomaly is not None
    assert load_checkpoint(run / "checkpoint.pt").model_config == ck.model_config
    with torch.no_grad():
        x = torch.from_numpy(low_rank[:4])
        torch.testing.assert_close(ck.model(x), ck.model.decode(ck.model.encode(x)))


def test_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path)


def test_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.pt").write_bytes(b"hello")
    with pytest.raises(CheckpointError, match="not a readable edgeae checkpoint"):
        load_checkpoint(tmp_path)
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an edgeae checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_wrong_version(run: Path) -> None:
    blob = torch.load(run / "checkpoint.pt", weights_only=True)
    blob["version"] = 99
    torch.save(blob, run / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(run)


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    torch.save({"format": CHECKPOINT_FORMAT, "evil": Path("x")}, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path)
