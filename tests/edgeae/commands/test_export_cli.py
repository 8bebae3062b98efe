"""`edgeae export`: a trained run to three ONNX files, and one clear line for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from click.testing import CliRunner

from edgeae.cli import main
from edgeae.commands.export import validation_items
from edgeae.data import load_source
from edgeae.train import TrainConfig, load_checkpoint, train
from edgeae_export import read_manifest
from edgeae_export.onnx_io import load_onnx
from edgeae_export.sampling import sample_indices
from edgeae_runtime import ManifestError, Model
from edgeae_runtime.scores import anomaly_scores

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-epoch dense run (two-sided anomaly score) on a small .npy file to re-load."""
    root = tmp_path_factory.mktemp("run")
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(96, 3)) @ rng.normal(size=(3, 12))).astype(np.float32) + 5.0
    data = root / "items.npy"
    np.save(data, x)
    train(
        load_source(str(data)),
        "dense",
        {"hidden": (8,), "latent": 3},
        TrainConfig(epochs=1, batch_size=16, val_fraction=0.25, tails="both"),
        root / "run",
        progress=False,
        data_source=str(data),
    )
    return root / "run"


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _one_error_line(result, code: int = 3) -> str:
    """The single ``error:`` line on stderr (a progress line may precede it), exit ``code``."""
    assert result.exit_code == code, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip().endswith(errors[0])
    assert "Traceback" not in result.output
    return errors[0]


def test_export_writes_three_files_with_manifests(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "models"
    result = CliRunner().invoke(main, ["export", str(run_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _files(out) == ["decoder.onnx", "encoder.onnx", "model.onnx"]
    assert "parity" in result.stdout and "opset 17" in result.stdout
    # all 96 items of the run's data, not its 24 validation items
    assert "96 items sampled over all 96 of" in result.stderr
    manifest = read_manifest(load_onnx(out / "model.onnx"))
    assert manifest.arch == "dense" and manifest.item_shape == (12,)
    assert manifest.preprocessing.offset != (0.0,)  # the run's fitted normalization
    assert manifest.parity.samples == 96 and manifest.parity.max_abs_error < 1e-5
    assert manifest.provenance.source.endswith("items.npy")
    sess = ort.InferenceSession(str(out / "encoder.onnx"), providers=["CPUExecutionProvider"])
    assert sess.run(None, {"input": np.zeros((2, 12), np.float32)})[0].shape == (2, 3)


def test_export_samples_default_is_the_libraries() -> None:
    from edgeae.commands.export import export
    from edgeae_export.sampling import EXPORT_SAMPLES

    assert next(p for p in export.params if p.name == "samples").default == EXPORT_SAMPLES


def _rows(x: np.ndarray, items: np.ndarray) -> list[int]:
    """The row of ``x`` each item is."""
    return [int(np.flatnonzero((x == item).all(axis=1))[0]) for item in items]


def test_export_samples_the_runs_whole_data_not_its_validation_split(run_dir: Path) -> None:
    from edgeae.train.prepare import prepare

    ckpt = load_checkpoint(run_dir)
    x = np.load(run_dir.parent / "items.npy")
    raw, described = validation_items(ckpt, data=None, key=None, window=None, hop=None,
                                      samples=48)  # fmt: skip
    assert raw.shape == (48, 12) and "48 items sampled over all 96" in described
    assert _rows(x, raw) == sample_indices(96, 48).tolist()
    # the run trained on 72 of the 96 items; a sample over all of them holds training items,
    # which the 24 validation items (what the export took before) cannot
    split = prepare(load_source(str(run_dir.parent / "items.npy")),
                    TrainConfig.from_dict(ckpt.train_config))  # fmt: skip
    val = set(_rows(x, split.val_raw_input))
    assert len(val) == 24 and set(_rows(x, raw)) - val


def test_export_carries_the_two_sided_anomaly_spec(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "models"
    assert CliRunner().invoke(main, ["export", str(run_dir), "-o", str(out)]).exit_code == 0
    spec = load_checkpoint(run_dir).anomaly
    assert spec is not None and spec.tails == "both" and spec.center != 0.0
    for name in ("model.onnx", "encoder.onnx", "decoder.onnx"):
        assert read_manifest(load_onnx(out / name)).anomaly == spec
    model = Model(out / "model.onnx")
    x = np.load(run_dir.parent / "items.npy")[:10]
    np.testing.assert_allclose(model.score(x), anomaly_scores(model.errors(x), spec))


@pytest.mark.slow
def test_export_json_and_force(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    first = CliRunner().invoke(main, ["export", str(run_dir), "-o", str(out), "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert [f["role"] for f in summary["files"]] == ["autoencoder", "encoder", "decoder"]
    assert all(f["parity"]["max_abs_error"] < 1e-5 for f in summary["files"])
    assert len(summary["fingerprint"]) == 64

    again = CliRunner().invoke(main, ["export", str(run_dir), "-o", str(out)])
    line = _one_error_line(again, 2)
    assert "model.onnx: already exists; use --force" in line

    forced = CliRunner().invoke(main, ["export", str(run_dir), "-o", str(out), "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["fingerprint"] == summary["fingerprint"]
    assert _files(out) == ["decoder.onnx", "encoder.onnx", "model.onnx"]


def test_parity_failure_leaves_nothing(run_dir: Path, tmp_path: Path, monkeypatch) -> None:
    import edgeae_export.exporter as exporter

    monkeypatch.setattr(exporter, "max_abs_error", lambda *a, **k: 0.5)
    out = tmp_path / "m"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["export", str(run_dir), "-o", str(out)])
    line = _one_error_line(result, 1)  # a failed parity check is a verdict
    assert "0.5" in line and "tolerance 0.0001" in line and "--tolerance" in line
    assert _files(out) == ["notes.txt"]  # no model file, no temp file


def test_missing_run_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", str(tmp_path / "nope"), "-o", str(tmp_path)])
    assert "no checkpoint here" in _one_error_line(result)


def _export_altered(run_dir: Path, where: Path, out: Path, **changes: object) -> str:
    """Export a copy of ``run_dir``'s checkpoint with ``changes`` in ``where``: the one error
    line, and nothing written to ``out``."""
    blob = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    blob.update(changes)
    where.mkdir()
    torch.save(blob, where / "checkpoint.pt")
    line = _one_error_line(CliRunner().invoke(main, ["export", str(where), "-o", str(out)]))
    assert _files(out) == []
    return line


def test_checkpoint_from_another_version(run_dir: Path, tmp_path: Path) -> None:
    line = _export_altered(run_dir, tmp_path / "old", tmp_path / "m", version=99)
    assert "checkpoint format version 99" in line


def test_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.pt").write_text("hello")
    result = CliRunner().invoke(main, ["export", str(tmp_path), "-o", str(tmp_path / "m")])
    assert "not a readable edgeae checkpoint" in _one_error_line(result)


def test_data_of_the_wrong_shape(run_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.npy"
    np.save(other, np.zeros((10, 7), np.float32))
    result = CliRunner().invoke(
        main, ["export", str(run_dir), "-o", str(tmp_path / "m"), "--data", str(other)]
    )
    line = _one_error_line(result)
    assert "items have shape (7,), the model takes (12,)" in line


def test_missing_data_source_suggests_data(run_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["export", str(run_dir), "-o", str(tmp_path / "m"), "--data", str(tmp_path / "gone.npy")],
    )
    assert "gone.npy" in _one_error_line(result)


def test_out_is_a_file(run_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = CliRunner().invoke(main, ["export", str(run_dir), "-o", str(target)])
    assert "--output: " in (line := _one_error_line(result, 2)) and "not a directory" in line


def test_bad_opset(run_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", str(run_dir), "-o", str(tmp_path / "m"), "--opset", "11"]
    )
    assert "--opset: 11" in _one_error_line(result, 2)
    assert _files(tmp_path / "m") == []


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["export", "--help"])
    assert result.exit_code == 0
    assert "edgeae export runs/digits -o models/digits" in result.output
    assert "--tolerance" in result.output and "--force" in result.output


def test_a_run_that_has_not_finished_is_refused(run_dir: Path, tmp_path: Path) -> None:
    """A per-epoch checkpoint (the run still going, or killed) has no calibrated threshold:
    export says so and how to finish it, and writes nothing."""
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["finished"] is True
    stopped = tmp_path / "stopped"
    line = _export_altered(run_dir, stopped, tmp_path / "m", finished=False, anomaly=None)
    assert "training has not finished (checkpoint of epoch 1 of 1" in line
    assert f"-o {stopped} --resume" in line


@pytest.mark.parametrize("time_major", [False, True])
def test_a_signal_array_run_exports_on_its_own_windows(tmp_path: Path, time_major: bool) -> None:
    """A conv1d run on a (channels, samples) .npy, or a time-major one, with no sample rate:
    export re-cuts the run's windows (manifest.windows) without --window."""
    rng = np.random.default_rng(1)
    sig = np.sin(np.arange(4000) / 7.0)[None] * rng.uniform(0.5, 1.5, size=(2, 1))
    data = tmp_path / "sig.npy"
    np.save(data, (sig.T if time_major else sig).astype(np.float32))
    train(
        load_source(str(data), window=64, hop=32),
        "conv1d",
        {"hidden": (8,), "latent": 2},
        TrainConfig(epochs=1, batch_size=32),
        tmp_path / "run",
        progress=False,
        data_source=str(data),
    )
    result = CliRunner().invoke(main, ["export", str(tmp_path / "run"), "-o", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "items sampled over all 124 of" in result.stderr and "(the run's data)" in result.stderr
    with pytest.raises(ManifestError, match=r"64-sample windows .* train on FILE\?rate=HZ"):
        Model(tmp_path / "m" / "model.onnx").require_signal()
