"""A compression ladder from the CLI: `edgeae train --quality`, export, `edgeae-rt compress`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from edgeae.cli import main

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Feature vectors near a 3-dimensional subspace, as a .npy file."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)) @ rng.normal(size=(3, 16)) + 0.05 * rng.normal(size=(400, 16))
    path = tmp_path_factory.mktemp("ladder") / "items.npy"
    np.save(path, x.astype(np.float32))
    return path


@pytest.mark.slow
def test_quality_ladder_trains_exports_and_codes(items: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    runs = tmp_path / "runs"
    args = ["train", str(items), "--arch", "dense", "--hidden", "8", "--latent", "3"]
    args += ["--epochs", "25", "--lr", "0.01", "--quality", "1,8", "-o", str(runs), "--json"]
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    ladder = json.loads(r.output[r.output.index("{") :])
    assert sorted(ladder) == ["q1", "q8"]
    assert ladder["q1"]["val_bits_per_item"] < ladder["q8"]["val_bits_per_item"]
    assert ladder["q1"]["val_psnr_db"] < ladder["q8"]["val_psnr_db"]

    sizes = {}
    for q in ("q1", "q8"):
        onnx_dir = tmp_path / "codecs" / q
        r = runner.invoke(main, ["export", str(runs / q), "-o", str(onnx_dir)])
        assert r.exit_code == 0, r.output
        stream = tmp_path / f"{q}.eae"
        r = runner.invoke(
            main, ["compress", "-m", str(onnx_dir / "encoder.onnx"), str(items), "-o", str(stream)]
        )
        assert r.exit_code == 0, r.output
        # entropy-coded: format version 4 with the context model the export fitted, else 2
        from edgeae_runtime import Model

        context = Model(onnx_dir / "encoder.onnx").manifest.codec.context
        assert stream.read_bytes()[4] == (4 if context is not None else 2)
        out = tmp_path / f"{q}.npy"
        r = runner.invoke(
            main, ["decompress", "-m", str(onnx_dir / "decoder.onnx"), str(stream), "-o", str(out)]
        )
        assert r.exit_code == 0, r.output
        assert np.load(out).shape == (400, 16)
        sizes[q] = stream.stat().st_size
    assert sizes["q1"] < sizes["q8"]

    # the ladder as a rate-distortion curve in compare, with its plot in the report
    model = str(tmp_path / "codecs" / "q8" / "model.onnx")
    report = tmp_path / "report"
    args = ["compare", model, model, "--data", str(items), "--ladder", str(tmp_path / "codecs")]
    r = runner.invoke(main, [*args, "--no-memory", "--no-nodes", "--json", "-o", str(report)])
    assert r.exit_code == 0, r.output
    curve = json.loads(r.output[r.output.index("{") :])["rd_curve"]
    assert [p["label"] for p in curve] == ["q1", "q8"]  # sorted by rate
    assert curve[0]["bits_per_value"] < curve[1]["bits_per_value"]
    assert curve[0]["psnr"] < curve[1]["psnr"]
    assert (report / "rd.png").is_file()
    assert "rate-distortion curve" in (report / "report.md").read_text()


def test_quality_and_rate_lambda_are_exclusive_and_bounded(items: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["train", str(items), "-o", str(tmp_path / "r")]
    r = runner.invoke(main, [*base, "--quality", "2", "--rate-lambda", "0.1"])
    assert r.exit_code == 2 and "--quality" in r.output
    r = runner.invoke(main, [*base, "--quality", "0-9"])
    assert r.exit_code == 2 and "1..8" in r.output
    assert not (tmp_path / "r").exists()


def test_train_warns_when_rate_training_is_step_starved(items: Path, tmp_path: Path) -> None:
    """Too few optimizer steps for lambda to matter: the CLI says so on stderr, with the fix."""
    args = ["train", str(items), "--arch", "dense", "--hidden", "8", "--latent", "3"]
    args += ["--epochs", "1", "--rate-lambda", "0.1", "-o", str(tmp_path / "r"), "--quiet"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "rate-distortion training took 6 optimizer steps" in r.stderr
    assert "--batch-size (now 64)" in r.stderr
    assert "warning" not in r.stdout


def test_a_starved_codec_that_stopped_early_is_told_about_patience(
    items: Path, tmp_path: Path
) -> None:
    """Early stopping ended the run short of the steps: raising --epochs would not help."""
    args = ["train", str(items), "--arch", "dense", "--hidden", "8", "--latent", "3"]
    args += ["--epochs", "40", "--patience", "1", "--rate-lambda", "0.1", "--lr", "1.0"]
    args += ["-o", str(tmp_path / "r"), "--quiet"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "(early stop): raise --patience (now 1)" in r.stderr
