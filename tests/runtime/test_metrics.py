"""Metrics agree with their definitions, computed the slow obvious way."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime import InputError
from edgeae_runtime.metrics import (
    auroc,
    mae,
    mse,
    per_item_error,
    precision_recall_f1,
    psnr,
    roc_curve,
    snr_db,
    ssim,
)


def _auroc_pairwise(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels > 0], scores[labels == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (pos.size * neg.size))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=2, max_size=40),
    st.integers(0, 2**31 - 1),
)
def test_auroc_equals_pairwise_definition(raw_scores: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = np.array(raw_scores, dtype=float)  # small integers: many ties
    labels = rng.integers(0, 2, size=scores.size)
    labels[0], labels[1] = 0, 1
    assert auroc(scores, labels) == pytest.approx(_auroc_pairwise(scores, labels))


def test_roc_curve_area_matches_auroc() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = rng.normal(size=300) + labels
    fpr, tpr = roc_curve(scores, labels)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(auroc(scores, labels))


def test_auroc_needs_both_classes() -> None:
    with pytest.raises(InputError, match="both normal"):
        auroc(np.ones(4), np.zeros(4))


def test_error_metrics() -> None:
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    b = a + np.array([[0.0, 1.0], [0.0, -1.0]])
    assert mse(a, b) == pytest.approx(0.5)
    assert mae(a, b) == pytest.approx(0.5)
    np.testing.assert_allclose(per_item_error(a, b), [0.5, 0.5])
    np.testing.assert_allclose(per_item_error(a, b, "mae"), [0.5, 0.5])
    assert psnr(a, b, data_range=1.0) == pytest.approx(10 * np.log10(1 / 0.5))
    assert snr_db(a, b) == pytest.approx(10 * np.log10(14 / 2))
    assert psnr(a, a) == float("inf")


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 5),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["mse", "mae"]),
)
def test_per_item_error_is_the_float64_mean_bit_for_bit(
    n: int, item: list[int], seed: int, kind: str
) -> None:
    """The scoring path's fewer-pass error equals numpy's mean on float64 copies, exactly
    (scores, thresholds and calibrations made before it stay valid)."""
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal((n, *item)) * 10.0 ** rng.integers(-3, 4)).astype(np.float32)
    b = (a + rng.standard_normal(a.shape)).astype(np.float32)
    d = (a.astype(np.float64) - b.astype(np.float64)).reshape(n, -1)
    ref = np.mean(d**2 if kind == "mse" else np.abs(d), axis=1)
    np.testing.assert_array_equal(per_item_error(a, b, kind), ref)


def test_shape_mismatch_is_an_input_error() -> None:
    with pytest.raises(InputError, match="shape"):
        mse(np.zeros(3), np.zeros(4))


def test_ssim_is_one_for_identical_and_drops_with_noise() -> None:
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 1, size=(4, 1, 16, 16))
    assert ssim(img, img) == pytest.approx(1.0)
    noisy = img + rng.normal(scale=0.2, size=img.shape)
    worse = img + rng.normal(scale=0.5, size=img.shape)
    assert 1.0 > ssim(img, noisy) > ssim(img, worse)


def test_precision_recall_f1() -> None:
    flags = np.array([1, 1, 0, 0, 1], dtype=bool)
    labels = np.array([1, 0, 1, 0, 2])
    p, r, f = precision_recall_f1(flags, labels)
    assert (p, r) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert f == pytest.approx(2 / 3)


def test_one_psnr_peak_rule() -> None:
    from edgeae_runtime.metrics import psnr, psnr_peak

    ref = np.linspace(0.2, 0.6, 50)
    est = ref + 0.01
    assert psnr_peak((0.0, 1.0)) == 1.0
    assert psnr_peak(None) is None and psnr_peak((1.0, 1.0)) is None
    # the declared value range is the peak; without one, the reference's peak-to-peak
    assert abs(psnr(ref, est, psnr_peak((0.0, 1.0))) - 40.0) < 1e-9
    assert abs(psnr(ref, est, psnr_peak(None)) - 10 * np.log10(0.4**2 / 1e-4)) < 1e-9


def test_si_snr_ignores_gain_and_offset_and_matches_snr_without_them() -> None:
    from edgeae_runtime.metrics import si_snr_db

    rng = np.random.default_rng(3)
    ref = rng.standard_normal(4000)
    est = ref + 0.1 * rng.standard_normal(4000)
    base = si_snr_db(ref, est)
    assert si_snr_db(ref, 3.0 * est + 0.5) == pytest.approx(base, abs=1e-9)
    # The scaled-down estimate is heavily penalised by SNR, not by SI-SNR.
    assert snr_db(ref, 0.5 * est) < base - 5
    assert base == pytest.approx(20.0, abs=0.5)
    assert si_snr_db(ref, ref) == float("inf")
    assert si_snr_db(ref, np.zeros(4000)) == float("-inf")
    with pytest.raises(InputError, match="silent"):
        si_snr_db(np.ones(10), np.arange(10.0))
