"""Array and table sources (.npy, .npz, .csv): layouts, memory mapping, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.data import load_source
from edgeae.errors import DataError


def _save(path: Path, arr: np.ndarray) -> str:
    np.save(path, arr)
    return str(path)


def test_npy_float32_is_memory_mapped(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).normal(size=(50, 12)).astype(np.float32)
    ds = load_source(_save(tmp_path / "a.npy", arr))
    assert isinstance(ds.x, np.memmap) or isinstance(ds.x.base, np.memmap)
    assert ds.layout == "NF" and ds.item_shape == (12,)
    np.testing.assert_array_equal(ds.x, arr)


def test_npy_other_dtype_converted_to_float32(tmp_path: Path) -> None:
    arr = np.arange(40, dtype=np.uint8).reshape(10, 4)
    ds = load_source(_save(tmp_path / "a.npy", arr))
    assert ds.x.dtype == np.float32
    np.testing.assert_array_equal(ds.x, arr)


@pytest.mark.parametrize(
    ("shape", "layout", "item_shape"),
    [
        ((5, 3, 64), "NCW", (3, 64)),
        ((5, 28, 28), "NCHW", (1, 28, 28)),
        ((5, 2, 8, 8), "NCHW", (2, 8, 8)),
    ],
)
def test_natural_layouts(tmp_path: Path, shape, layout: str, item_shape) -> None:
    ds = load_source(_save(tmp_path / "a.npy", np.zeros(shape, np.float32)))
    assert ds.layout == layout and ds.item_shape == item_shape


def test_layout_override(tmp_path: Path) -> None:
    path = _save(tmp_path / "a.npy", np.zeros((5, 28, 28), np.float32))
    assert load_source(path, layout="NCW").item_shape == (28, 28)
    assert load_source(path, layout="NF").item_shape == (784,)
    path2 = _save(tmp_path / "b.npy", np.zeros((5, 10), np.float32))
    assert load_source(path2, layout="NCW").item_shape == (1, 10)
    with pytest.raises(DataError, match="cannot be read as layout NCHW"):
        load_source(path2, layout="NCHW")


def test_one_dimensional_npy_is_a_signal(tmp_path: Path) -> None:
    sig = np.arange(1000, dtype=np.float32)
    ds = load_source(_save(tmp_path / "s.npy", sig), window=100, hop=25)
    assert ds.x.shape == (37, 1, 100) and ds.signal is not None
    np.testing.assert_array_equal(ds.x[5, 0], sig[125:225])


def test_two_dimensional_npy_with_window_is_channels_by_samples(tmp_path: Path) -> None:
    sig = np.arange(2000, dtype=np.float32).reshape(2, 1000)
    ds = load_source(_save(tmp_path / "s.npy", sig), window=200)
    assert ds.hop == 100 and ds.x.shape == (9, 2, 200)


def test_time_major_npy_signal_is_read_as_channels_by_samples(tmp_path: Path) -> None:
    """(samples, channels), as soundfile/wfdb/pandas store a recording, frames like its
    transpose: channels are the short axis."""
    sig = np.arange(2000, dtype=np.float32).reshape(2, 1000)
    a = load_source(_save(tmp_path / "cm.npy", sig), window=200)
    b = load_source(_save(tmp_path / "tm.npy", sig.T.copy()), window=200)
    np.testing.assert_array_equal(a.x, b.x)
    assert b.x.shape == (9, 2, 200)


def test_rate_option_gives_an_array_signal_its_sample_rate(tmp_path: Path) -> None:
    path = _save(tmp_path / "ecg.npy", np.zeros((3000, 3), np.float32))
    ds = load_source(f"{path}?rate=125", window=250, hop=125)
    assert ds.signal is not None and ds.x.shape == (23, 3, 250)
    assert ds.sample_rate == 125
    assert load_source(path, window=250).sample_rate is None


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("rate=abc", "rate must be a sample rate in Hz"),
        ("rate=0", "rate must be a sample rate in Hz"),
        ("fs=125", "unknown option 'fs'"),
        ("rate=1&rate=2", "option 'rate' is given twice"),
    ],
)
def test_bad_rate_option(tmp_path: Path, query: str, fragment: str) -> None:
    path = _save(tmp_path / "s.npy", np.zeros(1000, np.float32))
    with pytest.raises(DataError, match=fragment):
        load_source(f"{path}?{query}", window=100)


def test_rate_option_refused_for_wav(tmp_path: Path) -> None:
    from edgeae_runtime.audio import write_wav

    path = tmp_path / "a.wav"
    write_wav(path, np.zeros((1, 1600), np.float32), 16000)
    with pytest.raises(DataError, match="states its own rate"):
        load_source(f"{path}?rate=8000", window=100)


def test_limit_keeps_first_items_and_trims_signal(tmp_path: Path) -> None:
    items = _save(tmp_path / "a.npy", np.arange(60, dtype=np.float32).reshape(20, 3))
    assert load_source(items, limit=4).x.shape == (4, 3)
    sig = _save(tmp_path / "s.npy", np.arange(1000, dtype=np.float32))
    ds = load_source(sig, window=100, hop=50, limit=3)
    assert ds.x.shape == (3, 1, 100) and ds.signal is not None and ds.signal.shape == (1, 200)
    with pytest.raises(DataError, match="limit must be >= 1"):
        load_source(items, limit=0)


def test_npz_key_selection_and_companions(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    x = np.ones((6, 4), np.float32)
    np.savez(path, train=x, other=np.zeros(3), labels=np.arange(6), target=x * 2)
    ds = load_source(str(path), key="train")
    assert ds.name.endswith("d.npz[train]")
    np.testing.assert_array_equal(ds.labels, np.arange(6))
    np.testing.assert_array_equal(ds.target, x * 2)
    with pytest.raises(DataError, match=r"several arrays \(train, other, labels, target\)"):
        load_source(str(path))
    with pytest.raises(DataError, match=r"no array named 'nope'; the keys are: train, other"):
        load_source(str(path), key="nope")


def test_npz_single_array_needs_no_key(tmp_path: Path) -> None:
    np.savez(tmp_path / "one.npz", only=np.ones((3, 2)))
    assert load_source(str(tmp_path / "one.npz")).x.shape == (3, 2)


def test_npz_companion_with_wrong_shape(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.ones((6, 4)), labels=np.arange(5))
    with pytest.raises(DataError, match="'labels' has shape"):
        load_source(str(tmp_path / "d.npz"), key="x")


def test_csv_with_and_without_header(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    (tmp_path / "n.csv").write_text("1;2;3\n4;5;6\n7;8;9\n")
    h = load_source(str(tmp_path / "h.csv"))
    n = load_source(str(tmp_path / "n.csv"))
    np.testing.assert_array_equal(h.x, [[1, 2, 3], [4, 5, 6]])
    assert n.x.shape == (3, 3) and n.layout == "NF"


def test_csv_signal_columns_are_channels(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{-i}" for i in range(300))
    (tmp_path / "s.csv").write_text("left,right\n" + rows + "\n")
    ds = load_source(str(tmp_path / "s.csv"), window=100, hop=100)
    assert ds.x.shape == (3, 2, 100)
    np.testing.assert_array_equal(ds.x[1, 1], -np.arange(100, 200))


def test_csv_not_numeric(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(DataError, match=r"bad\.csv: not a numeric CSV"):
        load_source(str(tmp_path / "bad.csv"))


def test_nan_reports_count_and_first_position(tmp_path: Path) -> None:
    arr = np.zeros((10, 3, 4), np.float32)
    arr[7, 2, 1] = np.nan
    arr[8, 0, 0] = np.inf
    with pytest.raises(DataError, match=r"x\.npy: 2 NaN/Inf.*item 7, position \(2, 1\)"):
        load_source(_save(tmp_path / "x.npy", arr))


@pytest.mark.parametrize(
    ("name", "setup", "kwargs", "fragment"),
    [
        ("missing.npy", None, {}, "no such file"),
        ("data.txt", "text", {}, "unknown data format '.txt'"),
        ("empty.npy", "empty", {}, "no data"),
        ("five.npy", "5d", {}, "items must be"),
        ("win.npy", "3d", {"window": 4}, "already windows"),
        ("key.npy", "2d", {"key": "x"}, "--key applies to .npz"),
        ("short.npy", "1d", {"window": 500}, "longer than the signal"),
        ("hop.npy", "1d", {"window": 10, "hop": 20}, "hop must be between"),
        ("strs.npy", "str", {}, "must be numeric"),
        ("lay.npy", "2d", {"layout": "NCXW"}, "unknown layout"),
    ],
)
def test_bad_inputs(tmp_path: Path, name: str, setup, kwargs, fragment: str) -> None:
    path = tmp_path / name
    arrays = {
        "empty": np.zeros((0, 4), np.float32),
        "5d": np.zeros((1, 1, 1, 1, 1), np.float32),
        "3d": np.zeros((2, 3, 4), np.float32),
        "2d": np.zeros((2, 3), np.float32),
        "1d": np.zeros(100, np.float32),
        "str": np.array([["a", "b"]]),
    }
    if setup == "text":
        path.write_text("hello")
    elif setup is not None:
        np.save(path, arrays[setup])
    with pytest.raises(DataError, match=fragment) as info:
        load_source(str(path), **kwargs)
    assert name in str(info.value)
