"""The trainer through its public API: learning, seeds, resume, early stopping, calibration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from edgeae.data.dataset import Dataset, fingerprint
from edgeae.errors import ConfigError, DataError, TrainError
from edgeae.train import EpochStats, TrainConfig, load_checkpoint, train
from edgeae.train.prepare import prepare
from edgeae.train.trainer import PHASES
from edgeae_runtime.metrics import per_item_error
from edgeae_runtime.scores import calibrate_anomaly

SMALL = {"hidden": (8,), "latent": 3}


def _weights(run: Path) -> dict[str, torch.Tensor]:
    blob = torch.load(run / "checkpoint.pt", weights_only=True)
    return {**blob["state_dict"], **{"best." + k: v for k, v in blob["best_state_dict"].items()}}


def test_loss_decreases_and_run_dir_is_complete(low_rank: np.ndarray, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = train(
        low_rank, "dense", SMALL, TrainConfig(epochs=6, batch_size=16, lr=1e-2), run, progress=False
    )
    losses = [e["val_loss"] for e in result.metrics["epochs"]]
    assert losses[-1] < 0.5 * losses[0]
    assert {p.name for p in run.iterdir()} == {
        "checkpoint.pt",
        "config.json",
        "metrics.json",
        "loss.png",
    }
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs_run"] == 6 and metrics["val_psnr_db"] > 20
    assert metrics["samples_per_s"] > 0 and metrics["threshold"] > 0
    phases = metrics["phase_seconds"]  # where the run's time went, part by part
    assert set(phases) == set(PHASES) and all(v >= 0 for v in phases.values())
    assert 0 < phases["steps"] <= sum(e["seconds"] for e in metrics["epochs"])
    assert not list(tmp_path.glob("*.partial-*"))


def test_seeded_runs_are_identical_and_seeds_matter(low_rank: np.ndarray, tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=2, batch_size=32, noise="gaussian", seed=3)
    for name in ("a", "b"):
        train(low_rank, "dense", SMALL, cfg, tmp_path / name, progress=False)
    train(
        low_rank,
        "dense",
        SMALL,
        TrainConfig(epochs=2, batch_size=32, noise="gaussian", seed=4),
        tmp_path / "c",
        progress=False,
    )
    a, b, c = (_weights(tmp_path / n) for n in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_resume_after_interrupt_gives_identical_weights(
    low_rank: np.ndarray, tmp_path: Path
) -> None:
    cfg = TrainConfig(epochs=4, batch_size=32, noise="masking", noise_level=0.2, patience=0)
    train(low_rank, "dense", SMALL, cfg, tmp_path / "full", progress=False)

    def kill_after_two(stats: EpochStats) -> None:
        if stats.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(
            low_rank,
            "dense",
            SMALL,
            cfg,
            tmp_path / "cut",
            progress=False,
            on_epoch_end=kill_after_two,
        )
    assert torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)["epoch"] == 2
    resumed = train(low_rank, "dense", SMALL, cfg, tmp_path / "cut", resume=True, progress=False)
    assert resumed.epochs_run == 4 and len(resumed.metrics["epochs"]) == 4
    full, cut = _weights(tmp_path / "full"), _weights(tmp_path / "cut")
    assert all(torch.equal(full[k], cut[k]) for k in full)


def test_resume_refuses_other_data(low_rank: np.ndarray, tmp_path: Path) -> None:
    train(
        low_rank,
        "dense",
        SMALL,
        TrainConfig(epochs=1, batch_size=32),
        tmp_path / "r",
        progress=False,
    )
    from edgeae.errors import CheckpointError

    with pytest.raises(CheckpointError, match="other data"):
        train(low_rank * 2, None, None, TrainConfig(), tmp_path / "r", resume=True, progress=False)


def test_early_stopping_triggers(low_rank: np.ndarray, tmp_path: Path) -> None:
    # A learning rate this small cannot improve the validation loss by float32 noise forever:
    # with a constant schedule and patience 1 the run must stop well before 50 epochs.
    cfg = TrainConfig(
        epochs=50, batch_size=32, lr=1e-2, schedule="step", step_size=1, gamma=0.01, patience=1
    )
    result = train(low_rank, "dense", SMALL, cfg, tmp_path / "r", progress=False)
    assert result.stopped_early and result.epochs_run < 50
    assert result.best_epoch == result.epochs_run - 1


def test_corruption_touches_inputs_only(
    low_rank: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, list[torch.Tensor]] = {"out": [], "target": []}
    import edgeae.train.trainer as trainer_module

    real = trainer_module.get_loss

    def spy(name: str):
        fn = real(name)

        def loss(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            seen["target"].append(target.detach().clone())
            seen["out"].append(out.detach().clone())
            return fn(out, target)

        return loss

    monkeypatch.setattr(trainer_module, "get_loss", spy)
    train(
        low_rank,
        "dense",
        SMALL,
        TrainConfig(epochs=1, batch_size=400 - 40, noise="saltpepper", noise_level=0.5),
        tmp_path / "r",
        progress=False,
    )
    ck = load_checkpoint(tmp_path / "r")
    from edgeae_runtime.preprocess import normalize

    clean = torch.from_numpy(normalize(low_rank, ck.preprocessing))
    train_target = seen["target"][0]
    # every training target is a clean item (one of the rows of the normalized data)
    dists = torch.cdist(train_target, clean, compute_mode="donot_use_mm_for_euclid_dist")
    assert float(dists.min(dim=1).values.max()) < 1e-5


def test_paired_targets_are_used(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    clean = np.repeat(rng.normal(size=(1, 16)), 300, axis=0).astype(np.float32)
    noisy = clean + rng.normal(scale=0.5, size=clean.shape).astype(np.float32)
    result = train(
        (noisy, clean),
        "dense",
        SMALL,
        TrainConfig(epochs=15, batch_size=32),
        tmp_path / "r",
        progress=False,
    )
    assert result.metrics["val_snr_gain_db"] > 3


def test_threshold_is_calibrated_on_normal_items_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n, w = 240, 16
    normal = np.sin(np.linspace(0, 40, n * w)).reshape(n, 1, w)
    x = (normal + 0.01 * rng.normal(size=normal.shape)).astype(np.float32)
    labels = np.zeros(n, dtype=np.int64)
    x[200:] += rng.normal(scale=3.0, size=x[200:].shape).astype(np.float32)
    labels[200:] = 1
    ds = Dataset(
        name="toy",
        x=x,
        layout="NCW",
        fingerprint=fingerprint([x], {}),
        labels=labels,
        sample_labels=np.repeat(labels, w),
    )
    cfg = TrainConfig(epochs=8, batch_size=16, threshold_percentile=95)
    result = train(
        ds, "conv1d", {"hidden": (8, 8), "latent": 2}, cfg, tmp_path / "r", progress=False
    )
    ck = load_checkpoint(tmp_path / "r")
    assert ck.anomaly is not None and ck.anomaly.percentile == 95
    assert "held-out normal" in ck.anomaly.calibrated_on
    assert result.metrics["anomaly_auroc"] > 0.9
    assert "normal items only" in result.metrics["split"]
    assert (ck.anomaly.tails, ck.anomaly.center) == ("upper", 0.0)


def test_two_sided_calibration_is_stored_in_the_checkpoint(tmp_path: Path) -> None:
    """tails="both": center and threshold are the runtime's calibration of the val errors."""
    rng = np.random.default_rng(3)
    n, w = 240, 16
    x = np.sin(np.linspace(0, 40, n * w)).reshape(n, 1, w) + 0.3 * rng.normal(size=(n, 1, w))
    x = x.astype(np.float32)
    labels = np.zeros(n, dtype=np.int64)
    x[200:] = 0.0  # a dead sensor: easier to reconstruct than normal noisy windows
    labels[200:] = 1
    ds = Dataset(
        name="toy",
        x=x,
        layout="NCW",
        fingerprint=fingerprint([x], {}),
        labels=labels,
        sample_labels=np.repeat(labels, w),
    )
    cfg = TrainConfig(epochs=4, batch_size=16, tails="both")
    result = train(
        ds, "conv1d", {"hidden": (8, 8), "latent": 2}, cfg, tmp_path / "r", progress=False
    )
    ck = load_checkpoint(tmp_path / "r")
    prep = prepare(ds, cfg)
    with torch.no_grad():
        errors = per_item_error(prep.val_x.numpy(), ck.model(prep.val_x).numpy())
    expected = calibrate_anomaly(errors, cfg.threshold_percentile, "both", "mse")
    assert ck.anomaly is not None and ck.anomaly.tails == "both"
    assert ck.anomaly.center == pytest.approx(expected.center, abs=1e-4)
    assert ck.anomaly.threshold == pytest.approx(expected.threshold, rel=1e-3, abs=1e-4)
    assert result.metrics["anomaly_tails"] == "both"
    assert result.metrics["anomaly_center"] == ck.anomaly.center
    assert result.metrics["anomaly_auroc"] > 0.9  # the dead windows score high


def test_nan_loss_raises_train_error(low_rank: np.ndarray, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match="loss became"):
        train(
            low_rank * 1e20,
            "dense",
            SMALL,
            TrainConfig(epochs=2, batch_size=32, lr=1e30),
            tmp_path / "r",
            progress=False,
        )
    assert not (tmp_path / "r").exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("data", "arch", "config", "error", "match"),
    [
        (np.full((50, 4), np.nan, np.float32), None, {}, DataError, "NaN"),
        (np.ones((50, 4), np.float32), None, {"batch_size": 64}, DataError, "fewer than one batch"),
        (np.ones((50, 4), np.float32), "conv2d", {"batch_size": 8}, ConfigError, "needs NCHW"),
        (np.ones((50, 4), np.float32), "resnet", {"batch_size": 8}, ConfigError, "unknown arch"),
    ],
)
def test_bad_input_leaves_nothing(data, arch, config, error, match, tmp_path: Path) -> None:
    with pytest.raises(error, match=match):
        train(data, arch, None, TrainConfig(**config), tmp_path / "r", progress=False)
    assert not list(tmp_path.iterdir())


def test_existing_run_dir_needs_force(low_rank: np.ndarray, tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        train(low_rank, "dense", SMALL, TrainConfig(epochs=1, batch_size=32), run, progress=False)
    with pytest.raises(ConfigError, match="not an edgeae run directory"):
        train(
            low_rank,
            "dense",
            SMALL,
            TrainConfig(epochs=1, batch_size=32),
            run,
            force=True,
            progress=False,
        )
    assert (run / "notes.txt").read_text() == "mine"
    (run / "notes.txt").unlink()
    train(low_rank, "dense", SMALL, TrainConfig(epochs=1, batch_size=32), run, progress=False)
    train(
        low_rank,
        "dense",
        SMALL,
        TrainConfig(epochs=1, batch_size=32),
        run,
        force=True,
        progress=False,
    )
    assert (run / "checkpoint.pt").is_file()


@pytest.mark.slow
def test_rate_lambda_trades_bits_for_distortion(low_rank: np.ndarray, tmp_path: Path) -> None:
    """Rate-distortion training: a larger lambda buys fewer bits with more distortion."""
    runs = {}
    for lam in (1e-4, 2.0):
        cfg = TrainConfig(epochs=25, batch_size=32, lr=1e-2, rate_lambda=lam)
        runs[lam] = train(low_rank, "dense", SMALL, cfg, tmp_path / f"l{lam}", progress=False)
    cheap, fine = runs[2.0].metrics, runs[1e-4].metrics
    assert cheap["val_bits_per_item"] < 0.7 * fine["val_bits_per_item"]
    assert cheap["val_psnr_db"] < fine["val_psnr_db"]
    model = load_checkpoint(tmp_path / "l2.0").model
    assert model.prior is not None  # the entropy model is saved with the weights


def test_rate_run_records_its_steps_and_flags_too_few(low_rank: np.ndarray, tmp_path: Path) -> None:
    """A rate-distortion run reports its optimizer steps; below RATE_MIN_STEPS it says so."""
    from edgeae.train.trainer import RATE_MIN_STEPS, optimizer_steps

    cfg = TrainConfig(epochs=2, batch_size=32, rate_lambda=0.1)
    m = train(low_rank, "dense", SMALL, cfg, tmp_path / "r", progress=False).metrics
    n_train = int(m["split"].split()[0])  # "360 train / 40 validation items ..."
    assert m["train_steps"] == optimizer_steps(n_train, cfg, 2) == 2 * -(-n_train // 32)
    assert m["train_steps"] < RATE_MIN_STEPS and m["rate_step_starved"] is True
    plain = train(low_rank, "dense", SMALL, TrainConfig(epochs=1), tmp_path / "p", progress=False)
    assert "train_steps" not in plain.metrics  # only rate-distortion runs carry the rate keys


def _train_rows(prep, ds: Dataset) -> np.ndarray:
    """Which items of ``ds`` are ``prep``'s training items (their model-space rows)."""
    from edgeae_runtime.preprocess import normalize

    rows = normalize(np.asarray(ds.x), prep.preprocessing)
    index = {row.tobytes(): i for i, row in enumerate(rows)}
    return np.array([index[row.tobytes()] for row in prep.train_x.numpy()])


def test_rate_distortion_trains_on_the_anomalies_of_a_labelled_recording() -> None:
    """A codec codes everything it is given: on a labelled source, rate-distortion training
    takes the anomalous windows too; the threshold keeps its held-out normal windows."""
    from edgeae.data import load_source

    ds = load_source("builtin:sensor?seconds=40")  # 256/128 windows, anomalies after 20 s
    labels = ds.anomaly_labels
    assert labels is not None and (labels > 0).sum() > 20
    plain = prepare(ds, TrainConfig(epochs=1, batch_size=16))
    coded = prepare(ds, TrainConfig(epochs=1, batch_size=16, rate_lambda=0.01))
    assert labels[_train_rows(plain, ds)].max() == 0  # an anomaly model: normal windows only
    rows = _train_rows(coded, ds)
    assert set(np.flatnonzero(labels > 0)) <= set(rows)  # every anomalous window trains
    np.testing.assert_array_equal(coded.val_raw_input, plain.val_raw_input)  # same held-out
    raw = {row.tobytes(): i for i, row in enumerate(np.asarray(ds.x, np.float32))}
    val = np.array([raw[v.tobytes()] for v in coded.val_raw_input])
    assert labels[val].max() == 0  # the threshold's items are normal
    # no training window shares a sample with a held-out one (window 256, hop 128: gap 1)
    assert np.abs(rows[:, None] - val[None, :]).min() > 1
    assert len(rows) == len(ds) - len(val) - 2  # and nothing else is left out
    assert "rate-distortion" in coded.split and "normal items only" in plain.split


def test_rate_distortion_on_labelled_items_keeps_a_normal_threshold(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n, w = 240, 16
    x = (np.sin(np.linspace(0, 40, n * w)).reshape(n, 1, w)
         + 0.01 * rng.normal(size=(n, 1, w))).astype(np.float32)  # fmt: skip
    labels = np.zeros(n, dtype=np.int64)
    x[200:] *= 3.0
    labels[200:] = 1
    ds = Dataset(name="toy", x=x, layout="NCW", fingerprint=fingerprint([x], {}), labels=labels,
                 sample_labels=np.repeat(labels, w))  # fmt: skip
    cfg = TrainConfig(epochs=2, batch_size=16, rate_lambda=0.01)
    result = train(ds, "conv1d", {"hidden": (8, 8), "latent": 2}, cfg, tmp_path / "r",
                   progress=False)  # fmt: skip
    n_train = int(result.metrics["split"].split()[0])
    assert n_train == n - len(prepare(ds, cfg).val_x)  # the 40 anomalies train too
    ck = load_checkpoint(tmp_path / "r")
    assert ck.anomaly is not None and "held-out normal" in ck.anomaly.calibrated_on
