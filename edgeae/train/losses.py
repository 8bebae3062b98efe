"""Reconstruction losses (batch mean for training).

The per-item anomaly error and score are the runtime's (``edgeae_runtime.metrics.per_item_error``,
``edgeae_runtime.scores``), so the trainer calibrates exactly what a device computes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from edgeae.errors import ConfigError

__all__ = ["get_loss"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _bce(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # Targets of held-out data can leave the [0, 1] range fitted on the training split.
    return F.binary_cross_entropy(output.clamp(0.0, 1.0), target.clamp(0.0, 1.0))


_LOSSES: dict[str, LossFn] = {"mse": F.mse_loss, "l1": F.l1_loss, "bce": _bce}


def get_loss(name: str) -> LossFn:
    """The loss ``f(output, target) -> scalar`` by name: ``mse``, ``l1`` or ``bce``."""
    try:
        return _LOSSES[name]
    except KeyError:
        raise ConfigError(f"loss: must be one of {', '.join(_LOSSES)}, got {name!r}") from None
