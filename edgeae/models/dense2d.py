"""Dense autoencoder for images: items of layout NCHW, flattened in, unflattened out.

The same Linear+ReLU stacks as :mod:`edgeae.models.dense`, but the model keeps
the image's item shape ``(C, H, W)``, so an image model trained with it still
reads and writes images (PNG folders, the image stream codec). On small images
(8x8 digits) wide dense layers quantize to int8 far better than tiny
convolutions: one int8 GEMM per layer instead of a chain of small convs and
resizes (docs/models.md has the measurements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .dense import DenseAE, DenseConfig

__all__ = ["Dense2dAE", "Dense2dConfig"]


@dataclass(frozen=True)
class Dense2dConfig(DenseConfig):
    """Shape of a dense image autoencoder: ``C*H*W -> hidden... -> latent -> ... -> C*H*W``."""

    hidden: tuple[int, ...] = (256, 128)
    latent: int = 16

    arch: ClassVar[str] = "dense2d"
    layout: ClassVar[str] = "NCHW"
    rank: ClassVar[int] = 3
    _expects: ClassVar[str] = "images (layout NCHW, item shape (C, H, W))"
    _instead: ClassVar[str] = "use dense for flat items"


class Dense2dAE(DenseAE):
    """Flatten, a Linear+ReLU stack down to a linear latent and back up, unflatten."""

    arch = "dense2d"
    layout = "NCHW"
    config: Dense2dConfig
