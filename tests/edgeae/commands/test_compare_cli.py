"""``edgeae compare``: the table, --json, --report, the verdict's exit code, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae.cli import main
from tests.export.compare_support import quantize_qdq
from tests.export.quantize.models import make_data
from tests.runtime.onnx_models import make_triplet

FAST = ["--no-memory", "--batch", "1,4"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("cli")
    a = make_triplet(d, "qdense")["autoencoder"]
    x = make_data("dense", 96)
    b = quantize_qdq(a, d / "model.int8.onnx", x)
    np.save(d / "items.npy", x)
    return a, b, d / "items.npy"


def _run(runner: CliRunner, *args: object) -> tuple[int, str, str]:
    result = runner.invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_table_output(runner: CliRunner, models: tuple[Path, Path, Path]) -> None:
    a, b, data = models
    code, out, err = _run(runner, "compare", a, b, "--data", data, *FAST)
    assert code == 0, err
    assert "PSNR (dB)" in out and "latency p50 b4" in out and "per-node error" in out
    assert out.strip().splitlines()[-1].startswith("NO BUDGET psnr drop")
    assert "compare: reconstructing 96 items" in err  # progress goes to stderr


def test_json_output(runner: CliRunner, models: tuple[Path, Path, Path]) -> None:
    a, b, data = models
    code, out, _ = _run(runner, "compare", a, b, "--data", data, "--json", *FAST)
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"a", "b", "verdict", "output_difference", "nodes", "notes", "items"}
    assert doc["a"]["quality"]["psnr"] > doc["b"]["quality"]["psnr"]
    assert doc["nodes"][0]["op_type"] == "Gemm"


def test_report_files(runner: CliRunner, models: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, data = models
    out_dir = tmp_path / "report"
    code, _, err = _run(runner, "compare", a, b, "--data", data, "-o", out_dir, *FAST)
    assert code == 0, err
    for name in ("report.md", "index.html", "errors.png", "examples.png", "nodes.png"):
        assert (out_dir / name).stat().st_size > 0, name


def test_verdict_exit_codes(runner: CliRunner, models: tuple[Path, Path, Path]) -> None:
    a, b, data = models
    code, out, _ = _run(runner, "compare", a, b, "--data", data, "--max-drop", "20", *FAST)
    assert code == 0 and out.strip().splitlines()[-1].startswith("PASS")
    code, out, _ = _run(runner, "compare", a, b, "--data", data, "--max-drop", "0", *FAST)
    assert code == 1 and out.strip().splitlines()[-1].startswith("FAIL")


def test_bad_inputs_one_line(
    runner: CliRunner, models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    a, b, data = models
    (tmp_path / "c").mkdir()
    other = make_triplet(tmp_path / "c", "qconv2d")["autoencoder"]
    junk = tmp_path / "junk.onnx"
    junk.write_text("nope")
    cases = [
        (["compare", a, other, "--data", data], "different inputs"),
        (["compare", a, b, "--data", tmp_path / "missing.npy"], "missing.npy"),
        (["compare", a, junk, "--data", data], "not a loadable ONNX model"),
        (["compare", tmp_path / "none.onnx", b, "--data", data], "no such model file"),
        (["compare", a, b, "--data", data, "--metric", "bogus"], "--metric"),
        (["compare", a, b, "--data", data, "--batch", "x"], "--batch"),
    ]
    for args, words in cases:
        code, out, err = _run(runner, args[0], *FAST, *args[1:])
        assert code != 0, args
        lines = [ln for ln in err.splitlines() if not ln.startswith("compare: ")]
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], err
        assert "Traceback" not in err + out
