"""Dataset basics: batches in bounded memory, fingerprints, item shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.data import Dataset, batches, load_source
from edgeae.errors import DataError


def test_batches_cover_every_item_as_float32_copies(tmp_path: Path) -> None:
    arr = np.arange(70, dtype=np.float32).reshape(35, 2)
    np.save(tmp_path / "a.npy", arr)
    ds = load_source(str(tmp_path / "a.npy"))
    got = list(batches(ds, 8))
    assert [len(b) for b in got] == [8, 8, 8, 8, 3]
    assert all(b.dtype == np.float32 and b.flags.c_contiguous and b.flags.writeable for b in got)
    np.testing.assert_array_equal(np.concatenate(got), arr)
    assert not any(np.shares_memory(b, ds.x) for b in got)


def test_batches_of_window_views_and_indices() -> None:
    ds = load_source("builtin:tones?seconds=2")
    idx = np.array([5, 1, 9])
    (batch,) = list(batches(ds, 10, indices=idx))
    np.testing.assert_array_equal(batch, np.asarray(ds.x)[idx])
    with pytest.raises(DataError, match="batch_size"):
        next(batches(ds, 0))


def test_fingerprint_depends_on_data_and_options_not_path(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    np.save(tmp_path / "a.npy", arr)
    np.save(tmp_path / "b.npy", arr)
    arr[3, 1] += 1e-3
    np.save(tmp_path / "c.npy", arr)
    a, b, c = (load_source(str(tmp_path / f"{n}.npy")) for n in "abc")
    assert a.fingerprint.startswith("sha256:") and len(a.fingerprint) == 7 + 64
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert load_source(str(tmp_path / "a.npy"), limit=5).fingerprint != a.fingerprint


def test_dataset_item_shape_and_len() -> None:
    ds = Dataset(name="t", x=np.zeros((4, 3, 5), np.float32), layout="NCW", fingerprint="x")
    assert ds.item_shape == (3, 5) and len(ds) == 4


def test_class_labels_are_not_anomaly_labels() -> None:
    digits = load_source("builtin:digits")
    assert digits.labels is not None and digits.anomaly_labels is None
    sensor = load_source("builtin:sensor?seconds=60")
    assert sensor.anomaly_labels is not None
    assert sensor.anomaly_labels.shape == (len(sensor),)
    assert set(np.unique(sensor.anomaly_labels)) >= {0, 1}


def test_framed_means_windows_of_one_signal(tmp_path: Path) -> None:
    """Windows cut from a signal at a hop are framed; plain items are not."""
    tones = load_source("builtin:tones?seconds=2")
    assert tones.framed and tones.window and tones.hop
    start = 3 * int(tones.hop)
    window = np.asarray(tones.signal)[..., start : start + int(tones.window)]
    np.testing.assert_array_equal(np.asarray(tones.x)[3].reshape(window.shape), window)
    np.save(tmp_path / "a.npy", np.zeros((4, 3), np.float32))
    assert not load_source(str(tmp_path / "a.npy")).framed
