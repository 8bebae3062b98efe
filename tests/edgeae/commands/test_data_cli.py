"""`edgeae data list` and `edgeae data info`: output, JSON, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae.cli import main
from tests.edgeae.data.writers import write_test_wav


def test_list_table_and_json(runner: CliRunner) -> None:
    res = runner.invoke(main, ["data", "list"])
    assert res.exit_code == 0, res.output
    for name in ("builtin:digits", "builtin:sensor", "builtin:speech", "builtin:tones"):
        assert name in res.output
    res = runner.invoke(main, ["data", "list", "--json"])
    rows = json.loads(res.output)
    assert {r["name"] for r in rows} == {"digits", "sensor", "speech", "tones"}
    sensor = next(r for r in rows if r["name"] == "sensor")
    assert (
        sensor["item_shape"] == [3, 256]
        and sensor["window"] == 256
        and "seconds" in sensor["options"]
    )


def test_info_sensor_text(runner: CliRunner) -> None:
    res = runner.invoke(main, ["data", "info", "builtin:sensor?seconds=30&channels=2"])
    assert res.exit_code == 0, res.output
    assert "layout NCW" in res.output and "1000 Hz" in res.output
    assert "window 256, hop 128" in res.output and "dropout:" in res.output
    assert "sha256:" in res.output


def test_info_json_for_a_wav_file(runner: CliRunner, tmp_path: Path) -> None:
    sig = np.sin(np.arange(4000) / 10.0)[np.newaxis] * 0.5
    write_test_wav(tmp_path / "a.wav", sig, 8000, "pcm24")
    res = runner.invoke(
        main, ["data", "info", str(tmp_path / "a.wav"), "--window", "400", "--hop", "200", "--json"]
    )
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["items"] == 19 and info["item_shape"] == [1, 400] and info["sample_rate"] == 8000
    assert info["signal"] == {"channels": 1, "samples": 4000, "seconds": 0.5}
    assert info["values"]["max"] == pytest.approx(0.5, abs=1e-3)


def test_info_npz_key_and_labels(runner: CliRunner, tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.ones((6, 4)), y=np.zeros(2), labels=np.array([0, 1] * 3))
    res = runner.invoke(main, ["data", "info", str(tmp_path / "d.npz"), "--key", "x", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["labels"] == [
        {"label": 0, "name": "0", "count": 3},
        {"label": 1, "name": "1", "count": 3},
    ]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["builtin:nope"], "unknown built-in dataset 'nope'"),
        (["{tmp}/missing.npy"], "missing.npy: no such file"),
        (["{tmp}/d.npz"], "several arrays"),
        (["{tmp}/d.npz", "--key", "zz"], "no array named 'zz'"),
        (["{tmp}/nan.npy"], "1 NaN/Inf"),
        (["{tmp}/sig.npy", "--window", "999"], "longer than the signal"),
    ],
)
def test_bad_input_is_one_line_without_traceback(
    runner: CliRunner, tmp_path: Path, args: list[str], fragment: str
) -> None:
    np.savez(tmp_path / "d.npz", a=np.ones(3), b=np.ones(3))
    bad = np.zeros((3, 2), np.float32)
    bad[1, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    np.save(tmp_path / "sig.npy", np.zeros(100, np.float32))
    res = runner.invoke(main, ["data", "info", *(a.format(tmp=tmp_path) for a in args)])
    assert res.exit_code == 3  # bad input data
    assert "Traceback" not in res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_help_has_examples(runner: CliRunner) -> None:
    for args in (["data", "--help"], ["data", "info", "--help"], ["data", "list", "--help"]):
        res = runner.invoke(main, args)
        assert res.exit_code == 0 and "edgeae data" in res.output


def test_info_describes_a_speech_corpus(runner: CliRunner, tmp_path: Path) -> None:
    from tests.edgeae.data.speech_files import write_corpus

    clean, noise = write_corpus(tmp_path, n_clean=3, n_noise=2)
    res = runner.invoke(main, ["data", "info", f"mix:clean={clean}&noise={noise}&snr=0..5"])
    assert res.exit_code == 0, res.output
    assert "SNR 0..5 dB" in res.output and "held out" in res.output
    res = runner.invoke(main, ["data", "info", "builtin:speech", "--json"])
    info = json.loads(res.output)
    assert info["corpus"]["clean"]["validation_files"][-1] == "LJ050-0131.flac"
    assert info["validation_items"] > 0
