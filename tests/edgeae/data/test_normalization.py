"""Normalization fitted on training items, applied with the runtime's own functions."""

from __future__ import annotations

import numpy as np
import pytest

from edgeae.data import fit_normalization, split_indices
from edgeae.errors import DataError
from edgeae_runtime.preprocess import denormalize, normalize


def test_standard_scalar_fit_on_train_only() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(5, 2, (800, 16)), rng.normal(100, 50, (200, 16))])
    x = x.astype(np.float32)
    train = x[:800]
    pre = fit_normalization(train, "NF")
    assert pre.offset[0] == pytest.approx(float(train.mean()), rel=1e-5)
    assert pre.scale[0] == pytest.approx(float(train.std()), rel=1e-4)
    z = normalize(train, pre)
    assert abs(float(z.mean())) < 1e-4 and float(z.std()) == pytest.approx(1.0, rel=1e-4)
    assert fit_normalization(x, "NF").offset != pre.offset  # the held-out part would change it


def test_per_channel_standard_for_signals() -> None:
    rng = np.random.default_rng(1)
    x = np.stack([rng.normal(0, 1, (300, 64)), rng.normal(10, 5, (300, 64))], axis=1)
    pre = fit_normalization(x.astype(np.float32), "NCW")
    assert len(pre.offset) == 2 and pre.offset[1] == pytest.approx(10, abs=0.2)
    z = normalize(x, pre)
    np.testing.assert_allclose(z.mean(axis=(0, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 2)), 1, atol=1e-3)


@pytest.mark.parametrize(("layout", "shape"), [("NF", (50, 8)), ("NCHW", (50, 3, 4, 4))])
@pytest.mark.parametrize("mode", ["standard", "minmax"])
def test_round_trip_through_runtime_denormalize(layout: str, shape, mode: str) -> None:
    x = np.random.default_rng(2).uniform(0, 16, shape).astype(np.float32)
    train, _ = split_indices(len(x), 0.2, seed=0)
    pre = fit_normalization(x[train], layout, mode)
    back = denormalize(normalize(x[train], pre), pre)
    np.testing.assert_allclose(back, x[train], atol=1e-4)


def test_minmax_maps_to_unit_range_and_clips() -> None:
    x = np.array([[0.0, 4.0], [8.0, 16.0]], dtype=np.float32)
    pre = fit_normalization(x, "NF", "minmax")
    z = normalize(x, pre)
    assert float(z.min()) == 0.0 and float(z.max()) == 1.0
    assert pre.clip == (0.0, 16.0) and pre.value_range == (0.0, 16.0)
    assert float(denormalize(np.array([[1.5]], np.float32), pre).max()) == 16.0


def test_constant_feature_gets_unit_scale() -> None:
    pre = fit_normalization(np.full((10, 3), 7.0, np.float32), "NF")
    assert pre.scale == (1.0,) and pre.offset == (7.0,)


def test_bad_arguments() -> None:
    x = np.zeros((4, 2), np.float32)
    with pytest.raises(DataError, match="unknown layout"):
        fit_normalization(x, "NXY")
    with pytest.raises(DataError, match="unknown normalization mode"):
        fit_normalization(x, "NF", "robust")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="empty"):
        fit_normalization(x[:0], "NF")
