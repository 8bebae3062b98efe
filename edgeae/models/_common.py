"""Small building blocks shared by the model families: activations and size checks.

Kept private: the public surface is each family's model and config, and the registry.
"""

from __future__ import annotations

from torch import nn

from edgeae.errors import ConfigError

__all__ = ["OUTPUTS", "check_positive", "output_activation"]

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
