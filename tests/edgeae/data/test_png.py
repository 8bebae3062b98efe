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


def test_crops_of_images_of_any_size_are_grouped_by_image(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", _image(40, 30, 1))
    write_png(tmp_path / "b.png", _image(20, 64, 1))
    ds = load_source(f"{tmp_path}?crop=16&per_image=5")
    assert ds.x.shape == (10, 1, 16, 16) and ds.layout == "NCHW"
    assert ds.clips.tolist() == [0] * 5 + [1] * 5 and ds.clip_names == ("a.png", "b.png")
    a = read_png(tmp_path / "a.png")[..., 0].astype(np.float32)
    first = ds.x[0, 0]
    found = [
        (y, x) for y in range(40 - 15) for x in range(30 - 15)
        if np.array_equal(a[y : y + 16, x : x + 16], first)
    ]  # fmt: skip
    assert found  # a crop is a window of its image, unchanged
    again = load_source(f"{tmp_path}?crop=16&per_image=5")
    np.testing.assert_array_equal(again.x, ds.x)  # seeded: the source string says it all
    assert ds.fingerprint == again.fingerprint
    other = load_source(f"{tmp_path}?crop=16&per_image=5&seed=1")
    assert other.fingerprint != ds.fingerprint
    # by default twice each image's area in crops
    default = -(-2 * 40 * 30 // 256) + -(-2 * 20 * 64 // 256)
    assert len(load_source(f"{tmp_path}?crop=16")) == default


def test_one_image_crops_have_no_groups(tmp_path: Path) -> None:
    write_png(tmp_path / "one.png", _image(33, 35, 3))
    ds = load_source(f"{tmp_path / 'one.png'}?crop=8&per_image=7")
    assert ds.x.shape == (7, 3, 8, 8) and ds.clips is None


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("crop=1", "crop must be an integer 2..4096"),
        ("crop=16&per_image=0", "per_image must be an integer"),
        ("per_image=4", "need crop=N"),
        ("crop=16&rate=4", "unknown option 'rate'; this source takes"),
        ("crop=64", r"a\.png: image is 40x30, smaller than the 64x64 crops"),
    ],
)
def test_bad_crop_options_are_named(tmp_path: Path, query: str, fragment: str) -> None:
    write_png(tmp_path / "a.png", _image(40, 30, 1))
    with pytest.raises(DataError, match=fragment):
        load_source(f"{tmp_path}?{query}")


def test_crops_need_one_channel_count(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", _image(20, 20, 1))
    write_png(tmp_path / "b.png", _image(20, 20, 3))
    with pytest.raises(DataError, match=r"b\.png: image has 3 channel"):
        load_source(f"{tmp_path}?crop=8")


def test_a_crops_run_validates_on_whole_held_out_images(tmp_path: Path) -> None:
    from edgeae.train.config import TrainConfig
    from edgeae.train.prepare import prepare

    for name in "abcd":
        write_png(tmp_path / f"{name}.png", _image(24, 24, 1))
    ds = load_source(f"{tmp_path}?crop=8&per_image=10")
    data = prepare(ds, TrainConfig(val_fraction=0.25, batch_size=8))
    assert "(by file: 3 files train, 1 validate)" in data.split
    held_out = np.unique(data.val_clips)
    assert held_out.size == 1 and len(data.train_x) == 30 and len(data.val_x) == 10


def test_is_crop_source_names_crop_sources_only(tmp_path: Path) -> None:
    from edgeae.data.sources import is_crop_source

    write_png(tmp_path / "a.png", _image(8, 8, 1))
    assert is_crop_source(f"{tmp_path}?crop=4")
    assert is_crop_source(f"{tmp_path / 'a.png'}?crop=4&seed=1")
    assert not is_crop_source(str(tmp_path))  # whole images, no crops
    assert not is_crop_source(f"{tmp_path}?crop=x")  # malformed: loading names the option
    assert not is_crop_source("builtin:digits")
    assert not is_crop_source("mix:clean=a&noise=b")
