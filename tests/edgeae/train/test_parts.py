"""Losses, corruption and TrainConfig on their own."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae.errors import ConfigError
from edgeae.train import TrainConfig, corrupt, get_loss


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["gaussian", "masking", "saltpepper"]),
    level=st.floats(0.05, 0.9),
    seed=st.integers(0, 1000),
)
def test_corruption_is_seeded_and_leaves_the_input_alone(
    kind: str, level: float, seed: int
) -> None:
    x = torch.randn(8, 32, generator=torch.Generator().manual_seed(1))
    before = x.clone()
    a = corrupt(x, kind, level, torch.Generator().manual_seed(seed))
    b = corrupt(x, kind, level, torch.Generator().manual_seed(seed))
    assert torch.equal(x, before) and torch.equal(a, b) and not torch.equal(a, x)
    if kind == "masking":
        assert set(torch.unique(a[a != x]).tolist()) <= {0.0}
    if kind == "saltpepper":
        assert set(torch.unique(a[a != x]).tolist()) <= {float(x.min()), float(x.max())}


def test_no_noise_is_identity() -> None:
    x = torch.randn(3, 4)
    assert corrupt(x, "none", 0.0, torch.Generator()) is x


def test_losses() -> None:
    a, b = torch.zeros(2, 3), torch.ones(2, 3)
    assert float(get_loss("mse")(a, b)) == 1.0 and float(get_loss("l1")(a, 2 * b)) == 2.0
    assert float(get_loss("bce")(torch.full((2,), 0.5), torch.ones(2))) == pytest.approx(
        0.6931, 1e-3
    )
    with pytest.raises(ConfigError):
        get_loss("huber")


@pytest.mark.parametrize(
    "bad",
    [
        {"loss": "huber"},
        {"noise": "pink"},
        {"epochs": 0},
        {"val_fraction": 1.0},
        {"lr": 0},
        {"noise": "masking", "noise_level": 1.5},
        {"threshold_percentile": 0},
        {"device": "cuda"},
    ],
)
def test_bad_train_configs(bad: dict) -> None:
    with pytest.raises(ConfigError):
        TrainConfig(**bad)


def test_train_config_round_trip() -> None:
    cfg = TrainConfig(epochs=3, noise="gaussian")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown"):
        TrainConfig.from_dict({"epochz": 3})
