"""Denoising corruption of a training batch's inputs (targets always stay clean).

Every function draws from an explicit ``torch.Generator`` so a seeded run, and a
resumed one, corrupts exactly the same values.
"""

from __future__ import annotations

import torch

from edgeae.errors import ConfigError

__all__ = ["corrupt"]


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator) -> torch.Tensor:
    """A corrupted copy of batch ``x`` (model space); ``x`` itself is never modified.

    ``gaussian``: add N(0, level^2); ``masking``: zero a ``level`` fraction of
    values; ``saltpepper``: set a ``level`` fraction to the batch min or max.
    """
    if kind == "none":
        return x
    if kind == "gaussian":
        return x + level * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    draw = torch.rand(x.shape, generator=generator, dtype=x.dtype)
    if kind == "masking":
        return x.masked_fill(draw < level, 0.0)
    if kind == "saltpepper":
        low, high = x.min(), x.max()
        out = torch.where(draw < level / 2, low, x)
        return torch.where((draw >= level / 2) & (draw < level), high, out)
    raise ConfigError(f"noise: must be one of none, gaussian, masking, saltpepper, got {kind!r}")
