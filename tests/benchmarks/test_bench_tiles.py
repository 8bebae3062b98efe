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


def test_lambdas_give_models_with_their_own_epochs() -> None:
    assert bench_tiles.parse_models("0.03,0.01,0.002", None) == [
        (0.03, None),
        (0.01, None),
        (0.002, None),
    ]
    assert bench_tiles.parse_models("0.01, 0.01@90", 60) == [(0.01, 60), (0.01, 90)]
    for bad in ("0.01,0.01", "0", "0.01@0", "x"):
        with pytest.raises(ValueError):
            bench_tiles.parse_models(bad, None)


def test_runs_at_other_epochs_do_not_take_the_recipes_name() -> None:
    base = bench_tiles.IMAGE_RECIPE["train"]
    assert bench_tiles.run_name(None, base) == "images"  # bench_rd.py's run, reusable
    assert bench_tiles.run_name(base.epochs, base) == "images"
    assert bench_tiles.run_name(90, base) == "images-e90"


def _fake_run(lam: float, epochs: int, psnr: float) -> dict:
    cell = {"bytes": 100, "bpp": 0.25, "psnr_db": psnr, "jpeg_psnr_db": 30.0}
    row = {"image": "coins", "shape": [64, 64], "tiles": 1, "modes": {"latent map": cell}}
    total = {"latent map": {**cell, "gain_db": psnr - 30.0}}
    return {"lambda": lam, "epochs": epochs, "train_steps": 10800, "run_train_seconds": 624.5,
            "test_images": ["coins"], "rows": [row], "total": total}  # fmt: skip


def test_curve_and_photo_tables_have_a_row_or_column_per_model() -> None:
    runs = [_fake_run(0.03, 30, 29.0), _fake_run(0.01, 90, 31.5)]
    curve = bench_tiles.curve_table(runs).splitlines()
    row = "| recipe | 0.03 | 30 | 10800 | 624 | latent map | 100 | 0.250 | 29.00 | 30.00 | -1.00 |"
    assert row in curve
    row = "| recipe | 0.01 | 90 | 10800 | 624 | latent map | 100 | 0.250 | 31.50 | 30.00 | +1.50 |"
    assert row in curve
    photos = bench_tiles.photo_table(runs)
    assert "lambda 0.01, 90 epochs" in photos
    assert "| coins | 0.250 / 29.00 / -1.00 | 0.250 / 31.50 / +1.50 |" in photos


def test_model_override_names_its_run():
    model = bench_tiles.parse_model('{"hidden": [32, 64, 64], "latent": 16}')
    assert model == {"hidden": (32, 64, 64), "latent": 16}
    base = bench_tiles.IMAGE_RECIPE["train"]
    assert bench_tiles.run_name(None, base, model) == "images-h32.64.64-l16"
    assert bench_tiles.run_name(90, base, model) == "images-e90-h32.64.64-l16"
    # the recipe's own model keeps bench_rd.py's name (its runs are reused)
    assert bench_tiles.run_name(None, base, dict(bench_tiles.IMAGE_RECIPE["model"])) == "images"
    for bad in ("[16]", "{}", "latent=16"):
        with pytest.raises(ValueError):
            bench_tiles.parse_model(bad)


def _res(run: str, points: list[tuple[float, float]]) -> dict:
    cells = [{"bytes": 0, "bpp": b, "psnr_db": p} for b, p in points]
    return {
        "run": run,
        "lambda": 0.0,
        "rows": [{"image": f"p{i}", "modes": {"latent map": c}} for i, c in enumerate(cells)],
        "total": {"latent map": cells[0]},
    }


def test_vs_recipe_interpolates_and_extends_the_recipes_curve():
    recipe = [
        _res("images", [(0.1, 30.0), (1.0, 40.0)]),
        _res("images", [(0.2, 32.0), (2.0, 42.0)]),
    ]
    # photo 0: 0.15 bpp between the recipe's 0.1 (30) and 0.2 (32): 31; photo 1: 3.0 bpp beyond
    # 2.0, the segment 1.0 (40) - 2.0 (42) extended: 44
    rows = bench_tiles.vs_recipe([_res("images-l16", [(0.15, 31.5), (3.0, 43.0)])], recipe)
    assert rows[0]["photos"]["p0"] == pytest.approx(0.5)
    assert rows[0]["photos"]["p1"] == pytest.approx(-1.0)
    assert rows[0]["extrapolated"] == ["p1"]
    assert "(-1.00)" in bench_tiles.vs_recipe_table(rows, recipe)
