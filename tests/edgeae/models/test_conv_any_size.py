"""Conv autoencoders take any item size: padded inside the graph, cropped back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeae.models import build_model, config_from_dict


@pytest.mark.parametrize(
    ("arch", "shape", "latent"),
    [
        ("conv1d", (1, 140), (4, 9)),  # ECG beats of 140 samples, 4 levels
        ("conv1d", (3, 257), (4, 17)),
        ("conv2d", (1, 28, 27), (4, 2, 2)),
        ("conv1d", (2, 128), (4, 8)),  # a multiple: no pad, no crop
    ],
)
def test_any_size_reconstructs_its_own_shape(arch: str, shape: tuple, latent: tuple) -> None:
    cfg = config_from_dict(arch, {"item_shape": list(shape), "channels": [8, 16, 16, 16]})
    model = build_model(arch, cfg).eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        z, y = model.encode(x), model(x)
    assert tuple(z.shape[1:]) == cfg.latent_shape == latent
    assert tuple(y.shape) == (3, *shape)
    padded = any(cfg.padding)
    assert padded == (shape[-1] % 16 != 0 or (len(shape) == 3 and shape[1] % 16 != 0))


def test_padding_does_not_leak_between_items() -> None:
    """Items are padded on their own: changing one item leaves another's output alone."""
    cfg = config_from_dict("conv1d", {"item_shape": [1, 140], "channels": [8, 8]})
    model = build_model("conv1d", cfg).eval()
    x = torch.randn(2, 1, 140)
    with torch.no_grad():
        a = model(x)[0]
        x[1] += 5
        b = model(x)[0]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
