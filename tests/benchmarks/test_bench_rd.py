"""benchmarks/bench_rd.py without its data: a clear failure, not a half-empty result."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_rd


@pytest.fixture
def no_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """bench_rd with its images directory absent and its results file in ``tmp_path``."""
    missing = tmp_path / "shared" / "data" / "images"
    monkeypatch.setitem(bench_rd.NEEDS, "images", missing)
    monkeypatch.setattr(bench_rd, "RESULTS", tmp_path / "rd.json")

    def not_run(*args, **kwargs):
        raise AssertionError("a part ran")

    monkeypatch.setattr(bench_rd, "bench_digits", not_run)
    monkeypatch.setattr(bench_rd, "bench_images", not_run)
    return missing


def _main(monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setattr(sys, "argv", ["bench_rd.py", *argv])
    return bench_rd.main()


def test_missing_images_fail_before_anything_runs(
    no_images: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(monkeypatch, "--parts", "digits,images") == bench_rd.EXIT_MISSING != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert str(no_images) in err[0] and "--skip-missing" in err[0]
    assert not bench_rd.RESULTS.exists()  # nothing for run_all to assemble a section from


def test_skip_missing_runs_the_rest_and_keeps_the_stored_part(
    no_images: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench_rd.RESULTS.write_text(json.dumps({"images": {"stored": True}}))
    assert _main(monkeypatch, "--parts", "images", "--skip-missing", "--merge") == 0
    assert "images skipped (--skip-missing)" in capsys.readouterr().err
    assert json.loads(bench_rd.RESULTS.read_text())["images"] == {"stored": True}


def test_the_real_images_directory_is_what_the_part_needs() -> None:
    assert bench_rd.NEEDS["images"] == bench_rd.SHARED
    assert bench_rd.SHARED.parts[-3:] == ("shared", "data", "images")
