"""Synthetic training noises: any length and rate, finite, seeded, the spectra they claim."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae.data.synthetic_noise import babble_noise, play_faster, rumble_noise, synthetic_noise


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(64, 12000),
    rate=st.sampled_from([8000, 16000, 22050, 48000]),
    seed=st.integers(0, 2**32 - 1),
    rumble=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_every_draw_is_finite_audible_and_seeded(
    n: int, rate: int, seed: int, rumble: float
) -> None:
    x = synthetic_noise(n, np.random.default_rng(seed), rate, rumble=rumble)
    assert x.shape == (n,) and x.dtype == np.float32 and np.isfinite(x).all()
    assert float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) > 1e-4
    y = synthetic_noise(n, np.random.default_rng(seed), rate, rumble=rumble)
    np.testing.assert_array_equal(x, y)


def test_rumble_is_low_frequency() -> None:
    rate = 16000
    for seed in range(5):
        x = rumble_noise(rate, np.random.default_rng(seed), rate)
        power = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(x.size, 1 / rate)
        assert power[f < 800].sum() > 0.8 * power.sum()


def test_play_faster_shifts_pitch_and_babble_has_unit_talkers() -> None:
    rate = 8000
    tone = np.sin(2 * np.pi * 300 * np.arange(rate) / rate).astype(np.float32)
    fast = play_faster(tone, 1.5)
    assert fast.size == int(rate / 1.5)
    spec = np.abs(np.fft.rfft(fast))
    assert np.argmax(spec) * rate / fast.size == pytest.approx(450, abs=3)
    pool = [tone, 0.01 * tone]  # quiet talkers are brought to unit RMS
    b = babble_noise(4000, np.random.default_rng(0), pool)
    rms = float(np.sqrt(np.mean(b.astype(np.float64) ** 2)))
    assert b.shape == (4000,) and 1.0 < rms < 7.5


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 20000),
    lengths=st.lists(st.integers(1, 30000), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_babble_is_n_finite_samples_of_talkers_of_any_length(
    n: int, lengths: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    pool = [np.sin(0.05 * np.arange(k) + i).astype(np.float32) + 1.5 for i, k in enumerate(lengths)]
    b = babble_noise(n, rng, pool)
    assert b.shape == (n,) and b.dtype == np.float32 and np.isfinite(b).all()
    assert b.min() > 0  # every sample holds the (positive) talkers: nothing zero-padded
