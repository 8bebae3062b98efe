"""THE sample of items (edgeae_export.sampling): in range, distinct, rising, seeded, spread."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_export import CalibrationError
from edgeae_export.sampling import sample_indices, sample_items


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 20_000), size=st.integers(1, 600), seed=st.integers(0, 2**32 - 1))
def test_sample_indices_law(n: int, size: int, seed: int) -> None:
    """min(n, size) distinct rising indices in range, the same for the same seed, and
    every one of the ``size`` equal stretches of the data holds exactly one of them."""
    picked = sample_indices(n, size, seed)
    assert picked.dtype == np.int64 and picked.size == min(n, size)
    assert np.all(np.diff(picked) > 0)  # distinct and rising
    assert picked.size == 0 or (picked[0] >= 0 and picked[-1] < n)
    np.testing.assert_array_equal(picked, sample_indices(n, size, seed))
    if n <= size:
        np.testing.assert_array_equal(picked, np.arange(n))
        return
    edges = np.arange(size + 1) * n // size  # the size equal stretches [edges[i], edges[i+1])
    stretch = np.searchsorted(edges, picked, side="right") - 1
    np.testing.assert_array_equal(stretch, np.arange(size))
    assert np.max(np.diff(np.r_[-1, picked, n])) <= 2 * (-(-n // size))  # no part left out


def test_sample_is_seeded_and_not_a_stride() -> None:
    a, b = sample_indices(10_000, 200, 7), sample_indices(10_000, 200, 8)
    assert not np.array_equal(a, b)
    assert np.unique(np.diff(a)).size > 10  # not in step with a period of the data


def test_sample_items_are_the_sampled_rows_as_float32() -> None:
    x = np.arange(1000, dtype=np.float64)[:, None] * np.ones((1, 3))
    picked = sample_items(x, 100)
    assert picked.dtype == np.float32 and picked.shape == (100, 3)
    np.testing.assert_array_equal(picked, x[sample_indices(1000, 100)])
    assert picked[:, 0].min() < 10 and picked[:, 0].max() >= 990  # the whole array, not x[:100]
    np.testing.assert_array_equal(sample_items(x[:10], 100), x[:10])  # fewer: all, in order


def test_sample_indices_refuses_a_bad_size() -> None:
    with pytest.raises(CalibrationError) as err:
        sample_indices(10, 0)
    assert err.value.param == "size"
