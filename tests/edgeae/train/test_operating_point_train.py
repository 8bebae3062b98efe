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


@pytest.mark.slow
def test_far_calibration_counts_the_overlapping_windows(tmp_path: Path) -> None:
    """A signal's windows overlap (hop 128 of 256): the trainer's false-alarm threshold is
    the law on its held-out windows counted hop / window independent, the same count the
    manifest gives the int8 recalibration and the stream (item_independence)."""
    import torch

    from edgeae.train.prepare import prepare
    from edgeae_runtime.metrics import per_item_error
    from edgeae_runtime.scores import calibrate_anomaly, item_independence

    ds = load_source("builtin:sensor?seconds=20&channels=1")
    cfg = TrainConfig(epochs=1, batch_size=16, threshold_method="far", target_far=0.001)
    train(ds, "conv1d", {"hidden": (8,), "latent": 2}, cfg, tmp_path / "r", progress=False)
    ck = load_checkpoint(tmp_path / "r")
    assert ck.signal is not None and (ck.signal.window, ck.signal.hop) == (256, 128)
    data = prepare(ds, cfg)
    with torch.no_grad():
        errors = per_item_error(data.val_x.numpy(), ck.model(data.val_x).numpy(), "mse")
    assert item_independence(ck) == 0.5  # the checkpoint carries the manifest's framing
    want = calibrate_anomaly(errors, method="far", target_far=0.001, independent=0.5)
    plain = calibrate_anomaly(errors, method="far", target_far=0.001)
    assert ck.anomaly is not None
    assert ck.anomaly.threshold == pytest.approx(want.threshold, rel=1e-5)
    assert want.threshold >= plain.threshold


@pytest.mark.slow
def test_flat_windows_of_a_dense_model_count_as_overlapping(tmp_path: Path) -> None:
    """A dense model on flat (NF) windows of a signal, 256 every 128: the manifest records
    the windows (no signal section holds NF items), so the trainer's false-alarm threshold
    and the exported model's share (int8 recalibration, streams) count hop / window."""
    import torch

    from edgeae.train.prepare import prepare
    from edgeae_export import export_autoencoder
    from edgeae_runtime import Model
    from edgeae_runtime.manifest import WindowSpec
    from edgeae_runtime.metrics import per_item_error
    from edgeae_runtime.scores import calibrate_anomaly, item_independence

    ds = load_source("builtin:sensor?seconds=20&channels=1", layout="NF")
    assert ds.layout == "NF" and ds.item_shape == (256,)
    cfg = TrainConfig(epochs=1, batch_size=16, threshold_method="far", target_far=0.001)
    train(ds, "dense", {"latent": 4}, cfg, tmp_path / "r", progress=False)
    ck = load_checkpoint(tmp_path / "r")
    assert ck.signal is None and ck.windows == WindowSpec(window=256, hop=128)
    data = prepare(ds, cfg)
    with torch.no_grad():
        errors = per_item_error(data.val_x.numpy(), ck.model(data.val_x).numpy(), "mse")
    want = calibrate_anomaly(errors, method="far", target_far=0.001, independent=0.5)
    assert ck.anomaly is not None
    assert ck.anomaly.threshold == pytest.approx(want.threshold, rel=1e-5)
    result = export_autoencoder(ck.model, out_dir=tmp_path / "m", example_inputs=data.val_x.numpy(),
                                info=ck.export_info())  # fmt: skip
    manifest = Model(result.file("autoencoder").path).manifest
    assert manifest.windows == ck.windows and manifest.schema_version == 6
    assert item_independence(manifest) == 0.5


@pytest.mark.parametrize("labelled", [False, True])
def test_the_zero_padded_last_window_is_never_calibrated_on_or_scored(labelled: bool) -> None:
    """A recording whose length is not a whole number of hops ends in a window partly
    past its end (zero-padded to cover every sample): trained on, but not data to set a
    threshold with or score (builtin:sensor's scored 1.04 against at most 0.20)."""
    from edgeae.data.assemble import signal_dataset
    from edgeae.train.prepare import prepare

    t = np.arange(5000)
    signal = (2.0 + np.sin(t / 7.0))[None].astype(np.float32)  # never 0: zeros are padding
    labels = np.zeros(t.size, dtype=np.int64)
    labels[4000:4300] = 1
    ds = signal_dataset("rec", signal, options={}, window=64, hop=32,
                        sample_labels=labels if labelled else None)  # fmt: skip
    assert (len(ds) - 1) * 32 + 64 > t.size  # it ends in a padded window
    assert (np.asarray(ds.x[-1]) == 0).any()
    data = prepare(ds, TrainConfig(epochs=1, batch_size=8))
    assert data.val_raw_input.shape[0] >= 1 and (data.val_raw_input != 0).all()
    if labelled:  # scored: the same windows as on the recording cut after its last whole one
        end = ((t.size - 64) // 32) * 32 + 64
        cut = signal_dataset("rec", signal[:, :end], options={}, window=64, hop=32,
                             sample_labels=labels[:end])  # fmt: skip
        assert len(cut) == len(ds) - 1
        whole = prepare(cut, TrainConfig(epochs=1, batch_size=8))
        assert data.anomaly_x is not None and whole.anomaly_x is not None
        np.testing.assert_array_equal(data.anomaly_labels, whole.anomaly_labels)
        assert data.anomaly_x.shape == whole.anomaly_x.shape
