"""``edgeae compare`` on speech data: SNR, SI-SNR, PESQ, STOI of both models and the input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeae.cli import main


@pytest.mark.slow  # PESQ on 3 files x 3 signals
def test_compare_reports_speech_metrics_on_paired_folders(
    runner: CliRunner, tmp_path: Path
) -> None:
    from tests.edgeae.data.speech_files import write_pairs
    from tests.runtime.onnx_models import make_autoencoder

    a = make_autoencoder(tmp_path / "a.onnx", kind="identity", window=32)
    b = make_autoencoder(tmp_path / "b.onnx", kind="identity", window=32)
    pairs = write_pairs(tmp_path / "p", ["x.wav", "y.wav", "z.wav"])
    res = runner.invoke(
        main, ["compare", str(a), str(b), "--data", str(pairs), "--no-memory", "--json"]
    )
    assert res.exit_code == 0, res.output
    speech = json.loads(res.stdout)["speech"]
    rows = speech["rows"]
    assert set(rows) == {"noisy input", "A", "B"} and "sisnr" in speech["metrics"]
    assert rows["A"]["sisnr"] == pytest.approx(rows["noisy input"]["sisnr"], abs=1e-3)
