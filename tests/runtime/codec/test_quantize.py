"""Latent code quantization: calibrated and per-frame schemes, and bit packing."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edgeae_runtime.codec import calibrate_codec
from edgeae_runtime.codec.quantize import (
    dequantize,
    dequantize_per_frame,
    pack_codes,
    quantize,
    quantize_per_frame,
    unpack_codes,
)

latents = hnp.arrays(
    np.float32,
    st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 6)),
    elements=st.floats(-100, 100, width=32),
)


@given(latents, st.sampled_from([4, 8, 16]))
def test_calibrated_codes_are_within_half_a_step(z: np.ndarray, bits: int) -> None:
    spec = calibrate_codec(z, bits)
    codes = quantize(z, spec.scale, spec.zero_point, bits)
    assert codes.min() >= 0 and codes.max() <= 2**bits - 1
    back = dequantize(codes, spec.scale, spec.zero_point)
    step = np.asarray(spec.scale, np.float32).reshape(1, -1, 1)
    assert np.all(np.abs(back - z) <= step * 0.5 + 1e-4 * (1 + np.abs(z)))


@given(latents, st.sampled_from([4, 8, 16]))
def test_per_frame_codes_are_within_half_a_step(z: np.ndarray, bits: int) -> None:
    low, step, codes = quantize_per_frame(z, bits)
    back = dequantize_per_frame(codes, low, step)
    err = np.abs(back - z).reshape(z.shape[0], -1).max(axis=1)
    assert np.all(err <= step * 0.5 + 1e-4 * (1 + np.abs(z).max()))


@given(st.sampled_from([4, 8, 16]), st.data())
def test_packing_round_trips(bits: int, data: st.DataObject) -> None:
    codes = data.draw(
        hnp.arrays(np.int64, st.integers(0, 50), elements=st.integers(0, 2**bits - 1))
    )
    packed = pack_codes(codes, bits)
    assert len(packed) == (codes.size * bits + 7) // 8
    assert np.array_equal(unpack_codes(packed, bits, codes.size), codes)


def test_constant_channel_is_exact() -> None:
    z = np.full((3, 2, 4), 0.3, np.float32)
    spec = calibrate_codec(z)
    back = dequantize(quantize(z, spec.scale, spec.zero_point, 8), spec.scale, spec.zero_point)
    np.testing.assert_allclose(back, z, rtol=1e-6)
