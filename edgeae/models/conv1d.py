"""Conv1d autoencoder for signal windows: items of layout NCW, shape (channels, window).

See :mod:`edgeae.models._conv` for the layer plan; the default decoder
(``"upsample"``) quantizes to int8 on onnxruntime's CPU provider, the
``"transpose"`` one is kept for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._conv import ConvAE, check_conv_config

__all__ = ["Conv1dAE", "Conv1dConfig"]


@dataclass(frozen=True)
class Conv1dConfig:
    """Shape of a conv1d autoencoder.

    Latent shape: ``(latent_channels, window // 2 ** len(channels))``.
    """

    item_shape: tuple[int, ...]
    channels: tuple[int, ...] = (16, 32, 32, 32)
    latent_channels: int = 4
    kernel: int = 5
    decoder: str = "upsample"
    output: str = "none"

    layout = "NCW"

    def __post_init__(self) -> None:
        check_conv_config(
            "conv1d",
            tuple(self.item_shape),
            1,
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


class Conv1dAE(ConvAE):
    """The conv1d autoencoder built from a :class:`Conv1dConfig`."""

    arch = "conv1d"
    layout = "NCW"

    def __init__(self, config: Conv1dConfig) -> None:
        super().__init__(
            1,
            config.item_shape[0],
            tuple(config.channels),
            config.latent_channels,
            config.kernel,
            config.decoder,
            config.output,
        )
        self.config = config
