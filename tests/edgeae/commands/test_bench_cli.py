"""``edgeae bench``: the JSON structure, the table, streaming for signal models, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeae.cli import main
from tests.runtime.onnx_models import make_autoencoder

FAST = ["--budget", "0.01", "--seconds", "0.5", "--batch", "1,8", "--threads", "1,2"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("bench")
    signal = make_autoencoder(d / "conv1d.onnx", kind="conv1d", window=32, hop=16)
    dense = make_autoencoder(d / "dense.onnx", kind="dense")
    return signal, dense


def test_json_structure(runner: CliRunner, models: tuple[Path, Path]) -> None:
    signal, dense = models
    result = runner.invoke(main, ["bench", "-m", str(signal), "-m", str(dense), "--json", *FAST])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [Path(r["path"]).name for r in doc] == ["conv1d.onnx", "dense.onnx"]
    for r in doc:
        points = {(row["threads"], row["batch"]) for row in r["rows"]}
        assert points == {(1, 1), (1, 8), (2, 1), (2, 8)}
        for row in r["rows"]:
            assert row["p99_us"] >= row["p50_us"] > 0 and row["items_per_s"] > 0
        assert r["size_bytes"] > 0 and r["quantization"] == "float32"
        assert 0 < r["load_s"] < 60 and 10 < r["peak_rss_mb"] < 4096
    stream = doc[0]["stream"]
    assert stream["rtf"] > 0 and stream["raw_bound_rtf"] > 0 and stream["chunk_ms"] == 100
    assert doc[1]["stream"] is None  # a dense model streams nothing


def test_table(runner: CliRunner, models: tuple[Path, Path]) -> None:
    signal, _ = models
    result = runner.invoke(main, ["bench", "-m", str(signal), "--no-memory", *FAST])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "p50 (µs)" in out and "items/s" in out and "streaming 0.5 s" in out
    assert "peak RSS" not in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-m", "missing.onnx"], "no such model file"),
        (["-m", "{junk}"], "not a loadable ONNX model"),
        (["-m", "{dense}", "--batch", "0"], "--batch"),
        (["-m", "{dense}", "--threads", "a"], "--threads"),
    ],
)
def test_bad_inputs(
    runner: CliRunner, models: tuple[Path, Path], tmp_path: Path, args: list[str], words: str
) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_text("nope")
    args = [a.format(junk=junk, dense=models[1]) for a in args]
    result = runner.invoke(main, ["bench", "--no-memory", *args])
    assert result.exit_code != 0
    lines = [ln for ln in result.stderr.splitlines() if not ln.startswith("bench: ")]
    assert len(lines) == 1 and words in lines[0], result.stderr


@pytest.fixture()
def small_peak(monkeypatch: pytest.MonkeyPatch) -> None:
    """The peak probe on 32-cubes: the flag's path without seconds of GEMMs."""
    import edgeae_export.perf_model as pm

    real = pm.measure_peak
    monkeypatch.setattr(pm, "measure_peak", lambda **kw: real((32,), **kw))


def test_profile_flag_prints_the_performance_table(
    runner: CliRunner, models: tuple[Path, Path], small_peak: None
) -> None:
    signal, _ = models
    args = ["bench", "-m", str(signal), "--no-memory", "--profile", *FAST]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "profile at batch 8" in out and "MACs/item" in out and "of peak" in out
    assert "MMACs/item" in out and "of the fp32 peak" in out


def test_profile_flag_adds_the_profile_to_json(
    runner: CliRunner, models: tuple[Path, Path], small_peak: None
) -> None:
    signal, dense = models
    args = ["bench", "-m", str(signal), "-m", str(dense), "--json", "--no-memory", "--profile"]
    result = runner.invoke(main, [*args, *FAST])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    for r in doc:
        prof = r["profile"]
        assert prof["batch"] == 8 and prof["macs_per_item"] > 0 and prof["peak"]["sizes"] == [32]
        assert any(n["macs"] > 0 for n in prof["nodes"])
    without = runner.invoke(main, ["bench", "-m", str(dense), "--json", "--no-memory", *FAST])
    assert "profile" not in json.loads(without.stdout)[0]


def _have_openvino() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _have_openvino(), reason="openvino extra not installed")
def test_openvino_flag_compares_and_recommends(
    runner: CliRunner, models: tuple[Path, Path]
) -> None:
    _, dense = models
    args = ["bench", "-m", str(dense), "--openvino", "--no-memory", "--seconds", "0"]
    result = runner.invoke(main, [*args, "--budget", "0.03", "--batch", "1,8", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)[0]["providers"]
    assert [r["batch"] for r in rows] == [1, 8]
    for r in rows:
        assert r["onnxruntime_us"] > 0 and r["openvino_us"] > 0
        want = "openvino" if r["openvino_speedup"] > 1.1 else "onnxruntime"
        assert r["recommended"] == want
    text = runner.invoke(main, [*args, "--budget", "0.03", "--batch", "1"])
    assert text.exit_code == 0 and "use " in text.stdout and "openvino" in text.stdout


@pytest.mark.skipif(not _have_openvino(), reason="openvino extra not installed")
def test_record_writes_the_verdict_into_the_manifest(
    runner: CliRunner, models: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    from edgeae_runtime.model import Model

    _, dense = models
    path = tmp_path / dense.name
    shutil.copy(dense, path)
    before = Model(path).manifest
    args = ["bench", "-m", str(path), "--openvino", "--record", "--no-memory", "--seconds", "0",
            "--budget", "0.03", "--batch", "1,8", "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)[0]["providers"][-1]
    advice = Model(path).manifest.execution
    assert advice is not None and (advice.batch, advice.threads) == (8, 1)
    assert advice.provider == row["recommended"] and advice.measured
    assert Model(path).manifest.replace(execution=None) == before  # nothing else changed
    refused = runner.invoke(main, ["bench", "-m", str(path), "--record", "--batch", "1"])
    assert refused.exit_code == 2 and "--record needs --openvino" in refused.stderr


def test_openvino_flag_without_the_extra_names_it(
    runner: CliRunner, models: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    _, dense = models
    monkeypatch.setitem(sys.modules, "openvino", None)
    result = runner.invoke(main, ["bench", "-m", str(dense), "--openvino", "--no-memory",
                                  "--seconds", "0", "--budget", "0.01", "--batch", "1"])
    assert result.exit_code == 2
    assert "--openvino" in result.stderr and "edgeae-runtime[openvino]" in result.stderr
