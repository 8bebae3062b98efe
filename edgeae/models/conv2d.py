"""Conv2d autoencoder for images (8x8 digits, 28x28, ...).

Items have layout NCHW, shape (channels, height, width).

See :mod:`edgeae.models._conv` for the layer plan; the default decoder
(``"subpixel"``) and ``"upsample"`` quantize to int8 on onnxruntime's CPU
provider, the ``"transpose"`` one is kept for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._conv import ConvAE, ConvConfig

__all__ = ["Conv2dAE", "Conv2dConfig"]


@dataclass(frozen=True)
class Conv2dConfig(ConvConfig):
    """Shape of a conv2d autoencoder (defaults differ from conv1d's; checks are shared)."""

    channels: tuple[int, ...] = (16, 32)
    kernel: int = 3

    arch: ClassVar[str] = "conv2d"
    dims: ClassVar[int] = 2
    layout: ClassVar[str] = "NCHW"


class Conv2dAE(ConvAE):
    """The conv2d autoencoder built from a :class:`Conv2dConfig`."""

    arch = "conv2d"
    layout = "NCHW"
    config: Conv2dConfig
