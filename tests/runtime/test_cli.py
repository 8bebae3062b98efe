"""``edgeae-rt`` commands through click's CliRunner, including a stdin -> stdout pipe."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae_runtime import Model
from edgeae_runtime.audio import read_wav, write_wav
from edgeae_runtime.cli import main
from edgeae_runtime.stream import denoise_offline
from tests.runtime.onnx_models import make_autoencoder, make_not_onnx


def _run(runner: CliRunner, args: list[str], **kw: object):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False, **kw)


@pytest.fixture
def noisy(tmp_path: Path) -> tuple[Path, np.ndarray]:
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 1000)).astype(np.float32)
    write_wav(tmp_path / "in.wav", x, 16000, "FLOAT")
    return tmp_path / "in.wav", x


@pytest.mark.parametrize("cmd", ["info", "denoise", "score", "encode", "bench"])
def test_every_command_has_help_with_an_example(runner: CliRunner, cmd: str) -> None:
    result = _run(runner, [cmd, "--help"])
    assert result.exit_code == 0
    assert "edgeae-rt " + cmd in result.output


def test_info_text_and_json(runner: CliRunner, model_dir: Path) -> None:
    text = _run(runner, ["info", "-m", model_dir / "model.onnx"])
    assert text.exit_code == 0 and "16000 Hz" in text.output and "mse > 2" in text.output
    data = json.loads(_run(runner, ["info", "-m", model_dir / "model.onnx", "--json"]).output)
    assert data["manifest"]["signal"]["window"] == 32


def test_denoise_wav_to_wav_equals_offline(
    runner: CliRunner, model_dir: Path, conv: Model, noisy: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    src, x = noisy
    out = tmp_path / "out.wav"
    result = _run(
        runner, ["denoise", "-m", model_dir / "model.onnx", src, "-o", out, "--chunk-ms", 3]
    )
    assert result.exit_code == 0, result.output
    y, rate = read_wav(out)
    assert rate == 16000 and y.shape == x.shape
    np.testing.assert_allclose(y, denoise_offline(conv, x), atol=1e-5)


def test_denoise_pipe_stdin_to_stdout(runner: CliRunner, model_dir: Path, conv: Model) -> None:
    x = np.random.default_rng(1).uniform(-0.5, 0.5, 777).astype(np.float32)
    pcm = np.round(x * 32768).astype("<i2")
    result = runner.invoke(
        main,
        ["denoise", "-m", str(model_dir / "model.onnx"), "-", "-o", "-", "--chunk-ms", "2"],
        input=pcm.tobytes(),
    )
    assert result.exit_code == 0
    out = np.frombuffer(result.stdout_bytes, "<i2")
    assert out.shape == (777,)
    ref = denoise_offline(conv, pcm.astype(np.float32) / 32768)[0]
    np.testing.assert_allclose(out / 32768.0, np.clip(ref, -1, 1 - 2**-15), atol=2 * 2**-15)


def test_score_signal_and_items(runner: CliRunner, model_dir: Path, tmp_path: Path) -> None:
    x = 0.01 * np.ones((1, 600), np.float32)
    x[0, 300:330] = 0.99
    write_wav(tmp_path / "burst.wav", x, 16000, "FLOAT")
    result = _run(
        runner,
        [
            "score",
            "-m",
            model_dir / "model.onnx",
            tmp_path / "burst.wav",
            "--json",
            "--threshold",
            "1.0",
        ],
    )
    data = json.loads(result.output)
    # the complete windows of 600 samples, (600 - 32) // 16 + 1; not the padded one past the end
    assert len(data["scores"]) == len(data["window_starts"]) == 36
    assert len(data["events"]) == 1 and data["events"][0]["start"] <= 300
    items = np.zeros((3, 1, 32), np.float32)
    items[2] = 30.0
    np.save(tmp_path / "items.npy", items)
    data = json.loads(
        _run(
            runner, ["score", "-m", model_dir / "model.onnx", tmp_path / "items.npy", "--json"]
        ).output
    )
    assert data["flags"] == [False, False, True] and data["tails"] == "upper"


def test_encode_items_and_signal(runner: CliRunner, model_dir: Path, noisy, tmp_path: Path) -> None:
    src, _ = noisy
    out = tmp_path / "z.npy"
    assert _run(runner, ["encode", "-m", model_dir / "encoder.onnx", src, "-o", out]).exit_code == 0
    assert np.load(out).shape == (62, 4, 16)  # ceil((1000 - 32) / 16) + 1 windows
    np.save(tmp_path / "items.npy", np.zeros((5, 1, 32), np.float32))
    again = ["encode", "-m", model_dir / "model.onnx", tmp_path / "items.npy", "-o", out]
    refused = _run(runner, again)
    assert refused.exit_code != 0 and "--force" in refused.stderr
    assert np.load(out).shape == (62, 4, 16)  # the existing output is untouched
    assert _run(runner, [*again, "--force"]).exit_code == 0
    assert np.load(out).shape == (5, 4, 16)


def test_bench_json(runner: CliRunner, model_dir: Path) -> None:
    result = _run(
        runner,
        [
            "bench",
            "-m",
            model_dir / "model.onnx",
            "--budget",
            0.01,
            "--seconds",
            0.5,
            "--batch",
            "1,4",
            "--threads",
            1,
            "--json",
        ],
    )
    (data,) = json.loads(result.stdout)
    assert [(r["threads"], r["batch"]) for r in data["rows"]] == [(1, 1), (1, 4)]
    assert data["stream"]["chunks"] == 5 and data["stream"]["raw_bound_rtf"] > 0
    assert data["peak_rss_mb"] > 0 and data["size_bytes"] > 0


def _fails(runner: CliRunner, args: list[object], match: str, code: int = 3, **kw: object) -> None:
    """One ``error:`` line on stderr holding ``match``, and the documented exit ``code``."""
    result = runner.invoke(main, [str(a) for a in args], **kw)
    assert result.exit_code == code, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert match in lines[0]


def test_bad_inputs_give_one_line_and_no_output_file(
    runner: CliRunner, model_dir: Path, noisy, tmp_path: Path
) -> None:
    src, _ = noisy
    model = model_dir / "model.onnx"
    out = tmp_path / "out.wav"
    _fails(runner, ["info", "-m", make_not_onnx(tmp_path / "x.onnx")], "not a loadable ONNX model")
    _fails(
        runner,
        ["denoise", "-m", model, "-", "-o", "-", "--format", "u8"],
        "'u8' is not one of",
        code=2,
        input=b"\x00\x00",
    )
    _fails(runner, ["denoise", "-m", model, "-", "-o", out], "empty input", input=b"")
    _fails(runner, ["denoise", "-m", model, "-", "-o", "-", "--rate", "4000"], "--rate: 4000", 2)
    write_wav(tmp_path / "4k.wav", np.zeros((1, 100)), 4000)  # 8-48 kHz is resampled
    _fails(runner, ["denoise", "-m", model, tmp_path / "4k.wav", "-o", out], "4000 Hz")
    write_wav(tmp_path / "st.wav", np.zeros((2, 100)), 16000)  # a mono model: per channel
    args = ["denoise", "-m", model, tmp_path / "st.wav", "-o", out]
    ok = runner.invoke(main, [str(a) for a in args])
    assert ok.exit_code == 0, ok.output
    assert read_wav(out)[0].shape == (2, 100)
    Path(out).unlink()
    bad = np.zeros(5000, np.float32)
    bad[4000] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    _fails(runner, ["denoise", "-m", model, tmp_path / "nan.npy", "-o", out], "sample 4000")
    _fails(
        runner, ["denoise", "-m", model_dir / "encoder.onnx", src, "-o", out], "full autoencoder"
    )
    _fails(runner, ["encode", "-m", model, src, "-o", tmp_path / "z.txt"], "--output: ", 2)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.wav", "x.onnx", "4k.wav", "st.wav", "nan.npy"]
    )


def test_score_needs_a_threshold(runner: CliRunner, noisy, tmp_path: Path) -> None:
    m = make_autoencoder(tmp_path / "m.onnx", kind="conv1d")
    _fails(runner, ["score", "-m", m, noisy[0]], "threshold")


def test_host_cli_mounts_runtime_commands(runner: CliRunner) -> None:
    from edgeae.cli import main as host

    result = runner.invoke(host, ["denoise", "--help"])
    assert result.exit_code == 0 and "edgeae-rt denoise" in result.output


def test_denoise_refuses_an_existing_output_without_force(
    runner: CliRunner, model_dir: Path, noisy, tmp_path: Path
) -> None:
    src, _ = noisy
    out = tmp_path / "out.wav"
    out.write_bytes(b"keep me")
    args = ["denoise", "-m", model_dir / "model.onnx", src, "-o", out]
    refused = _run(runner, args)
    assert refused.exit_code == 2 and "use --force to overwrite" in refused.stderr
    assert out.read_bytes() == b"keep me"
    assert _run(runner, [*args, "--force"]).exit_code == 0
    assert out.read_bytes()[:4] == b"RIFF"
