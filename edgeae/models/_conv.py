"""The convolutional autoencoder shared by conv1d and conv2d: strided encoder, two decoders.

Encoder: one stride-2 convolution + ReLU per entry of ``channels`` (each halves
every spatial axis), then a stride-1 convolution to ``latent_channels`` with no
activation. Decoder ``"upsample"``: nearest-neighbour upsampling followed by a
convolution per level, which onnxruntime runs as int8 QLinearConv; decoder
``"transpose"``: ConvTranspose per level, which its CPU provider keeps in float.
"""

from __future__ import annotations

import torch
from torch import nn

from edgeae.errors import ConfigError

from ._common import check_positive, output_activation

__all__ = ["DECODERS", "ConvAE", "check_conv_config"]

DECODERS = ("upsample", "transpose")

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_TRANSPOSE = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}


def check_conv_config(
    arch: str,
    item_shape: tuple[int, ...],
    dims: int,
    channels: tuple[int, ...],
    latent_channels: int,
    kernel: int,
    decoder: str,
    output: str,
) -> None:
    """Validate a conv config; every message names the arch and field and says what fits."""
    layout = {1: "NCW (channels, window)", 2: "NCHW (channels, height, width)"}[dims]
    if len(item_shape) != dims + 1:
        raise ConfigError(
            f"{arch}: needs items of layout {layout}, got item shape {tuple(item_shape)}"
        )
    check_positive(f"{arch}.item_shape", tuple(item_shape), allow_empty=False)
    check_positive(f"{arch}.channels", tuple(channels), allow_empty=False)
    check_positive(f"{arch}.latent_channels", (latent_channels,))
    if kernel <= 0 or kernel % 2 == 0:
        raise ConfigError(f"{arch}.kernel: must be a positive odd number, got {kernel}")
    if decoder not in DECODERS:
        raise ConfigError(f"{arch}.decoder: must be one of {', '.join(DECODERS)}, got {decoder!r}")
    output_activation(output)
    factor = 2 ** len(channels)
    for size in item_shape[1:]:
        if size % factor:
            raise ConfigError(
                f"{arch}: spatial size {size} must be divisible by {factor} "
                f"(2 ** {len(channels)} stride-2 levels); change the window/image size "
                "or use fewer channels levels"
            )


class ConvAE(nn.Module):
    """Strided-conv encoder and upsample+conv (or ConvTranspose) decoder in 1 or 2 dims."""

    def __init__(
        self,
        dims: int,
        in_channels: int,
        channels: tuple[int, ...],
        latent_channels: int,
        kernel: int,
        decoder: str,
        output: str,
    ) -> None:
        super().__init__()
        conv, pad = _CONV[dims], kernel // 2
        enc: list[nn.Module] = []
        prev = in_channels
        for ch in channels:
            enc += [conv(prev, ch, kernel, stride=2, padding=pad), nn.ReLU()]
            prev = ch
        enc.append(conv(prev, latent_channels, kernel, padding=pad))
        self.encoder = nn.Sequential(*enc)

        dec: list[nn.Module] = [conv(latent_channels, channels[-1], kernel, padding=pad), nn.ReLU()]
        outs = [*channels[::-1][1:], in_channels]
        for level, (ch_in, ch_out) in enumerate(zip(channels[::-1], outs, strict=True)):
            if decoder == "upsample":
                dec += [nn.Upsample(scale_factor=2, mode="nearest")]
                dec += [conv(ch_in, ch_out, kernel, padding=pad)]
            else:
                dec += [_TRANSPOSE[dims](ch_in, ch_out, 4, stride=2, padding=1)]
            if level < len(channels) - 1:
                dec.append(nn.ReLU())
        dec.append(output_activation(output))
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Items -> latent maps with every spatial axis divided by ``2 ** len(channels)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent maps -> reconstructions of the input's shape."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x`` (model space in, model space out)."""
        return self.decode(self.encode(x))
