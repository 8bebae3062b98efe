"""PNG data for the host: folder and file sources, and DataError for bad files.

The decoder itself is the runtime's (tests/runtime/test_png.py); here it is seen
through ``edgeae.data``'s public names and loaders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.data import load_source, read_png, write_png
from edgeae.errors import DataError


def _image(h: int, w: int, c: int, dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top + 1, (h, w, c)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_host_names_round_trip(tmp_path: Path, dtype: type) -> None:
    img = _image(9, 7, 3, dtype)
    write_png(tmp_path / "a.png", img, filters=(0, 1, 2, 3, 4))
    out = read_png(tmp_path / "a.png")
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, img)


def test_host_names_raise_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"none\.png: no such file"):
        read_png(tmp_path / "none.png")
    with pytest.raises(DataError, match=r"x\.png: cannot write image"):
        write_png(tmp_path / "x.png", np.zeros((2, 2), np.float32))


def test_folder_source_is_nchw_in_raw_units(tmp_path: Path) -> None:
    imgs = [_image(6, 5, 3, seed=i) for i in range(4)]
    for i, img in enumerate(imgs):
        write_png(tmp_path / f"{i:02d}.png", img, filters=(i % 5,))
    (tmp_path / "README.txt").write_text("not an image")
    ds = load_source(str(tmp_path))
    assert ds.layout == "NCHW" and ds.x.shape == (4, 3, 6, 5) and ds.x.dtype == np.float32
    np.testing.assert_array_equal(ds.x[2], np.moveaxis(imgs[2], -1, 0))
    assert load_source(str(tmp_path), layout="NF").x.shape == (4, 90)


def test_single_png_file_is_one_item(tmp_path: Path) -> None:
    write_png(tmp_path / "one.png", _image(4, 4, 1))
    assert load_source(str(tmp_path / "one.png")).x.shape == (1, 1, 4, 4)


def test_inconsistent_sizes_name_the_file(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", _image(6, 5, 1))
    write_png(tmp_path / "b.png", _image(6, 6, 1))
    with pytest.raises(DataError, match=r"b\.png.*6x6.*a\.png is 6x5"):
        load_source(str(tmp_path))


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no \.png images"):
        load_source(str(tmp_path))


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda b: b"GIF89a" + b[6:], "not a PNG"),
        (lambda b: b[:40], "truncated"),
    ],
    ids=["signature", "truncated"],
)
def test_corrupted_png_is_a_data_error(tmp_path: Path, mutate, fragment: str) -> None:
    """The runtime's decoder errors (every kind: tests/runtime/test_png.py) reach the host
    as DataError naming the file."""
    write_png(tmp_path / "ok.png", _image(8, 8, 1))
    (tmp_path / "bad.png").write_bytes(mutate((tmp_path / "ok.png").read_bytes()))
    with pytest.raises(DataError, match=fragment) as info:
        load_source(str(tmp_path / "bad.png"))
    assert "bad.png" in str(info.value)
