"""Calibration readers pull lazily, cap the items read, and name the source on a bad shape."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_export import CalibrationError, CalibrationSource
from edgeae_export.sampling import sample_indices
from edgeae_runtime.manifest import Preprocessing


def test_reader_pulls_lazily_and_caps() -> None:
    pulled = []

    def items() -> Iterator[np.ndarray]:
        for i in range(10_000):
            pulled.append(i)
            yield np.full((4,), i, np.float32)

    src = CalibrationSource(items(), item_shape=(4,), max_items=10, name="gen")
    reader = src.reader("input", Preprocessing(offset=(1.0,), scale=(2.0,)), batch_size=4)
    assert pulled == []  # nothing read before the quantizer asks
    first = reader.get_next()
    assert first is not None and first["input"].shape == (4, 4)
    assert len(pulled) <= 5
    np.testing.assert_allclose(first["input"][:, 0], (np.arange(4) - 1.0) / 2.0)
    rest = []
    while (b := reader.get_next()) is not None:
        rest.append(b["input"].shape[0])
    assert rest == [4, 4] and len(pulled) <= 11  # the last batch is topped up to 4 items
    # a second pass replays the cached (capped) items without reading further
    again = src.reader("input", None, batch_size=10).get_next()
    assert again is not None and again["input"].shape == (10, 4) and len(pulled) <= 11


def test_array_source_slices_without_copying_all() -> None:
    x = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), (10**7, 8), (0, 0))
    src = CalibrationSource(x, item_shape=(8,), max_items=100)
    sizes = [b.shape[0] for b in src.batches(64)]
    assert sizes == [64, 36] and src.items_read == 100


def test_callable_source_is_fresh_each_pass() -> None:
    calls = []

    def make() -> list[np.ndarray]:
        calls.append(1)
        return [np.zeros((3, 2), np.float32)] * 3

    src = CalibrationSource(make, item_shape=(2,), max_items=5)
    assert [b.shape[0] for b in src.batches(2)] == [2, 2, 1]
    assert [b.shape[0] for b in src.batches(8)] == [5]
    assert len(calls) == 2


@pytest.mark.parametrize(
    "data", [np.zeros((5, 3), np.float32), [np.zeros((2, 7), np.float32)], [np.zeros(9)]]
)
def test_wrong_shape_names_expected_actual_and_source(data) -> None:
    src = None
    with pytest.raises(
        CalibrationError, match=r"mydata\.npy: items have shape .* item shape \(4,\)"
    ):
        src = CalibrationSource(data, item_shape=(4,), name="mydata.npy")
        list(src.batches())
    assert src is None or src.items_read == 0


def test_empty_source() -> None:
    with pytest.raises(CalibrationError, match="no items"):
        list(CalibrationSource(iter([]), item_shape=(2,)).batches())


@settings(max_examples=40, deadline=None)
@given(
    chunks=st.lists(st.integers(1, 9), min_size=1, max_size=8),
    batch=st.integers(1, 7),
    cap=st.integers(1, 40),
)
def test_rebatching_keeps_order_and_count(chunks, batch, cap) -> None:
    arrays, start = [], 0
    for n in chunks:
        arrays.append(np.arange(start, start + n, dtype=np.float32)[:, None])
        start += n
    src = CalibrationSource(iter(arrays), item_shape=(1,), max_items=cap)
    out = list(src.batches(batch))
    flat = np.concatenate(out)[:, 0]
    assert all(b.shape[0] <= batch for b in out)
    np.testing.assert_array_equal(flat, np.arange(min(cap, start), dtype=np.float32))


def test_reader_batches_all_have_one_size() -> None:
    """A short last batch is topped up with the first items (histogram calibrators stack them)."""
    x = np.arange(70, dtype=np.float32).reshape(70, 1)
    reader = CalibrationSource(x, item_shape=(1,), name="x").reader("input", None, batch_size=32)
    batches = []
    while (feed := reader.get_next()) is not None:
        batches.append(feed["input"])
    assert [b.shape[0] for b in batches] == [32, 32, 32]
    np.testing.assert_array_equal(np.concatenate(batches)[:70, 0], np.arange(70))
    np.testing.assert_array_equal(batches[-1][6:, 0], np.arange(26))


def test_array_source_samples_the_whole_array_not_its_start() -> None:
    # items ordered in time: the first half all 0, the second half all 1 (a signal whose
    # loud stretch comes last); calibrating on the first items would never see a 1
    x = np.repeat(np.arange(2, dtype=np.float32), 5000)[:, None].repeat(3, axis=1)
    src = CalibrationSource(x, item_shape=(3,), max_items=200, seed=7)
    seen = np.concatenate(list(src.batches(64)))
    assert seen.shape == (200, 3) and src.items_read == 200
    assert 0.35 < seen[:, 0].mean() < 0.65  # both halves, in proportion
    again = np.concatenate(
        list(CalibrationSource(x, item_shape=(3,), max_items=200, seed=7).batches(50))
    )
    np.testing.assert_array_equal(seen, again)  # seeded: the same sample every pass
    other = np.concatenate(
        list(CalibrationSource(x, item_shape=(3,), max_items=200, seed=8).batches(64))
    )
    assert other.shape == seen.shape
    assert not np.array_equal(sample_indices(10_000, 200, 7), sample_indices(10_000, 200, 8))
