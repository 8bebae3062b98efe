"""Speech metrics of a denoiser on whole files, and the quantization budget's TaskMetric."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgeae.data.corpus import Pair
from edgeae.metrics.denoise import score_pairs, speech_report, speech_text, task_metric
from edgeae_export.budget import TaskMetric, Validation, evaluate, metric_drop
from edgeae_runtime.metrics import si_snr_db
from edgeae_runtime.model import Model
from tests.runtime.onnx_models import make_autoencoder


def _pairs() -> list[Pair]:
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    out = []
    for i in range(3):
        clean = (0.3 * np.sin(2 * np.pi * 200 * (i + 1) * t)).astype(np.float32)
        noisy = (clean + 0.1 * rng.standard_normal(t.size)).astype(np.float32)
        out.append(Pair(f"p{i}", noisy, clean))
    return out


def test_identity_denoiser_scores_like_its_input(tmp_path: Path) -> None:
    path = make_autoencoder(tmp_path / "id.onnx", kind="identity", window=32)
    pairs = _pairs()
    report = speech_report([("A", Model(path))], pairs, 16000, ["snr", "sisnr"])
    assert report["rows"]["A"] == pytest.approx(report["rows"]["noisy input"], abs=1e-4)
    expected = np.mean([si_snr_db(p.clean, p.noisy) for p in pairs])
    assert report["rows"]["noisy input"]["sisnr"] == pytest.approx(expected)
    assert "noisy input" in speech_text(report) and "sisnr dB" in speech_text(report)
    assert score_pairs(pairs, [p.clean for p in pairs], 16000, ["snr"])["snr"] == float("inf")


def test_budget_evaluates_a_host_task_metric(tmp_path: Path) -> None:
    path = make_autoencoder(tmp_path / "id.onnx", kind="identity", window=32)
    model = Model(path)
    metric = task_metric("sisnr", _pairs(), 16000)
    assert isinstance(metric, TaskMetric) and metric.unit == "dB" and str(metric) == "sisnr"
    x = np.zeros((4, 1, 32), np.float32)
    value = evaluate(onnx.load(str(path)), model.manifest, metric, Validation(x))
    assert value == pytest.approx(np.mean([si_snr_db(p.clean, p.noisy) for p in _pairs()]))
    assert metric_drop(metric, 10.0, 9.5) == pytest.approx(0.5)  # higher is better
