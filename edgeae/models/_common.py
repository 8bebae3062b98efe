"""Small building blocks shared by the model families: the autoencoder base, activations, checks.

Kept private: the public surface is each family's model and config, and the registry.
"""

from __future__ import annotations

import torch
from torch import nn

from edgeae.errors import ConfigError

from .entropy_model import FactorizedPrior

__all__ = ["OUTPUTS", "Autoencoder", "check_positive", "output_activation"]


class Autoencoder(nn.Module):
    """What every family shares: ``encode``/``decode``, and an optional learned entropy model.

    With ``entropy=True`` in its config, a family carries a :class:`FactorizedPrior`
    over its latent channels (axis 1 of the latent batch); in training, ``forward``
    then decodes the noisy latent and leaves its cost in bits per item in
    ``self.bits``, the rate term of rate-distortion training. In eval mode
    ``forward`` is the plain ``decode(encode(x))`` the exporter traces.
    """

    encoder: nn.Module
    decoder: nn.Module

    def _attach_prior(self, entropy: bool, latent_channels: int) -> None:
        self.prior = FactorizedPrior(latent_channels) if entropy else None
        self.bits: torch.Tensor | None = None

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Items ``(N, *item_shape)`` -> latents ``(N, *latent_shape)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``(N, *latent_shape)`` -> reconstructions ``(N, *item_shape)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x`` (model space in, model space out)."""
        z = self.encode(x)
        if self.prior is not None and self.training:
            z, self.bits = self.prior(z)
        return self.decode(z)

#: Output activations: "none" for standardized data, "sigmoid" for [0, 1] data (BCE).
OUTPUTS = ("none", "sigmoid")


def output_activation(name: str) -> nn.Module:
    """The module applied to the decoder's last layer (Identity or Sigmoid)."""
    if name == "none":
        return nn.Identity()
    if name == "sigmoid":
        return nn.Sigmoid()
    raise ConfigError(f"output: must be one of {', '.join(OUTPUTS)}, got {name!r}")


def check_positive(field: str, values: tuple[int, ...], *, allow_empty: bool = True) -> None:
    """Refuse empty (unless allowed), zero or negative sizes with a message naming the field."""
    if not values and not allow_empty:
        raise ConfigError(f"{field}: needs at least one value")
    bad = [v for v in values if not isinstance(v, int) or isinstance(v, bool) or v <= 0]
    if bad:
        raise ConfigError(f"{field}: sizes must be positive integers, got {list(values)}")
