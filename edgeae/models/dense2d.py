"""Dense autoencoder for images: items of layout NCHW, flattened in, unflattened out.

The same Linear+ReLU stacks as :mod:`edgeae.models.dense`, but the model keeps
the image's item shape ``(C, H, W)``, so an image model trained with it still
reads and writes images (PNG folders, the image stream codec). On small images
(8x8 digits) wide dense layers quantize to int8 far better than tiny
convolutions: one int8 GEMM per layer instead of a chain of small convs and
resizes (docs/models.md has the measurements).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from edgeae.errors import ConfigError

from ._common import check_positive, output_activation
from .dense import mlp

__all__ = ["Dense2dAE", "Dense2dConfig"]


@dataclass(frozen=True)
class Dense2dConfig:
    """Shape of a dense image autoencoder: ``C*H*W -> hidden... -> latent -> ... -> C*H*W``."""

    item_shape: tuple[int, ...]
    hidden: tuple[int, ...] = (256, 128)
    latent: int = 16
    output: str = "none"

    layout = "NCHW"

    def __post_init__(self) -> None:
        if len(self.item_shape) != 3:
            raise ConfigError(
                f"dense2d: needs images (layout NCHW, item shape (C, H, W)), got item shape "
                f"{tuple(self.item_shape)}; use dense for flat items"
            )
        check_positive("dense2d.item_shape", tuple(self.item_shape), allow_empty=False)
        check_positive("dense2d.hidden", tuple(self.hidden))
        check_positive("dense2d.latent", (self.latent,))
        output_activation(self.output)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Latent shape without the batch axis: ``(latent,)``."""
        return (self.latent,)


class Dense2dAE(nn.Module):
    """Flatten, a Linear+ReLU stack down to a linear latent and back up, unflatten."""

    arch = "dense2d"
    layout = "NCHW"

    def __init__(self, config: Dense2dConfig) -> None:
        super().__init__()
        self.config = config
        shape = tuple(int(s) for s in config.item_shape)
        down = [math.prod(shape), *config.hidden, config.latent]
        self.encoder = nn.Sequential(nn.Flatten(1), *mlp(down, None))
        self.decoder = nn.Sequential(
            *mlp(down[::-1], output_activation(config.output)), nn.Unflatten(1, shape)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` -> latent codes ``(N, latent)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent codes ``(N, latent)`` -> reconstructions ``(N, C, H, W)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x`` (model space in, model space out)."""
        return self.decode(self.encode(x))
