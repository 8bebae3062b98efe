"""Conv2d autoencoder for images (8x8 digits, 28x28, ...).

Items have layout NCHW, shape (channels, height, width).

See :mod:`edgeae.models._conv` for the layer plan; the default decoder
(``"upsample"``) quantizes to int8 on onnxruntime's CPU provider, the
``"transpose"`` one is kept for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._conv import ConvAE, check_conv_config

__all__ = ["Conv2dAE", "Conv2dConfig"]


@dataclass(frozen=True)
class Conv2dConfig:
    """Shape of a conv2d autoencoder.

    Latent shape: ``(latent_channels, H // f, W // f)`` with ``f = 2 ** len(channels)``.
    """

    item_shape: tuple[int, ...]
    channels: tuple[int, ...] = (16, 32)
    latent_channels: int = 4
    kernel: int = 3
    decoder: str = "upsample"
    output: str = "none"

    layout = "NCHW"

    def __post_init__(self) -> None:
        check_conv_config(
            "conv2d",
            tuple(self.item_shape),
            2,
            tuple(self.channels),
            self.latent_channels,
            self.kernel,
            self.decoder,
            self.output,
        )

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Latent shape without the batch axis."""
        factor = 2 ** len(self.channels)
        return (self.latent_channels, *(s // factor for s in self.item_shape[1:]))


class Conv2dAE(ConvAE):
    """The conv2d autoencoder built from a :class:`Conv2dConfig`."""

    arch = "conv2d"
    layout = "NCHW"

    def __init__(self, config: Conv2dConfig) -> None:
        super().__init__(
            2,
            config.item_shape[0],
            tuple(config.channels),
            config.latent_channels,
            config.kernel,
            config.decoder,
            config.output,
        )
        self.config = config
