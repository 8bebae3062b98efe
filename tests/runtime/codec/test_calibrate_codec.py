"""calibrate_codec: per-channel 8-bit codes for latents, fitted on data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edgeae_runtime import CodecSpec, InputError
from edgeae_runtime.codec import calibrate_codec

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)
shapes = hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5)


def _codes(z: np.ndarray, codec: CodecSpec) -> np.ndarray:
    shape = (1, -1) + (1,) * (z.ndim - 2)
    scale = np.asarray(codec.scale).reshape(shape)
    zp = np.asarray(codec.zero_point).reshape(shape)
    return np.round(z / scale) + zp


@settings(max_examples=60, deadline=None)
@given(
    z=hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5),
        elements=finite,
    )
)
def test_codes_of_the_calibration_data_fit_and_round_trip(z: np.ndarray) -> None:
    codec = calibrate_codec(z)
    assert len(codec.scale) == len(codec.zero_point) == z.shape[1]
    codes = _codes(z.astype(np.float64), codec)
    assert codes.min() >= 0 and codes.max() <= 255
    shape = (1, -1) + (1,) * (z.ndim - 2)
    scale = np.asarray(codec.scale).reshape(shape)
    decoded = (codes - np.asarray(codec.zero_point).reshape(shape)) * scale
    assert np.all(np.abs(decoded - z) <= scale / 2 * (1 + 1e-6) + 1e-9)


def test_zero_is_coded_exactly_and_constant_channels_work() -> None:
    z = np.stack([np.linspace(0.5, 2.0, 10), np.zeros(10), np.full(10, -3.0)], axis=1)
    codec = calibrate_codec(z)
    assert codec.scale[1] == 1.0  # an all-zero channel
    codes = _codes(np.zeros((1, 3)), codec)
    decoded = (codes - np.asarray(codec.zero_point)) * np.asarray(codec.scale)
    assert np.all(decoded == 0)


def test_percentile_narrows_the_range_for_outliers() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2000, 2))
    z[0, 0] = 1000.0
    assert calibrate_codec(z, percentile=99.5).scale[0] < calibrate_codec(z).scale[0] / 50


@pytest.mark.parametrize(
    ("z", "kwargs", "match"),
    [
        (np.zeros(4), {}, "needs a batch"),
        (np.zeros((0, 3)), {}, "needs a batch"),
        (np.array([[np.nan, 1.0]]), {}, "NaN"),
        (np.zeros((2, 2)), {"bits": 7}, "bits must be"),
        (np.zeros((2, 2)), {"percentile": 20.0}, "percentile"),
    ],
)
def test_bad_input(z: np.ndarray, kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        calibrate_codec(z, **kwargs)
