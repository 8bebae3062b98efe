"""Colour augmentation of image crops (edgeae.data.colour, the ``hue=`` option of crop
sources): a hue rotation about the grey axis keeps brightness, saturation and the value
range, is seeded per epoch, and is on for colour crops only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edgeae.data import load_source, write_png
from edgeae.data.colour import HueAugment, hue_matrices, rotate_hues
from edgeae.errors import DataError

_SHAPES = st.tuples(
    st.integers(1, 4), st.sampled_from([3, 4]), st.integers(1, 5), st.integers(1, 5)
)
_ITEMS = hnp.arrays(np.uint8, _SHAPES)


@settings(max_examples=60, deadline=None)
@given(x=_ITEMS, seed=st.integers(0, 2**32 - 1), epoch=st.integers(0, 10_000))
def test_hues_stay_in_range_alpha_is_kept_and_a_seed_and_epoch_fix_the_draw(
    x: np.ndarray, seed: int, epoch: int
) -> None:
    augment = HueAugment(seed, (0.0, 255.0))
    out = augment(x, epoch)
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    np.testing.assert_array_equal(out[:, 3:], x[:, 3:])  # alpha untouched
    np.testing.assert_array_equal(out, HueAugment(seed, (0.0, 255.0))(x, epoch))
    np.testing.assert_array_equal(x, x.copy())  # the input is not changed


@settings(max_examples=60, deadline=None)
@given(
    rgb=hnp.arrays(np.float64, (5, 3), elements=st.floats(-100, 100)),
    angle=st.floats(0, 2 * np.pi),
    mirror=st.booleans(),
)
def test_a_hue_rotation_keeps_brightness_and_saturation(
    rgb: np.ndarray, angle: float, mirror: bool
) -> None:
    """Orthogonal, grey axis fixed: the mean of R, G, B and the distance from grey stay."""
    m = hue_matrices(np.array([angle]), np.array([mirror]))[0]
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(m @ np.ones(3), np.ones(3), atol=1e-12)
    out = rgb @ m.T
    np.testing.assert_allclose(out.mean(1), rgb.mean(1), atol=1e-9)
    chroma = lambda v: np.linalg.norm(v - v.mean(1, keepdims=True), axis=1)  # noqa: E731
    np.testing.assert_allclose(chroma(out), chroma(rgb), atol=1e-9)


def test_the_channel_permutations_are_special_cases() -> None:
    """0: identity; 120 and 240 degrees: the cyclic permutations; the mirror: R <-> B."""
    m = hue_matrices(np.array([0, 2 * np.pi / 3, 4 * np.pi / 3, 0]),
                     np.array([False, False, False, True]))  # fmt: skip
    np.testing.assert_allclose(m[0], np.eye(3), atol=1e-12)
    rolled = {tuple(np.argmax(np.abs(mm), axis=1)) for mm in m[1:3]}
    assert rolled == {(1, 2, 0), (2, 0, 1)}
    for mm in m[1:]:
        np.testing.assert_allclose(np.sort(mm.ravel())[-3:], 1.0, atol=1e-12)
    np.testing.assert_allclose(m[3], np.eye(3)[[2, 1, 0]], atol=1e-12)


def test_grey_pixels_keep_their_value_and_saturated_ones_are_clipped() -> None:
    x = np.zeros((2, 3, 1, 2), np.uint8)
    x[:, :, 0, 0] = 90  # grey
    x[:, :, 0, 1] = (255, 0, 0)  # pure red: 60 degrees on, it leaves the cube
    m = hue_matrices(np.array([np.pi / 3, 1.0]), np.array([False, True]))
    out = rotate_hues(x, m, (0.0, 255.0))
    np.testing.assert_allclose(out[:, :, 0, 0], 90.0, atol=1e-4)
    assert out.min() >= 0.0 and out.max() <= 255.0


def test_epochs_draw_different_hues_over_the_crops() -> None:
    x = np.random.default_rng(0).integers(0, 256, (64, 3, 4, 4)).astype(np.uint8)
    augment = HueAugment(0, (0.0, 255.0))
    a, b = augment(x, 1), augment(x, 2)
    assert not np.allclose(a, b)
    assert not np.allclose(a, HueAugment(1, (0.0, 255.0))(x, 1))


def _photos(folder: Path, channels: int) -> None:
    rng = np.random.default_rng(3)
    folder.mkdir()
    for name in ("a.png", "b.png"):
        write_png(folder / name, rng.integers(0, 256, (24, 24, channels)).astype(np.uint8))


def test_colour_crops_augment_by_default_and_hue_0_turns_it_off(tmp_path: Path) -> None:
    _photos(tmp_path / "c", 3)
    ds = load_source(f"{tmp_path / 'c'}?crop=8&per_image=4&seed=5")
    assert ds.augment == HueAugment(5, (0.0, 255.0))
    assert "random hue" in ds.description
    same = load_source(f"{tmp_path / 'c'}?crop=8&per_image=4&seed=5&hue=1")
    assert same.augment == ds.augment
    off = load_source(f"{tmp_path / 'c'}?crop=8&per_image=4&seed=5&hue=0")
    assert off.augment is None and "hue" not in off.description
    np.testing.assert_array_equal(off.x, ds.x)  # the crops themselves are the same


def test_grey_crops_do_not_augment_and_refuse_hue_1(tmp_path: Path) -> None:
    _photos(tmp_path / "g", 1)
    assert load_source(f"{tmp_path / 'g'}?crop=8").augment is None
    with pytest.raises(DataError, match=r"hue=1 rotates the hues of colour images.*have 1"):
        load_source(f"{tmp_path / 'g'}?crop=8&hue=1")
    with pytest.raises(DataError, match=r"hue must be an integer 0\.\.1, got '2'"):
        load_source(f"{tmp_path / 'g'}?crop=8&hue=2")
    with pytest.raises(DataError, match=r"hue= need crop=N"):
        load_source(f"{tmp_path / 'g'}?hue=0")


def test_about_half_the_crops_keep_their_colours_each_epoch() -> None:
    x = np.random.default_rng(1).integers(0, 256, (2000, 3, 2, 2)).astype(np.uint8)
    out = HueAugment(0, (0.0, 255.0))(x, 7)
    kept = np.all(out == x, axis=(1, 2, 3))
    assert 0.45 < kept.mean() < 0.55
