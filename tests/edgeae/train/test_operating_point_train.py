"""Threshold methods at training: labelled items from an .npz, F1/Youden, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgeae.data import load_source
from edgeae.errors import ConfigError, DataError
from edgeae.train import TrainConfig, load_checkpoint, train


def _beats(tmp_path: Path, labels: bool = True) -> Path:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 40)
    x = np.sin(2 * np.pi * 2 * t)[None] * rng.uniform(0.9, 1.1, (400, 1))
    y = np.zeros(400, dtype=np.int64)
    y[rng.choice(400, 60, replace=False)] = 1  # anomalies interleaved, as in a real set
    x[y == 1] += rng.normal(scale=0.8, size=(60, 40))
    x = (x + 0.05 * rng.normal(size=x.shape)).astype(np.float32)
    path = tmp_path / "beats.npz"
    np.savez(path, x=x, **({"anomaly_labels": y} if labels else {}))
    return path


def test_npz_anomaly_labels_mark_anomalies_not_classes(tmp_path: Path) -> None:
    ds = load_source(str(_beats(tmp_path)))
    assert ds.anomaly_labels is not None and int(ds.anomaly_labels.sum()) == 60
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((4, 3)), anomaly_labels=np.array([0.5, 0, 0, 1]))
    with pytest.raises(DataError, match="anomaly_labels"):
        load_source(str(bad))


@pytest.mark.parametrize("method", ["f1", "youden", "accuracy"])
def test_labelled_methods_calibrate_on_labelled_items(tmp_path: Path, method: str) -> None:
    ds = load_source(str(_beats(tmp_path)))
    cfg = TrainConfig(epochs=3, batch_size=32, lr=1e-2, threshold_method=method)
    result = train(ds, "dense", {"hidden": (16,), "latent": 4}, cfg, tmp_path / "r", progress=False)
    spec = load_checkpoint(tmp_path / "r").anomaly
    assert spec is not None and spec.method == method
    assert spec.val_anomalies == 60 and spec.val_tpr is not None
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["threshold_method"] == method and metrics["anomaly_auroc"] > 0.9
    # training used normal items from everywhere, not only before the first anomaly
    assert "random" in result.metrics["split"]


def test_labelled_method_without_labels_fails_before_training(tmp_path: Path) -> None:
    ds = load_source(str(_beats(tmp_path, labels=False)))
    with pytest.raises(ConfigError, match="no labelled anomalies"):
        train(ds, "dense", {"latent": 4}, TrainConfig(epochs=1, threshold_method="f1"),
              tmp_path / "r", progress=False)  # fmt: skip
    assert not (tmp_path / "r").exists()
