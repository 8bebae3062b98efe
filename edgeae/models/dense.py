"""Dense autoencoder: flat feature vectors (layout NF), e.g. the classic 784-32-784.

``hidden`` lists the encoder's hidden widths; the decoder mirrors them. The
latent layer is linear (no activation) so codes keep their sign and scale.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from edgeae.errors import ConfigError

from ._common import Autoencoder, check_positive, output_activation

__all__ = ["DenseAE", "DenseConfig", "mlp"]


@dataclass(frozen=True)
class DenseConfig:
    """Shape of a dense autoencoder: ``F -> hidden... -> latent -> reversed(hidden)... -> F``."""

    item_shape: tuple[int, ...]
    hidden: tuple[int, ...] = (128,)
    latent: int = 32
    output: str = "none"
    batch_norm: bool = False  # BatchNorm1d after every hidden Linear (the ad01 recipe)
    entropy: bool = False  # learn an entropy model of the latent (rate-distortion training)

    arch: ClassVar[str] = "dense"
    layout: ClassVar[str] = "NF"
    rank: ClassVar[int] = 1  # axes per item
    _expects: ClassVar[str] = "flat items (layout NF, item shape (F,))"
    _instead: ClassVar[str] = "use conv1d/conv2d or flatten the data"

    def __post_init__(self) -> None:
        if len(self.item_shape) != self.rank:
            raise ConfigError(
                f"{self.arch}: needs {self._expects}, got item shape "
                f"{tuple(self.item_shape)}; {self._instead}"
            )
        check_positive(f"{self.arch}.item_shape", tuple(self.item_shape), allow_empty=False)
        check_positive(f"{self.arch}.hidden", tuple(self.hidden))
        check_positive(f"{self.arch}.latent", (self.latent,))
        output_activation(self.output)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Latent shape without the batch axis: ``(latent,)``."""
        return (self.latent,)


def mlp(
    widths: list[int], last_activation: nn.Module | None, batch_norm: bool = False
) -> nn.Sequential:
    """Linear layers through ``widths``, ReLU between them, ``last_activation`` at the end.

    With ``batch_norm`` every Linear but the last is followed by BatchNorm1d
    before its ReLU (folded into the Gemm at export).
    """
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU())
    if last_activation is not None:
        layers.append(last_activation)
    return nn.Sequential(*layers)


class DenseAE(Autoencoder):
    """A stack of Linear+ReLU layers down to a linear latent and back up."""

    arch = "dense"
    layout = "NF"

    def __init__(self, config: DenseConfig) -> None:
        super().__init__()
        self.config = config
        shape = tuple(int(s) for s in config.item_shape)
        down = [math.prod(shape), *config.hidden, config.latent]
        bn = config.batch_norm
        self.encoder = mlp(down, None, bn)
        self.decoder = mlp(down[::-1], output_activation(config.output), bn)
        if len(shape) > 1:  # image items: flatten in, unflatten out
            self.encoder.insert(0, nn.Flatten(1))
            self.decoder.append(nn.Unflatten(1, shape))
        self._attach_prior(config.entropy, config.latent)
