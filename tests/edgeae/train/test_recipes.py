"""Recipes of the built-in datasets: which arch they train, and --arch replacing the recipe."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from edgeae.data import load_source
from edgeae.models import ARCHS, default_config
from edgeae.train import RECIPES, TrainConfig, recipe_arch, recipe_for


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_builds_its_model_on_its_data(name: str) -> None:
    source = f"builtin:{name}?seconds=4" if name != "digits" else "builtin:digits"
    ds = load_source(source)
    arch = recipe_arch(source)
    assert arch in ARCHS and ARCHS[arch].layout == ds.layout
    model_over, train_over = recipe_for(source)
    config = default_config(arch, ds.item_shape, **model_over)
    assert config.item_shape == tuple(ds.item_shape)
    TrainConfig(**train_over)  # valid settings


def test_digits_recipe_is_the_dense_image_model() -> None:
    assert recipe_arch("builtin:digits") == "dense2d"
    model_over, _ = recipe_for("builtin:digits")
    assert default_config("dense2d", (1, 8, 8), **model_over).latent_shape == (16,)


def test_another_arch_drops_the_recipe_model_options_but_keeps_the_schedule() -> None:
    model_over, train_over = recipe_for("builtin:digits", "conv2d")
    assert model_over == {}
    assert train_over == dict(RECIPES["digits"].train)
    same, _ = recipe_for("builtin:digits", "dense2d")
    assert same == dict(RECIPES["digits"].model)


@pytest.mark.parametrize("source", ["data.npy", "builtin:nope", "clip.wav"])
def test_other_sources_have_no_recipe(source: str) -> None:
    assert recipe_arch(source) is None
    assert recipe_for(source) == ({}, {})


def test_sensor_recipe_scores_both_tails() -> None:
    """A dead sensor reconstructs better than normal: only a two-sided score sees it."""
    _, train_over = recipe_for("builtin:sensor")
    assert TrainConfig(**train_over).tails == "both"


def test_tones_recipe_is_a_denoiser_without_a_bottleneck() -> None:
    """A 4x bottleneck made held-out recordings worse (docs/models.md): the latent of the
    tones denoiser holds at least as many numbers as the window it cleans."""
    model_over, _ = recipe_for("builtin:tones")
    config = default_config(recipe_arch("builtin:tones"), (1, 256), **model_over)
    assert math.prod(config.latent_shape) >= 256


@pytest.mark.parametrize(
    ("arch", "layout"), [("conv2d", "NCHW"), ("conv1d", "NCW"), (None, "NF"), ("dense", "NF")]
)
def test_a_logmel_source_gets_the_recipe_of_its_arch(arch: str | None, layout: str) -> None:
    from edgeae.data.machine import logmel_options
    from edgeae.train import recipe_source

    source = recipe_source("logmel:clips/?n_mels=64", arch)
    options = logmel_options(source)
    assert options["n_mels"] == "64" and options.get("layout", "NF") == layout
    assert recipe_arch(source) == (arch or "dense")  # the layout alone picks it again
    model_over, train_over = recipe_for(source, arch)
    n_mels, frames = 64, int(options.get("frames", 5))
    shape = {"NF": (n_mels * frames,), "NCW": (n_mels, frames), "NCHW": (1, n_mels, frames)}
    config = default_config(arch or "dense", shape[layout], **model_over)
    assert config.item_shape == shape[layout]
    TrainConfig(**train_over)
    # options the user gives win over the recipe's
    assert logmel_options(recipe_source("logmel:c?frames=9", arch)).get("frames") == "9"
    assert recipe_source("builtin:sensor", "conv2d") == "builtin:sensor"


def test_image_crops_train_conv2d_with_the_upsample_decoder(tmp_path: Path) -> None:
    """A crop source's conv2d (given, or its layout's default) gets upsample + conv levels,
    which a flat area cannot turn into a checker; another arch, or the folder without
    crops, gets no recipe."""
    from edgeae.data import write_png
    from edgeae.models import build_model

    write_png(tmp_path / "a.png", np.full((16, 16, 3), 90, np.uint8))
    crops = f"{tmp_path}?crop=8&per_image=2"
    assert recipe_arch(crops) == "conv2d"
    for arch in (None, "conv2d"):
        assert recipe_for(crops, arch) == ({"decoder": "upsample"}, {})
    assert recipe_for(crops, "dense2d") == ({}, {})
    assert recipe_for(str(tmp_path), "conv2d") == ({}, {})
    model_over, _ = recipe_for(crops, "conv2d")
    model = build_model("conv2d", default_config("conv2d", (3, 64, 64), **model_over)).eval()
    with torch.no_grad():
        out = model.for_export().decode(torch.full((1, *model.config.latent_shape), 0.3))[0]
    inner = out[:, 16:-16, 16:-16].reshape(3, -1)  # away from the zero padding's reach
    torch.testing.assert_close(inner.amax(1), inner.amin(1), atol=1e-5, rtol=0)
