"""Deterministic splits, and normal-only splits for anomaly training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeae.data import normal_split, split_indices
from edgeae.errors import DataError


@given(st.integers(2, 500), st.floats(0.0, 0.9), st.integers(0, 2**32 - 1))
def test_split_is_a_disjoint_cover_and_deterministic(n: int, frac: float, seed: int) -> None:
    train, val = split_indices(n, frac, seed)
    assert not set(train) & set(val)
    assert sorted([*train, *val]) == list(range(n))
    again = split_indices(n, frac, seed)
    np.testing.assert_array_equal(train, again[0])
    np.testing.assert_array_equal(val, again[1])


def test_seed_changes_the_split() -> None:
    assert not np.array_equal(split_indices(100, 0.2, 0)[1], split_indices(100, 0.2, 1)[1])


def test_contiguous_split_leaves_a_gap() -> None:
    train, val = split_indices(100, 0.2, contiguous=True, gap=3)
    assert val.tolist() == list(range(80, 100))
    assert train.tolist() == list(range(77))


def test_bad_fraction() -> None:
    with pytest.raises(DataError, match="val_fraction"):
        split_indices(10, 1.0)


def test_normal_split_uses_only_the_clean_prefix() -> None:
    labels = np.array([0] * 50 + [1] * 5 + [0] * 20 + [3] * 5)
    train, calib = normal_split(labels, 0.2, seed=0)
    both = np.concatenate([train, calib])
    assert (labels[both] == 0).all() and both.max() < 50
    assert len(calib) == 10 and not set(train) & set(calib)
    near = np.concatenate(normal_split(labels, 0.2, gap=3))
    assert near.max() == 46
    everything = np.concatenate(normal_split(labels, 0.2, prefix_only=False))
    assert sorted(everything) == np.flatnonzero(labels == 0).tolist()


def test_normal_split_needs_normal_items() -> None:
    with pytest.raises(DataError, match="normal"):
        normal_split(np.array([1, 0, 0]), 0.2)
