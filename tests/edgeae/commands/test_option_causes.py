"""The option-level causes of the reliability review, one regression test each (named after it).

Every bad option value is refused before any work with one ``error:`` line
naming the flag and exit code 2 (usage); a contradiction with the data (a
codec pair that is missing or swapped) is exit 3. The library side refuses the
same values by parameter name (no flag in its message).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae.cli import main as host
from edgeae_runtime import AnomalyScorer, Model, StreamScorer
from edgeae_runtime.audio import write_wav
from edgeae_runtime.cli import main as rt
from edgeae_runtime.clitools import CPU_COUNT
from edgeae_runtime.errors import ParameterError
from tests.runtime.onnx_models import make_autoencoder, make_decoder, make_encoder

USAGE, BAD_INPUT = 2, 3


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("causes")
    model = make_autoencoder(d / "model.onnx", kind="conv1d", window=32, hop=16)
    enc = make_encoder(d / "encoder.onnx", kind="conv1d", window=32, hop=16)
    dec = make_decoder(d / "decoder.onnx", kind="conv1d", window=32, hop=16)
    write_wav(d / "in.wav", np.zeros((1, 800), np.float32), 16000, "FLOAT")
    np.save(d / "items.npy", np.zeros((8, 1, 32), np.float32))
    return {"model": model, "enc": enc, "dec": dec, "wav": d / "in.wav", "items": d / "items.npy",
            "dir": d}  # fmt: skip


def _usage(prog, args: list[str], flag: str, code: int = USAGE) -> str:
    result = CliRunner().invoke(prog, [str(a) for a in args])
    assert result.exit_code == code, (args, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert flag in lines[0], lines[0]
    assert "Traceback" not in result.output
    return lines[0]


# cause 5 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_cause05_threshold_nan_is_refused_by_the_cli(files, value: str) -> None:
    line = _usage(rt, ["score", "-m", files["model"], files["wav"], "--threshold", value],
                  "--threshold")  # fmt: skip
    assert "not a finite number" in line


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_cause05_scorers_refuse_a_non_finite_threshold(files, value: float) -> None:
    model = Model(files["model"])
    for scorer in (AnomalyScorer, StreamScorer):
        with pytest.raises(ParameterError, match=r"^threshold: must be a finite number") as caught:
            scorer(model, threshold=value)
        assert caught.value.param == "threshold" and "--" not in str(caught.value)


# cause 6 -----------------------------------------------------------------------------------


def test_cause06_quantize_max_drop_nan_is_refused(files, tmp_path: Path) -> None:
    out = tmp_path / "q.onnx"
    _usage(host, ["quantize", "-m", files["model"], "-o", out, "--max-drop", "nan"], "--max-drop")
    assert not out.exists()


def test_cause06_the_budget_refuses_nan_by_name() -> None:
    from edgeae_export.budget import fit_budget

    for bad in (math.nan, -1.0, math.inf):
        with pytest.raises(ParameterError, match=r"^max_drop: must be a finite number"):
            fit_budget(
                lambda kept: None,  # never reached: the budget is checked first
                float_model=None,
                rank_model=None,
                manifest=None,
                metric="psnr",
                max_drop=bad,
                validation=None,
            )  # type: ignore[arg-type]


# cause 7 -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("resume")
    data = d / "items.npy"
    rng = np.random.default_rng(0)
    np.save(data, rng.normal(size=(64, 12)).astype(np.float32))
    args = ["train", str(data), "-o", str(d / "run"), "--arch", "dense", "--epochs", "1",
            "--latent", "3", "--hidden", "8", "--batch-size", "32", "-q"]  # fmt: skip
    result = CliRunner().invoke(host, args)
    assert result.exit_code == 0, result.output
    return data, d / "run"


@pytest.mark.slow  # trains a run (torch import + one epoch: a few seconds)
@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--arch", "conv1d"], "--arch"),
        (["--latent", "5"], "--latent"),
        (["--hidden", "16"], "--hidden"),
        (["--epochs", "7"], "--epochs"),
        (["--lr", "0.5"], "--lr"),
    ],
)
def test_cause07_resume_refuses_contradicting_options(run, extra: list[str], flag: str) -> None:
    data, run_dir = run
    before = (run_dir / "checkpoint.pt").read_bytes()
    line = _usage(host, ["train", data, "-o", run_dir, "--resume", "-q", *extra], flag)
    assert "contradicts the run being resumed" in line
    assert (run_dir / "checkpoint.pt").read_bytes() == before  # nothing touched


@pytest.mark.slow
def test_cause07_resume_accepts_the_same_options(run) -> None:
    data, run_dir = run
    args = ["train", str(data), "-o", str(run_dir), "--resume", "-q", "--arch", "dense",
            "--latent", "3", "--hidden", "8", "--epochs", "1"]  # fmt: skip
    result = CliRunner().invoke(host, args)
    assert result.exit_code == 0, result.output


# cause 8 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["denoise", "-m", "{model}", "{wav}", "-o", "{dir}/o.wav"],
        ["compress", "-m", "{enc}", "{wav}", "-o", "{dir}/o.eae"],
        ["score", "-m", "{model}", "{wav}"],
        ["encode", "-m", "{enc}", "{wav}", "-o", "{dir}/o.npy"],
        ["bench", "-m", "{model}"],
    ],
    ids=lambda a: a[0],
)
@pytest.mark.parametrize("threads", ["100000", "0", str(CPU_COUNT + 1)])
def test_cause08_threads_is_bounded_by_the_core_count(files, args, threads: str) -> None:
    argv = [a.format(**files) for a in args] + ["--threads", threads]
    for prog in (rt, host):  # the host mounts the same commands
        line = _usage(prog, argv, "--threads")
        assert f"give 1 to {CPU_COUNT}" in line and "CPU cores" in line
    assert not list(files["dir"].glob("o.*"))


@pytest.mark.parametrize(
    "args",
    [["train", "{items}", "-o", "{dir}/r"], ["compare", "{model}", "{model}", "--data", "{items}"]],
    ids=lambda a: a[0],
)
def test_cause08_host_threads_is_bounded_too(files, args) -> None:
    _usage(host, [a.format(**files) for a in args] + ["--threads", "100000"], "--threads")


@pytest.mark.parametrize("threads", [0, -1, CPU_COUNT + 1, 100000, 1.5, True])
def test_cause08_model_refuses_threads_beyond_the_cores(files, threads) -> None:
    with pytest.raises(ParameterError, match=r"^threads: must be an integer from 1 to") as caught:
        Model(files["model"], threads=threads)
    assert caught.value.param == "threads"


# cause 15 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "1e12", "0", "-5"])
def test_cause15_chunk_ms_is_finite_and_bounded(files, value: str) -> None:
    for cmd in (["denoise", "-m", files["model"], files["wav"], "-o", files["dir"] / "o.wav"],
                ["score", "-m", files["model"], files["wav"]],
                ["bench", "-m", files["model"]]):  # fmt: skip
        _usage(rt, [*cmd, "--chunk-ms", value], "--chunk-ms")


@pytest.mark.parametrize("value", ["1e9", "nan", "inf", "-1"])
@pytest.mark.parametrize("prog", [host, rt], ids=["edgeae", "edgeae-rt"])
def test_cause15_bench_seconds_is_finite_and_bounded(files, prog, value: str) -> None:
    _usage(prog, ["bench", "-m", files["model"], "--seconds", value], "--seconds")


@pytest.mark.parametrize("value", ["1e8", "100000000", "0", "1,0"])
def test_cause15_batch_is_bounded(files, value: str) -> None:
    _usage(rt, ["bench", "-m", files["model"], "--batch", value], "--batch")
    _usage(host, ["bench", "-m", files["model"], "--batch", value], "--batch")
    _usage(host, ["compare", files["model"], files["model"], "--data", files["items"],
                  "--batch", value], "--batch")  # fmt: skip


# cause 16 ----------------------------------------------------------------------------------


def test_cause16_calibration_size_zero_is_refused(files, tmp_path: Path) -> None:
    args = ["quantize", "-m", files["model"], "-o", tmp_path / "q.onnx", "--calibration-size", "0"]
    _usage(host, args, "--calibration-size")
    assert not (tmp_path / "q.onnx").exists()


# cause 18 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--weight-decay", "nan"),
        ("--weight-decay", "-1"),
        ("--lr", "nan"),
        ("--lr", "0"),
        ("--lr", "inf"),
        ("--noise-level", "inf"),
        ("--val-fraction", "1"),
        ("--val-fraction", "nan"),
        ("--threshold-percentile", "nan"),
        ("--threshold-percentile", "0"),
        ("--threshold-k", "nan"),
        ("--target-far", "inf"),
        ("--hysteresis", "nan"),
        ("--epochs", "0"),
        ("--batch-size", "0"),
        ("--latent", "0"),
        ("--window", "0"),
        ("--hop", "1e9"),
    ],
)
def test_cause18_training_options_are_finite_and_in_range(
    files, tmp_path: Path, flag: str, value: str
) -> None:
    out = tmp_path / "run"
    _usage(host, ["train", files["items"], "-o", out, flag, value], flag)
    assert not out.exists() and list(tmp_path.iterdir()) == []


FLOAT_FIELDS = ["weight_decay", "lr", "noise_level", "val_fraction", "threshold_percentile",
                "threshold_k", "hysteresis"]  # fmt: skip


@pytest.mark.parametrize("field", FLOAT_FIELDS)
def test_cause18_train_config_refuses_non_finite_floats(field: str) -> None:
    from edgeae.errors import ConfigError
    from edgeae.train import TrainConfig

    for bad in (math.nan, math.inf):
        with pytest.raises(ConfigError, match=rf"^{field}: must be a finite number") as caught:
            TrainConfig(**{field: bad})
        assert caught.value.param == field


# cause 23 ----------------------------------------------------------------------------------


def test_cause23_val_size_zero_is_refused(files, tmp_path: Path) -> None:
    _usage(host, ["quantize", "-m", files["model"], "-o", tmp_path / "q.onnx", "--val-size", "0"],
           "--val-size")  # fmt: skip


@pytest.mark.parametrize("value", ["nan", "inf", "0", "1e9"])
@pytest.mark.parametrize("prog", [host, rt], ids=["edgeae", "edgeae-rt"])
def test_cause23_bench_budget_nan_is_refused(files, prog, value: str) -> None:
    _usage(prog, ["bench", "-m", files["model"], "--budget", value], "--budget")


@pytest.mark.parametrize(
    ("pair", "words"),
    [
        (("{dir}/none.onnx", "{dec}"), "no such encoder file"),
        (("{enc}", "{dir}/none.onnx"), "no such decoder file"),
        (("{dec}", "{enc}"), "swapped"),
        (("{model}", "{dec}"), "expected the encoder"),
    ],
    ids=["missing-encoder", "missing-decoder", "swapped", "not-a-codec"],
)
def test_cause23_compare_codec_files_missing_or_swapped_exit_3(files, pair, words: str) -> None:
    enc, dec = (p.format(**files) for p in pair)
    base = ["compare", files["model"], files["model"], "--data", files["items"], "--no-memory"]
    for flag in ("--codec-a", "--codec-b"):
        line = _usage(host, [*base, flag, enc, dec], flag, code=BAD_INPUT)
        assert words in line
