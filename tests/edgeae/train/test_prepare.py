"""edgeae.train.prepare.fit_schedule: a recipe's batch and epochs fitted to small data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae.data import load_source
from edgeae.train import TrainConfig, as_dataset, recipe_arch, recipe_for
from edgeae.train.prepare import (
    MAX_FITTED_EPOCHS,
    MIN_STEPS_PER_EPOCH,
    MIN_TRAIN_STEPS,
    RATE_MIN_STEPS,
    fit_schedule,
    min_train_steps,
)


def _items(n: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)


def test_tiny_data_get_enough_epochs_for_the_minimum_of_steps() -> None:
    """100 items, 90 trained at batch 64: 2 steps an epoch, 60 in the recipe's 30 epochs."""
    config = TrainConfig(epochs=30, batch_size=64)
    fitted, n = fit_schedule(as_dataset(_items(100)), config)
    assert n == 90 and fitted.batch_size == 64
    assert fitted.epochs == min(math.ceil(MIN_TRAIN_STEPS / 2), MAX_FITTED_EPOCHS) > 30
    assert fitted.epochs * 2 >= min(MIN_TRAIN_STEPS, 2 * MAX_FITTED_EPOCHS)
    # early stopping waits as many steps as the recipe's patience did (16), in epochs
    assert fitted.patience == math.ceil(config.patience * fitted.epochs / 30)
    given, _ = fit_schedule(as_dataset(_items(100)), config, patience=False)
    assert given.patience == config.patience and given.epochs == fitted.epochs


def test_a_codec_gets_the_steps_rate_distortion_training_needs() -> None:
    """A rate-distortion run (or a --quality ladder, ``codec``) is fitted to RATE_MIN_STEPS,
    the steps below which the trainer says its quality hardly moves with the rate."""
    items = as_dataset(_items(2000))  # 1800 training items: 29 steps an epoch at batch 64
    config = TrainConfig(epochs=30, batch_size=64)
    assert fit_schedule(items, config)[0] == config  # 870 steps: enough for a detector
    for fitted, _ in (
        fit_schedule(items, config, codec=True),
        fit_schedule(items, TrainConfig(epochs=30, batch_size=64, rate_lambda=0.01)),
    ):
        assert fitted.epochs == math.ceil(RATE_MIN_STEPS / 29) > 30
    assert min_train_steps(config) == MIN_TRAIN_STEPS
    assert min_train_steps(config, codec=True) == RATE_MIN_STEPS > MIN_TRAIN_STEPS


def test_data_with_enough_steps_and_chosen_epochs_are_left_alone() -> None:
    big = math.ceil(MIN_TRAIN_STEPS / 30) * 64 * 10 // 9 + 64  # >= MIN steps in 30 epochs
    config = TrainConfig(epochs=30, batch_size=64)
    fitted, n = fit_schedule(as_dataset(_items(big)), config)
    assert fitted == config and 30 * math.ceil(n / 64) >= MIN_TRAIN_STEPS
    small = as_dataset(_items(100))
    assert fit_schedule(small, config, epochs=False)[0] == config  # --epochs given
    assert fit_schedule(small, TrainConfig(epochs=MIN_TRAIN_STEPS, batch_size=64))[0].epochs == (
        MIN_TRAIN_STEPS
    )


def test_the_batch_is_fitted_first_and_the_epochs_at_that_batch() -> None:
    """A recipe's 512 on 40 items: batch 40 // 8 = 5, 8 steps an epoch; then the epochs."""
    fitted, n = fit_schedule(as_dataset(_items(44)), TrainConfig(epochs=30, batch_size=512))
    assert n == 40 and fitted.batch_size == n // MIN_STEPS_PER_EPOCH == 5
    assert fitted.epochs == min(math.ceil(MIN_TRAIN_STEPS / 8), MAX_FITTED_EPOCHS)
    kept, _ = fit_schedule(as_dataset(_items(44)), TrainConfig(batch_size=512), batch_size=False)
    assert kept.batch_size == 512  # --batch-size given (prepare then refuses it)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 3000),
    batch=st.integers(1, 600),
    epochs=st.integers(1, 2 * MAX_FITTED_EPOCHS),
)
def test_steps_reach_the_minimum_unless_capped_and_epochs_never_drop(
    n: int, batch: int, epochs: int
) -> None:
    config = TrainConfig(epochs=epochs, batch_size=batch)
    fitted, train = fit_schedule(as_dataset(np.zeros((n, 2), np.float32)), config)
    per_epoch = math.ceil(train / fitted.batch_size)
    assert fitted.epochs >= epochs and fitted.batch_size <= batch
    assert fitted.epochs * per_epoch >= MIN_TRAIN_STEPS or fitted.epochs >= MAX_FITTED_EPOCHS
    if fitted.epochs > epochs:  # raised: just enough, never past the cap
        assert fitted.epochs <= MAX_FITTED_EPOCHS
        assert (fitted.epochs - 1) * per_epoch < MIN_TRAIN_STEPS


@pytest.mark.parametrize("name", ["digits", "sensor", "tones"])
def test_every_builtin_recipe_on_its_data_is_left_alone(name: str) -> None:
    """The README walk-through's runs: each recipe takes MIN_TRAIN_STEPS or more already
    (builtin:sensor's 60 epochs x 11 steps = 660 are the fewest)."""
    source = f"builtin:{name}"
    _, train = recipe_for(source, recipe_arch(source))
    config = TrainConfig(**train)
    assert fit_schedule(load_source(source), config)[0] == config


def test_colour_crops_train_on_fresh_hues_each_epoch_and_validate_as_they_are(
    tmp_path: Path,
) -> None:
    """A source's augmentation (``hue=``) replaces the training items every epoch, 0
    included, the same for the same epoch; validation and the normalization stay."""
    from edgeae.data import write_png
    from edgeae.train.prepare import prepare, remix_epoch

    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png", "c.png"):
        write_png(tmp_path / name, rng.integers(0, 256, (20, 20, 3)).astype(np.uint8))
    config = TrainConfig(batch_size=4)
    prep = prepare(load_source(f"{tmp_path}?crop=8&per_image=6"), config)
    loaded, val, pre = prep.train_x.clone(), prep.val_x.clone(), prep.preprocessing
    assert remix_epoch(prep, 0) and not torch.equal(prep.train_x, loaded)
    assert prep.train_t is prep.train_x and prep.train_x.shape == loaded.shape
    epoch0 = prep.train_x.clone()
    assert remix_epoch(prep, 1) and not torch.equal(prep.train_x, epoch0)
    assert remix_epoch(prep, 0) and torch.equal(prep.train_x, epoch0)
    assert torch.equal(prep.val_x, val) and prep.preprocessing == pre
    off = prepare(load_source(f"{tmp_path}?crop=8&per_image=6&hue=0"), config)
    assert not remix_epoch(off, 0) and not remix_epoch(off, 1)
    assert torch.equal(off.train_x, loaded)
