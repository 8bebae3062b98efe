"""Conv1d autoencoder for signal windows: items of layout NCW, shape (channels, window).

See :mod:`edgeae.models._conv` for the layer plan; the default decoder
(``"subpixel"``) and ``"upsample"`` quantize to int8 on onnxruntime's CPU
provider, the ``"transpose"`` one is kept for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._conv import ConvAE, ConvConfig

__all__ = ["Conv1dAE", "Conv1dConfig"]


@dataclass(frozen=True)
class Conv1dConfig(ConvConfig):
    """Shape of a conv1d autoencoder (defaults differ from conv2d's; checks are shared)."""

    channels: tuple[int, ...] = (16, 32, 32, 32)
    kernel: int = 5

    arch: ClassVar[str] = "conv1d"
    dims: ClassVar[int] = 1
    layout: ClassVar[str] = "NCW"


class Conv1dAE(ConvAE):
    """The conv1d autoencoder built from a :class:`Conv1dConfig`."""

    arch = "conv1d"
    layout = "NCW"
    config: Conv1dConfig
