"""On-the-fly mixing: SNR law, gain, offsets, fresh mixtures per epoch, seeded, split by file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae.data.corpus import SegmentDataset, Utterance
from edgeae.data.mixing import (
    MixCorpus,
    MixOptions,
    add_second_noise,
    mix_at_snr,
    random_eq,
    scale_to_level,
)
from edgeae.errors import DataError
from edgeae_runtime.metrics import snr_db
from tests.edgeae.data.speech_files import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> MixCorpus:
    clean, noise = write_corpus(tmp_path_factory.mktemp("mix"), n_clean=5, n_noise=3)
    return MixCorpus.from_folders(clean, noise, 16000, options=MixOptions(val_fraction=0.4))


def test_mix_at_snr_is_exact() -> None:
    rng = np.random.default_rng(0)
    clean, noise = rng.standard_normal(1000), rng.standard_normal(1000)
    for snr in (-5.0, 0.0, 12.5):
        assert snr_db(clean, mix_at_snr(clean, noise, snr)) == pytest.approx(snr, abs=1e-4)
    # Against a given reference power (the whole file's), not the segment's.
    mixed = mix_at_snr(clean, noise, 0.0, clean_power=4.0)
    assert np.mean((mixed - clean) ** 2) == pytest.approx(4.0, rel=1e-4)
    np.testing.assert_array_equal(mix_at_snr(clean, np.zeros(1000), 0.0), clean.astype(np.float32))


def test_scale_to_level_and_peak_guard() -> None:
    x = np.sin(np.linspace(0, 100, 2000))
    n, c = scale_to_level(x, 0.5 * x, -20.0)
    assert 20 * np.log10(np.sqrt(np.mean(n**2))) == pytest.approx(-20.0, abs=1e-3)
    np.testing.assert_allclose(c, 0.5 * n, atol=1e-7)  # noisy and clean scaled together
    loud, _ = scale_to_level(x, x, -1.0)  # RMS -1 dBFS would clip a sine: held at 0.99 peak
    assert np.max(np.abs(loud)) == pytest.approx(0.99, abs=1e-6)


def test_split_is_by_file_and_disjoint(corpus: MixCorpus) -> None:
    train, val = set(corpus.train_files()), set(corpus.validation_files())
    assert train and val and not train & val
    assert train | val == {f"u{i}.wav" for i in range(5)}
    tn, vn = set(corpus.noise_files(False)), set(corpus.noise_files(True))
    assert tn and vn and not tn & vn  # 3 noise files: noise is held out by file too


def test_training_segments_fresh_per_epoch_and_reproducible(corpus: MixCorpus) -> None:
    ds = corpus.train_set(4000, length=6)
    assert isinstance(ds, SegmentDataset) and len(ds) == 6
    noisy, clean = ds[0]
    assert noisy.shape == clean.shape == (1, 4000) and noisy.dtype == np.float32
    first = ds.arrays()
    ds.set_epoch(1)
    second = ds.arrays()
    assert not np.array_equal(first[0], second[0])
    ds.set_epoch(0)
    again = corpus.train_set(4000, length=6).arrays()
    np.testing.assert_array_equal(first[0], again[0])  # same seed, same epoch: same mixture
    np.testing.assert_array_equal(ds[3][0], first[0][3])  # any order, any worker


def test_training_never_draws_validation_files() -> None:
    rate = 8000
    t = np.arange(rate) / rate
    # File i is a pure tone at 250 * (i + 1) Hz: a segment's peak frequency names its file.
    clean = [Utterance(f"f{i}", np.sin(2 * np.pi * 250 * (i + 1) * t).astype(np.float32))
             for i in range(6)]  # fmt: skip
    noise = [Utterance("n", np.zeros(rate, np.float32))]
    c = MixCorpus(clean, noise, rate, options=MixOptions(val_fraction=0.34))
    val = {int(n[1:]) for n in c.validation_files()}

    def files(ds: SegmentDataset) -> set[int]:
        found = set()
        for i in range(len(ds)):
            spec = np.abs(np.fft.rfft(ds[i][1][0]))
            found.add(round(np.argmax(spec) * rate / ds.segment / 250) - 1)
        return found

    assert files(c.train_set(2000, length=40)).isdisjoint(val)
    assert files(c.validation_set(2000, length=20)) <= val


def test_snr_and_level_ranges_hold(corpus: MixCorpus) -> None:
    o = MixOptions(snr_db=(3.0, 3.0), level_db=(-30.0, -30.0), val_fraction=0.4)
    fixed = MixCorpus(corpus.clean, corpus.noise, 16000, options=o)
    for noisy, _clean in (fixed.train_set(16000, length=4)[i] for i in range(4)):
        assert 20 * np.log10(np.sqrt(np.mean(noisy**2))) == pytest.approx(-30.0, abs=0.01)
        assert np.max(np.abs(noisy)) <= 0.99 + 1e-6


def test_validation_is_frozen_and_held_out(corpus: MixCorpus) -> None:
    val = corpus.validation_set(4000, length=5)
    a = val.arrays()
    val.set_epoch(7)
    np.testing.assert_array_equal(a[0], val.arrays()[0])
    pairs = corpus.validation_pairs()
    assert len(pairs) == len(corpus.validation_files()) * 3
    for p in pairs:
        assert p.noisy.shape == p.clean.shape
        assert snr_db(p.clean, p.noisy) == pytest.approx(p.snr_db, abs=0.01)
        assert p.name.split("+")[0] in corpus.validation_files()
    again = corpus.validation_pairs()
    np.testing.assert_array_equal(pairs[-1].noisy, again[-1].noisy)


def test_one_noise_file_is_shared_and_bad_options_fail(tmp_path: Path) -> None:
    clean, noise = write_corpus(tmp_path, n_clean=2, n_noise=1)
    c = MixCorpus.from_folders(clean, noise)
    assert c.noise_files(False) == c.noise_files(True) == ["n0.wav"]
    with pytest.raises(DataError, match="snr_db must be a range"):
        MixCorpus.from_folders(clean, noise, options=MixOptions(snr_db=(10.0, 0.0)))
    with pytest.raises(DataError, match="cannot be split by file"):
        MixCorpus(c.clean[:1], c.noise, 16000)
    with pytest.raises(DataError, match="held-out file"):
        MixCorpus(c.clean, c.noise, 16000, val_clean=["missing.wav"])


def test_training_noise_is_read_at_a_random_speed_validation_as_recorded() -> None:
    """A 1 kHz noise tone read at 1.5x sounds at 1.5 kHz in training, at 1 kHz in validation."""
    rate = 8000
    t = np.arange(4 * rate) / rate
    clean = [Utterance(f"c{i}", (0.1 * np.sin(2 * np.pi * 200 * t)).astype(np.float32))
             for i in range(3)]  # fmt: skip
    noise = [Utterance("tone", np.sin(2 * np.pi * 1000 * t).astype(np.float32))]
    c = MixCorpus(clean, noise, rate, options=MixOptions(noise_speed=(1.5, 1.5), val_fraction=0.34,
                                                synthetic=0.0, babble=0.0))  # fmt: skip

    def peak_hz(noisy: np.ndarray, ref: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(noisy.ravel() - ref.ravel()))
        return float(np.argmax(spec) * rate / noisy.size)

    train = c.train_set(4000, length=3)
    assert all(peak_hz(*train[i]) == pytest.approx(1500, abs=4) for i in range(3))
    val = c.validation_set(4000, length=2)
    assert all(peak_hz(*val[i]) == pytest.approx(1000, abs=4) for i in range(2))
    with pytest.raises(DataError, match="noise_speed"):
        MixCorpus(clean, noise, rate, options=MixOptions(noise_speed=(0.1, 1.0)))


def test_equalize_keeps_length_and_changes_the_spectrum() -> None:
    x = np.random.default_rng(2).standard_normal(4000).astype(np.float32)
    y = random_eq(x, np.random.default_rng(3), 16000)
    assert y.shape == x.shape and np.isfinite(y).all()
    assert not np.allclose(np.abs(np.fft.rfft(y)), np.abs(np.fft.rfft(x)), rtol=0.05)


def test_noise_augmentation_is_training_only_and_off_when_zero(corpus: MixCorpus) -> None:
    """EQ and noise pairs change training noise only; zero shares draw nothing (the mixtures
    are the plain ones), and the shares are checked."""
    o = corpus.options
    plain = MixCorpus(corpus.clean, corpus.noise, 16000,
                      options=dataclasses.replace(o, noise_eq=0.0, noise_pair=0.0))  # fmt: skip
    augmented = MixCorpus(corpus.clean, corpus.noise, 16000,
                          options=dataclasses.replace(o, noise_eq=1.0, noise_pair=1.0))  # fmt: skip
    a, b = plain.train_set(4000, length=3).arrays(), augmented.train_set(4000, length=3).arrays()
    assert not np.allclose(a[0], b[0])
    for ca, cb in zip(a[1], b[1], strict=True):  # the same clean segments (levels differ)
        assert abs(np.corrcoef(ca.ravel(), cb.ravel())[0, 1]) > 0.999
    va = plain.validation_set(4000, length=3).arrays()
    vb = augmented.validation_set(4000, length=3).arrays()
    np.testing.assert_array_equal(va[0], vb[0])
    with pytest.raises(DataError, match="noise_eq"):
        MixCorpus(corpus.clean, corpus.noise, 16000, options=MixOptions(noise_eq=1.5))


def test_synthetic_and_babble_replace_recorded_noise_in_training_only() -> None:
    """With synthetic=1 the training noise is never the recording (a 1 kHz tone), with
    babble=1 it is other training speech; validation still hears the recording."""
    rate = 8000
    t = np.arange(4 * rate) / rate
    clean = [Utterance(f"c{i}", (0.1 * np.sin(2 * np.pi * (200 + 50 * i) * t)).astype(np.float32))
             for i in range(3)]  # fmt: skip
    noise = [Utterance("tone", np.sin(2 * np.pi * 1000 * t).astype(np.float32))]

    def tone_share(noisy: np.ndarray, ref: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(noisy.ravel() - ref.ravel())) ** 2
        k = int(1000 * noisy.size / rate)
        return float(spec[k - 2 : k + 3].sum() / spec.sum())

    for opts in (MixOptions(synthetic=1.0, babble=0.0, val_fraction=0.34),
                 MixOptions(babble=1.0, synthetic=0.0, val_fraction=0.34)):  # fmt: skip
        c = MixCorpus(clean, noise, rate, options=opts)
        train = c.train_set(4000, length=4)
        assert all(tone_share(*train[i]) < 0.5 for i in range(4))
        val = c.validation_set(4000, length=2)
        assert all(tone_share(*val[i]) > 0.9 for i in range(2))
    with pytest.raises(DataError, match="synthetic \\+ babble"):
        MixCorpus(clean, noise, rate, options=MixOptions(synthetic=0.7, babble=0.5))
    with pytest.raises(DataError, match="babble"):
        MixCorpus(clean, noise, rate, options=MixOptions(babble=-0.1))


def test_speech_speed_moves_the_voice_in_training_only() -> None:
    """speed=1.25..1.25 plays a 400 Hz 'voice' at 500 Hz in training segments, as recorded
    in validation; a range outside 0.5..2 is refused by name."""
    rate = 8000
    t = np.arange(4 * rate) / rate
    clean = [Utterance(f"c{i}", (0.3 * np.sin(2 * np.pi * 400 * t)).astype(np.float32))
             for i in range(3)]  # fmt: skip
    noise = [Utterance("hiss", 1e-3 * np.random.default_rng(0).standard_normal(4 * rate)
                       .astype(np.float32))]  # fmt: skip
    c = MixCorpus(clean, noise, rate, options=MixOptions(speed=(1.25, 1.25), val_fraction=0.34,
                                                         snr_db=(20.0, 20.0)))  # fmt: skip

    def peak_hz(x: np.ndarray) -> float:
        return float(np.argmax(np.abs(np.fft.rfft(x.ravel()))) * rate / x.size)

    train = c.train_set(4000, length=3)
    assert all(peak_hz(train[i][1]) == pytest.approx(500, abs=4) for i in range(3))
    val = c.validation_set(4000, length=2)
    assert all(peak_hz(val[i][1]) == pytest.approx(400, abs=4) for i in range(2))
    with pytest.raises(DataError, match="speed must be a range"):
        MixCorpus(clean, noise, rate, options=MixOptions(speed=(0.2, 1.0)))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(16, 400))
def test_a_second_noise_is_added_between_10_db_below_and_6_db_above(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(n).astype(np.float32)
    other = (5.0 * rng.standard_normal(n)).astype(np.float32)
    out = add_second_noise(noise, other, np.random.default_rng(seed + 1))
    added = out.astype(np.float64) - noise
    rel_db = 10 * np.log10(np.mean(added**2) / np.mean(noise.astype(np.float64) ** 2))
    assert -10.0 - 1e-3 <= rel_db <= 6.0 + 1e-3
    # one gain for the whole clip: the added part is a multiple of `other`, up to float32
    # rounding of the sum (a ratio per sample blows that rounding up where `other` is ~0)
    gain = float(added @ other) / float(other.astype(np.float64) @ other)
    np.testing.assert_allclose(added, gain * other, rtol=0, atol=1e-6 * np.abs(out).max())
