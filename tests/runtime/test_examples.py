"""examples/device_loop.py runs end to end on a tiny model with only the runtime."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from edgeae_runtime import AnomalySpec, CodecSpec
from tests.runtime.onnx_models import make_triplet

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "device_loop.py"


def test_device_loop_simulated_sensor(tmp_path: Path) -> None:
    model, encoder, _ = make_triplet(
        tmp_path, kind="conv1d", window=64, hop=32, anomaly=AnomalySpec(threshold=0.5),
        codec=CodecSpec(bits=8, scale=(0.05,), zero_point=(0,)),
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "-m", str(model), "--encoder", str(encoder),
         "--seconds", "4.5", "--quiet"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert "72000 samples out (72000 in)" in summary
    assert "bytes/s sent" in summary
    assert "ANOMALY samples" in proc.stdout  # the simulated burst at 2.0-2.1 s


def test_device_loop_stdin_and_bad_model(tmp_path: Path) -> None:
    model, _, _ = make_triplet(tmp_path, kind="conv1d", window=64, hop=32)
    pcm = (np.sin(np.arange(8000) / 5) * 10000).astype("<i2").tobytes()
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "-m", str(model), "--stdin", "--quiet"],
        input=pcm, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert b"8000 samples out (8000 in)" in proc.stdout
    (tmp_path / "bad.onnx").write_text("no")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "-m", str(tmp_path / "bad.onnx")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 3 and proc.stderr.startswith("error: ")  # 3: bad model


def test_denoise_speech_example_runs_the_pretrained_model(tmp_path: Path) -> None:
    from edgeae_runtime import read_wav, write_wav

    rate = 22050
    t = np.arange(rate // 2) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.random.default_rng(0).standard_normal(t.size)
    write_wav(tmp_path / "noisy.wav", x.astype(np.float32), rate)
    script = EXAMPLE.parent / "denoise_speech.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "noisy.wav"), str(tmp_path / "clean.wav")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    y, out_rate = read_wav(tmp_path / "clean.wav")
    assert out_rate == rate and y.shape == (1, x.size)
