"""`edgeae train` through click's CliRunner and the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from edgeae.cli import main
from edgeae.train import RECIPES, load_checkpoint

torch.set_num_threads(1)

TINY = ["--epochs", "2", "--batch-size", "16", "--hidden", "8", "--latent", "3", "--quiet"]


@pytest.fixture
def items(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "items.npy"
    np.save(path, (rng.normal(size=(120, 3)) @ rng.normal(size=(3, 12))).astype(np.float32))
    return path


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name or p.name == "run")


def test_happy_path_json(runner: CliRunner, items: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = runner.invoke(main, ["train", str(items), "-o", str(run), *TINY, "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["arch"] == "dense" and metrics["epochs_run"] == 2
    assert load_checkpoint(run).data_source == str(items)


def test_a_percentile_from_too_few_items_is_warned_about(
    runner: CliRunner, items: Path, tmp_path: Path
) -> None:
    """p99 of 12 validation items cannot hold a 1 % tail: train says so (and names the law that
    does); p90 of them can, and the false-alarm law is not warned about."""
    base = ["train", str(items), *TINY]
    result = runner.invoke(main, [*base, "-o", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "warning: the p99 threshold comes from 12 normal validation items" in result.stderr
    assert "the 100 a 1 % tail needs" in result.stderr and "--threshold-method far" in result.stderr
    for extra in (["--threshold-percentile", "90"], ["--threshold-method", "far"]):
        result = runner.invoke(main, [*base, "-o", str(tmp_path / extra[1]), *extra])
        assert result.exit_code == 0 and "warning" not in result.stderr, result.stderr


def test_epochs_nobody_chose_are_raised_on_small_data_with_a_note(
    runner: CliRunner, items: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """108 training items at batch 64: 2 steps an epoch, 60 in the default 30 epochs; below
    the minimum of steps (80 here, to keep it quick) the epochs are raised to reach it, said
    on stderr, and what ran is what config.json and the checkpoint record; --epochs is
    never changed."""
    monkeypatch.setattr("edgeae.train.prepare.MIN_TRAIN_STEPS", 80)
    base = ["train", str(items), "--hidden", "8", "--latent", "3", "--patience", "0"]
    result = runner.invoke(main, [*base, "-o", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    want = 40
    note = (
        f"epochs 40: the default 30 make only 60 optimizer steps on {items}'s 108 training "
        "items, fewer than 80 (--epochs sets it)"
    )
    assert note in result.stderr, result.stderr
    assert "epoch 40/40" in result.stderr  # the raised schedule ran (no early stop here)
    recorded = json.loads((tmp_path / "a" / "config.json").read_text())["train_config"]
    assert recorded["epochs"] == want
    assert load_checkpoint(tmp_path / "a").train_config["epochs"] == want
    result = runner.invoke(main, [*base, "-o", str(tmp_path / "a"), "--resume"])
    assert result.exit_code == 0 and "optimizer steps on" not in result.stderr  # its own
    result = runner.invoke(main, [*base, "-o", str(tmp_path / "b"), "--epochs", "3"])
    assert result.exit_code == 0 and "epochs 3" not in result.stderr
    assert "optimizer steps on" not in result.stderr
    assert json.loads((tmp_path / "b" / "config.json").read_text())["train_config"]["epochs"] == 3


def test_builtin_signal_source(runner: CliRunner, tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["train", "builtin:tones?seconds=2", "-o", str(run), "--epochs", "1", "--quiet"]
    result = runner.invoke(main, [*args, "--tails", "both"])
    assert result.exit_code == 0, result.output
    ck = load_checkpoint(run)
    assert ck.arch == "conv1d" and ck.signal is not None and ck.signal.sample_rate == 16000
    # the recipe's model options apply when --hidden/--latent are not given
    assert ck.model_config["channels"] == list(RECIPES["tones"].model["hidden"])
    assert ck.anomaly is not None and ck.anomaly.tails == "both"


def test_existing_run_needs_resume_or_force(runner: CliRunner, items: Path, tmp_path: Path) -> None:
    run = str(tmp_path / "run")
    assert runner.invoke(main, ["train", str(items), "-o", run, *TINY]).exit_code == 0
    again = runner.invoke(main, ["train", str(items), "-o", run, *TINY])
    assert again.exit_code != 0 and "--resume" in again.stderr
    assert runner.invoke(main, ["train", str(items), "-o", run, *TINY, "--force"]).exit_code == 0
    resumed = runner.invoke(main, ["train", str(items), "-o", run, "--resume", "--quiet"])
    assert resumed.exit_code == 0, resumed.output


def _write_bad(tmp_path: Path, case: str) -> list[str]:
    good = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)
    if case == "missing":
        return [str(tmp_path / "nope.npy")]
    if case == "key":
        np.savez(tmp_path / "d.npz", x=good)
        return [str(tmp_path / "d.npz"), "--key", "y"]
    if case == "nan":
        bad = good.copy()
        bad[3, 2] = np.nan
        np.save(tmp_path / "nan.npy", bad)
        return [str(tmp_path / "nan.npy")]
    np.save(tmp_path / "ok.npy", good)
    if case == "shape":
        return [str(tmp_path / "ok.npy"), "--arch", "conv2d"]
    if case == "few":
        return [str(tmp_path / "ok.npy"), "--batch-size", "64"]
    if case == "arch":
        return [str(tmp_path / "ok.npy"), "--arch", "transformer"]
    if case == "window":
        np.save(tmp_path / "sig.npy", np.zeros(100, np.float32))
        return [str(tmp_path / "sig.npy"), "--window", "256"]
    if case == "builtin":
        return ["builtin:nonsense"]
    if case == "hidden":
        return [str(tmp_path / "ok.npy"), "--hidden", "a,b"]
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("missing", "nope.npy"),
        ("key", "y"),
        ("nan", "NaN"),
        ("shape", "conv2d"),
        ("few", "batch"),
        ("arch", "transformer"),
        ("window", "window"),
        ("builtin", "nonsense"),
        ("hidden", "--hidden"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(
    runner: CliRunner, tmp_path: Path, case: str, words: str
) -> None:
    args = _write_bad(tmp_path, case)
    result = runner.invoke(main, ["train", *args, "-o", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], lines
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_console_script_help_and_tiny_run(items: Path, tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "edgeae"
    help_text = subprocess.run([exe, "train", "--help"], capture_output=True, text=True, check=True)
    assert "edgeae train builtin:digits -o runs/digits" in help_text.stdout
    run = tmp_path / "run"
    done = subprocess.run(
        [exe, "train", str(items), "-o", str(run), *TINY],
        capture_output=True,
        text=True,
        env={"OMP_NUM_THREADS": "1", "PATH": str(exe.parent)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run) and (run / "metrics.json").is_file()


def test_threads_option_sets_torch_threads(runner: CliRunner, items: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = runner.invoke(
        main, ["train", str(items), "-o", str(run), *TINY, "--threads", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["torch_threads"] == 1 == torch.get_num_threads()
    bad = runner.invoke(main, ["train", str(items), "-o", str(tmp_path / "b"), "--threads", "0"])
    assert bad.exit_code != 0 and "--threads" in bad.stderr
