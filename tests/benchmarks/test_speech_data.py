"""The speech trainer's noise augmentation (benchmarks/speech_data.py): what it draws, and
that the default law (what validation uses) is untouched by it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from speech_data import RATE, MixLaw, SpeechCorpus, rumble_noise


def _corpus(law: MixLaw) -> SpeechCorpus:
    rng = np.random.default_rng(0)
    t = np.arange(2 * RATE) / RATE
    voice = (0.2 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    hiss = (0.05 * rng.standard_normal(3 * RATE)).astype(np.float32)
    return SpeechCorpus([voice, voice[::-1].copy()], [voice], [hiss], ["a", "b"], ["n"], law)


def test_rumble_is_low_frequency_noise() -> None:
    x = rumble_noise(RATE, np.random.default_rng(1))
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / RATE)
    assert x.dtype == np.float32 and x.shape == (RATE,)
    assert power[f < 500].sum() > 0.5 * power.sum()


def test_default_law_draws_no_augmentation() -> None:
    """Zero shares take no random draws: the default mixtures are the ones before the
    augmentation existed (validation compares runs on identical data)."""
    plain = _corpus(MixLaw()).mixtures(6, 4000, seed=7)
    zero = _corpus(MixLaw(rumble=0.0, noise_eq=0.0, noise_pair=0.0)).mixtures(6, 4000, seed=7)
    np.testing.assert_array_equal(plain[0], zero[0])


@pytest.mark.parametrize("share", [0.5, 1.0])
def test_augmented_mixtures_stay_in_range(share: float) -> None:
    law = MixLaw(rumble=share, noise_eq=share, noise_pair=share)
    noisy, clean = _corpus(law).mixtures(8, 4000, seed=9)
    plain, _ = _corpus(MixLaw()).mixtures(8, 4000, seed=9)
    assert noisy.shape == clean.shape == (8, 4000)
    assert np.isfinite(noisy).all() and np.abs(noisy).max() <= 0.99 + 1e-6
    assert not np.allclose(noisy, plain)
