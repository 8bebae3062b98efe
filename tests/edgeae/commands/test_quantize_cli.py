"""``edgeae quantize`` from the command line: summary, JSON, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgeae.cli import main
from tests.export.quantize.models import make_data
from tests.runtime.onnx_models import make_triplet


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    paths = make_triplet(d, "qdense")
    np.save(d / "cal.npy", make_data("dense", 128))
    return paths["autoencoder"]


def test_help_has_examples(runner) -> None:
    result = runner.invoke(main, ["quantize", "--help"])
    assert result.exit_code == 0
    assert "edgeae quantize -m models/digits/model.onnx -o" in result.output
    assert "--max-drop" in result.output and "--allow-slower" in result.output


def test_static_with_budget_json(runner, dense: Path, tmp_path: Path) -> None:
    out = tmp_path / "q.onnx"
    cal = str(dense.parent / "cal.npy")
    args = ["quantize", "-m", str(dense), "-o", str(out), "--calibration", cal]
    args += ["--max-drop", "50", "--allow-slower", "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "static" and out.exists()
    assert data["budget"]["metric"] == "psnr" and data["budget"]["measured_drop"] <= 50
    assert data["quantization"]["calibration_data"] == cal
    assert set(data["speed"]["speedup"]) == {"1", "256"}


@pytest.mark.parametrize("flag, want", [("--reduce-range", True), ("--full-range", False)])
def test_reduce_range_is_the_users_choice(
    runner, dense: Path, tmp_path: Path, flag: str, want: bool
) -> None:
    """--reduce-range / --full-range override the CPU's default and land in the manifest."""
    from edgeae_runtime import Model

    out = tmp_path / "q.onnx"
    cal = str(dense.parent / "cal.npy")
    args = ["quantize", "-m", str(dense), "-o", str(out), "--calibration", cal, flag]
    result = runner.invoke(main, [*args, "--allow-slower"])
    assert result.exit_code == 0, result.output
    assert Model(out).manifest.quantization.reduce_range is want
    assert f"reduce_range {want}" in result.stdout


def test_dynamic_summary(runner, dense: Path, tmp_path: Path) -> None:
    out = tmp_path / "q.onnx"
    result = runner.invoke(
        main, ["quantize", "-m", str(dense), "-o", str(out), "--mode", "dynamic", "--allow-slower"]
    )
    assert result.exit_code == 0, result.output
    assert "size:" in result.stdout and "latency (1 thread)" in result.stdout
    assert "kept float: nothing" in result.stdout


@pytest.mark.parametrize(
    "extra, message, code",
    [
        (["--calibration", "missing.npy"], "missing.npy", 3),
        (["--exclude", "nope", "--mode", "dynamic"], "--exclude: nope", 2),
        (["--mode", "static"], "unknown built-in dataset", 3),
    ],
)
def test_bad_input_is_one_line(runner, dense: Path, tmp_path: Path, extra, message, code) -> None:
    out = tmp_path / "q.onnx"
    result = runner.invoke(main, ["quantize", "-m", str(dense), "-o", str(out), *extra])
    assert result.exit_code == code
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert not out.exists()


def test_wrong_shape_calibration_file(runner, dense: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "wrong.npy", np.zeros((20, 7), np.float32))
    out = tmp_path / "q.onnx"
    result = runner.invoke(
        main,
        [
            "quantize",
            "-m",
            str(dense),
            "-o",
            str(out),
            "--calibration",
            str(tmp_path / "wrong.npy"),
        ],
    )
    assert result.exit_code != 0 and "(32,)" in result.stderr and not out.exists()


def test_not_onnx_and_missing_dir(runner, dense: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_text("hello")
    r1 = runner.invoke(main, ["quantize", "-m", str(bad), "-o", str(tmp_path / "q.onnx")])
    assert r1.exit_code != 0 and "not an ONNX model" in r1.stderr
    r2 = runner.invoke(
        main,
        ["quantize", "-m", str(dense), "-o", str(tmp_path / "no" / "q.onnx"), "--mode", "fp16"],
    )
    assert r2.exit_code != 0 and "does not exist" in r2.stderr


def test_threshold_is_recalibrated_only_on_held_out_data(runner, tmp_path: Path) -> None:
    """Without --val the calibration source (the training data, as a rule) would set the int8
    threshold too low, so the float model's is kept; --val with other data recalibrates it."""
    from edgeae_runtime import Model

    paths = make_triplet(tmp_path, "qdense", anomaly=True)
    np.save(tmp_path / "cal.npy", make_data("dense", 128))
    np.save(tmp_path / "val.npy", make_data("dense", 96, seed=5))
    float_spec = Model(paths["autoencoder"]).anomaly_spec
    base = ["quantize", "-m", str(paths["autoencoder"]), "--calibration",
            str(tmp_path / "cal.npy"), "--allow-slower"]  # fmt: skip
    kept = runner.invoke(main, [*base, "-o", str(tmp_path / "kept.onnx")])
    assert kept.exit_code == 0, kept.output
    assert "kept from the float model" in kept.output and "not held out" in kept.output
    assert Model(tmp_path / "kept.onnx").anomaly_spec.threshold == float_spec.threshold
    val = runner.invoke(
        main, [*base, "-o", str(tmp_path / "val.onnx"), "--val", str(tmp_path / "val.npy")]
    )
    assert val.exit_code == 0, val.output
    spec = Model(tmp_path / "val.onnx").anomaly_spec
    assert spec.threshold != float_spec.threshold and "val.npy" in spec.calibrated_on


def test_a_file_trained_model_defaults_to_its_recorded_training_data(
    runner, tmp_path: Path
) -> None:
    """quantize (no --calibration) and compare (no --data) use the file the model was trained
    on while it is still there, and say so; once it is gone they ask for the option."""
    from edgeae.data import load_source
    from edgeae.train import TrainConfig, train

    rng = np.random.default_rng(0)
    data = tmp_path / "rows.npy"
    np.save(data, (rng.normal(size=(200, 3)) @ rng.normal(size=(3, 10))).astype(np.float32))
    train(load_source(str(data)), "dense", {"hidden": (8,), "latent": 3},
          TrainConfig(epochs=1, batch_size=32), tmp_path / "run", progress=False,
          data_source=str(data))  # fmt: skip
    exported = runner.invoke(main, ["export", str(tmp_path / "run"), "-o", str(tmp_path / "m")])
    assert exported.exit_code == 0, exported.output
    model, q = tmp_path / "m" / "model.onnx", tmp_path / "m" / "q.onnx"
    result = runner.invoke(main, ["quantize", "-m", str(model), "-o", str(q), "--allow-slower"])
    assert result.exit_code == 0, result.output
    assert f"calibration: {data} (the model's training data)" in result.stderr
    result = runner.invoke(main, ["compare", str(model), str(q), "--no-memory", "--no-nodes"])
    assert result.exit_code == 0, result.output
    assert f"compare: data {data} (A's training data, as recorded)" in result.stderr
    data.unlink()
    result = runner.invoke(main, ["compare", str(model), str(q)])
    assert result.exit_code == 3 and "give --data FILE or builtin:NAME" in result.stderr
    result = runner.invoke(main, ["quantize", "-m", str(model), "-o", str(q), "--force"])
    assert result.exit_code == 3 and "give --calibration FILE" in result.stderr
