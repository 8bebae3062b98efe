"""``edgeae quantize --metric sisnr|pesq|stoi``: speech budgets need a denoiser and speech data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from edgeae.cli import main
from tests.export.quantize.models import make_data
from tests.runtime.onnx_models import make_triplet


def test_speech_metric_needs_a_denoiser_and_a_speech_source(
    runner: CliRunner, tmp_path: Path
) -> None:
    model = make_triplet(tmp_path, "qconv1d")["autoencoder"]  # items, no signal spec
    np.save(tmp_path / "items.npy", make_data("conv1d", 64))
    res = runner.invoke(
        main,
        ["quantize", "-m", str(model), "-o", str(tmp_path / "q.onnx"), "--calibration",
         str(tmp_path / "items.npy"), "--max-drop", "0.3", "--metric", "sisnr"],
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "--metric sisnr: needs a denoiser (a signal model) and a speech source" in res.output
    assert not (tmp_path / "q.onnx").exists()
