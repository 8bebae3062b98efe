"""Items (N, C, L) of a length that is no power of two: train, export, quantize, score."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae.cli import main


@pytest.mark.slow
def test_beats_of_140_samples_train_export_quantize_and_score(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 140)
    beats = np.sin(2 * np.pi * 3 * t)[None] * rng.uniform(0.8, 1.2, (160, 1))
    beats = (beats + 0.05 * rng.normal(size=(160, 140))).astype(np.float32)[:, None, :]
    data = tmp_path / "beats.npy"
    np.save(data, beats)
    run, models = tmp_path / "run", tmp_path / "models"
    r = CliRunner()
    steps = [
        ["train", str(data), "--arch", "conv1d", "--epochs", "1", "-o", str(run), "-q"],
        ["export", str(run), "-o", str(models)],
        ["quantize", "-m", str(models / "model.onnx"), "-o", str(models / "q.onnx"),
         "--calibration", str(data), "--allow-slower"],
        ["score", "-m", str(models / "q.onnx"), str(data), "--json"],
    ]  # fmt: skip
    for args in steps:
        out = r.invoke(main, args)
        assert out.exit_code == 0, (args[0], out.output)
        assert "resize" not in out.output and "divisible" not in out.output
    result = json.loads(out.output[out.output.index("{") :])
    assert len(result["scores"]) == 160
