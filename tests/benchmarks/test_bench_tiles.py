"""benchmarks/bench_tiles.py: its law of tile-border pixels, and its exit without data."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_tiles


def test_border_pixels_are_those_next_to_inner_tile_edges() -> None:
    mask = bench_tiles.border_mask((128, 100), tile=64)
    # inner edges: rows 62..65, columns 62..65 (the image's own edges are not tile borders)
    rows = np.zeros(128, bool)
    rows[62:66] = True
    cols = np.zeros(100, bool)
    cols[62:66] = True
    np.testing.assert_array_equal(mask, rows[:, None] | cols[None, :])
    assert not bench_tiles.border_mask((64, 64), tile=64).any()


def test_ratio_is_one_for_uniform_error_and_grows_with_blocking() -> None:
    rng = np.random.default_rng(0)
    img = rng.random((128, 128)) * 255
    noisy = img + rng.standard_normal(img.shape)
    assert bench_tiles.border_ratio(img, noisy) == pytest.approx(1.0, rel=0.15)
    blocky = noisy + 5.0 * bench_tiles.border_mask(img.shape)
    assert bench_tiles.border_ratio(img, blocky) > 10


def test_without_the_photos_it_exits_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bench_tiles, "SHARED", tmp_path / "absent")
    monkeypatch.setattr(sys, "argv", ["bench_tiles.py"])
    assert bench_tiles.main() == bench_tiles.EXIT_MISSING
