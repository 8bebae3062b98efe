"""Models: shapes per arch, encode/decode/forward agree, configs round-trip, registry errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae.errors import ConfigError
from edgeae.models import (
    ARCHS,
    arch_for_layout,
    asdict,
    build_model,
    config_from_dict,
    default_config,
)

torch.set_num_threads(1)

CASES = [
    ("dense", (784,), {}),
    ("dense", (64,), {"hidden": (32, 16), "latent": 8}),
    ("conv1d", (1, 256), {}),
    ("conv1d", (3, 128), {"decoder": "transpose"}),
    ("conv2d", (1, 8, 8), {}),
    ("conv2d", (1, 28, 28), {"decoder": "transpose"}),
    ("conv1d", (3, 100), {"decoder": "subpixel"}),
    ("conv2d", (1, 13, 9), {"decoder": "subpixel", "kernel": 5}),
    ("conv2d", (3, 16, 16), {"channels": (8, 16, 16)}),
    ("dense2d", (1, 8, 8), {}),
    ("dense2d", (3, 4, 6), {"hidden": (32,), "latent": 5}),
]


@pytest.mark.parametrize(("arch", "shape", "overrides"), CASES)
def test_shapes_and_consistency(arch: str, shape: tuple[int, ...], overrides: dict) -> None:
    config = default_config(arch, shape, **overrides)
    model = build_model(arch, config).eval()
    x = torch.randn(5, *shape)
    with torch.no_grad():
        z = model.encode(x)
        y = model(x)
        y2 = model.decode(z)
    assert tuple(z.shape) == (5, *config.latent_shape)
    assert y.shape == x.shape
    torch.testing.assert_close(y, y2)
    assert model.layout == ARCHS[arch].layout == type(config).layout
    assert model.arch == arch


def test_sigmoid_output_is_in_unit_range() -> None:
    model = build_model("conv2d", item_shape=(1, 8, 8), output="sigmoid")
    with torch.no_grad():
        y = model(torch.randn(3, 1, 8, 8) * 10)
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_upsample_decoder_has_no_conv_transpose() -> None:
    for arch, shape in (("conv1d", (1, 64)), ("conv2d", (1, 8, 8))):
        model = build_model(arch, default_config(arch, shape))
        kinds = {type(m).__name__ for m in model.modules()}
        assert not any("Transpose" in k for k in kinds)
        model_t = build_model(arch, default_config(arch, shape, decoder="transpose"))
        assert any("Transpose" in type(m).__name__ for m in model_t.modules())


@pytest.mark.parametrize(("arch", "shape", "overrides"), CASES)
def test_config_round_trips_through_a_checkpoint(
    arch: str, shape: tuple[int, ...], overrides: dict, tmp_path
) -> None:
    config = default_config(arch, shape, **overrides)
    model = build_model(arch, config)
    path = tmp_path / "c.pt"
    torch.save({"arch": arch, "config": asdict(config), "state": model.state_dict()}, path)
    blob = torch.load(path, weights_only=True)
    rebuilt = build_model(blob["arch"], config_from_dict(blob["arch"], blob["config"]))
    rebuilt.load_state_dict(blob["state"])
    assert rebuilt.config == config
    x = torch.randn(2, *shape)
    torch.testing.assert_close(rebuilt(x), model(x))


@settings(max_examples=20, deadline=None)
@given(
    levels=st.integers(1, 3),
    width=st.integers(1, 4),
    latent=st.integers(1, 6),
    length_units=st.integers(1, 4),
)
def test_conv1d_latent_shape_law(levels: int, width: int, latent: int, length_units: int) -> None:
    window = length_units * 2**levels
    config = default_config(
        "conv1d", (2, window), channels=tuple([width * 2] * levels), latent=latent
    )
    z = build_model("conv1d", config).encode(torch.zeros(1, 2, window))
    assert tuple(z.shape[1:]) == config.latent_shape == (latent, window // 2**levels)


def test_arch_for_layout() -> None:
    assert [arch_for_layout(x) for x in ("NF", "NCW", "NCHW")] == ["dense", "conv1d", "conv2d"]
    with pytest.raises(ConfigError, match="layout"):
        arch_for_layout("NHWC")


@pytest.mark.parametrize(
    ("arch", "shape", "overrides", "match"),
    [
        ("nope", (4,), {}, "unknown arch 'nope'"),
        ("dense", (1, 8, 8), {}, "flat items"),
        ("conv2d", (64,), {}, "NCHW"),
        ("conv1d", (1, 64), {"kernel": 4}, "odd"),
        ("conv1d", (1, 64), {"decoder": "magic"}, "decoder"),
        ("dense", (64,), {"output": "tanh"}, "output"),
        ("dense", (64,), {"latent": 0}, "positive"),
        ("dense", (64,), {"widths": (3,)}, "unknown model option 'widths'"),
    ],
)
def test_bad_configs_raise_config_error(
    arch: str, shape: tuple[int, ...], overrides: dict, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        default_config(arch, shape, **overrides)


def test_build_model_needs_item_shape_and_matching_config() -> None:
    with pytest.raises(ConfigError, match="item_shape"):
        build_model("dense", latent=4)
    with pytest.raises(ConfigError, match="expected a Conv1dConfig"):
        build_model("conv1d", default_config("dense", (8,)))


def test_dense2d_keeps_the_image_shape_and_refuses_flat_items() -> None:
    config = default_config("dense2d", (1, 8, 8))
    assert config.latent_shape == (16,)
    model = build_model("dense2d", config)
    assert tuple(model(torch.zeros(2, 1, 8, 8)).shape) == (2, 1, 8, 8)
    with pytest.raises(ConfigError, match="dense2d: needs images"):
        default_config("dense2d", (64,))


def test_layout_default_for_images_stays_conv2d() -> None:
    # dense2d is an NCHW arch too, but only a recipe (or --arch) selects it
    assert arch_for_layout("NCHW") == "conv2d"
