"""The convolutional autoencoder shared by conv1d and conv2d: strided encoder, three decoders.

Encoder: one stride-2 convolution + ReLU per entry of ``channels`` (each halves
every spatial axis), then a stride-1 convolution to ``latent_channels`` with no
activation. Any item size works: the encoder zero-pads (model space: the
training mean) each spatial axis at its end up to a multiple of
``2 ** len(channels)``, and the decoder crops its output back to the item size,
both inside the graph, so the exported ONNX takes and returns the user's size.
Decoder ``"subpixel"`` (the default): per level a convolution at the *low* resolution with
``2 ** dims`` times the output channels and kernel :func:`subpixel_kernel`,
then a pixel shuffle (1-D: Reshape/Transpose/Reshape; 2-D: DepthToSpace) to
the doubled size: about the receptive field of upsample + conv for fewer MACs
and no Resize (QLinearConv in int8); decoder ``"upsample"`` (the default
before issue 14): nearest-neighbour upsampling followed by a convolution per
level, also int8 QLinearConv but computed at the doubled size, so it is exported
through :func:`fold_upsample`: the exact sub-pixel equivalent of each upsample + conv
pair (the same function, computed at the low resolution); decoder ``"transpose"``:
ConvTranspose per level, which its CPU provider keeps in float.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgeae.errors import ConfigError

from ._common import Autoencoder, check_positive, output_activation

__all__ = ["DECODERS", "ConvAE", "ConvConfig", "fold_upsample", "subpixel_kernel"]

DECODERS = ("upsample", "subpixel", "transpose")

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_TRANSPOSE = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}


@dataclass(frozen=True)
class ConvConfig:
    """Shape of a conv autoencoder; :class:`Conv1dConfig`/:class:`Conv2dConfig` set the dims.

    Latent shape: ``(latent_channels, *(ceil(s / f) for s in spatial))`` with
    ``f = 2 ** len(channels)`` (sizes that are not multiples of ``f`` are padded).
    """

    item_shape: tuple[int, ...]
    channels: tuple[int, ...] = (16, 32)
    latent_channels: int = 4
    kernel: int = 3
    decoder: str = "subpixel"  # measured: faster int8 and no worse quality (BENCHMARKS "Peers")
    output: str = "none"
    entropy: bool = False  # learn an entropy model of the latent (rate-distortion training)

    arch: ClassVar[str] = "conv"
    dims: ClassVar[int] = 1
    layout: ClassVar[str] = "NCW"

    def __post_init__(self) -> None:
        _check(self)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Latent shape without the batch axis."""
        factor = 2 ** len(self.channels)
        return (self.latent_channels, *(-(-s // factor) for s in self.item_shape[1:]))

    @property
    def padding(self) -> tuple[int, ...]:
        """Zeros appended to each spatial axis so it is a multiple of the stride product."""
        factor = 2 ** len(self.channels)
        return tuple(-s % factor for s in self.item_shape[1:])


def _check(c: ConvConfig) -> None:
    """Validate a conv config; every message names the arch and field and says what fits."""
    arch, item_shape, channels = c.arch, tuple(c.item_shape), tuple(c.channels)
    layout = {1: "NCW (channels, window)", 2: "NCHW (channels, height, width)"}[c.dims]
    if len(item_shape) != c.dims + 1:
        raise ConfigError(f"{arch}: needs items of layout {layout}, got item shape {item_shape}")
    check_positive(f"{arch}.item_shape", item_shape, allow_empty=False)
    check_positive(f"{arch}.channels", channels, allow_empty=False)
    check_positive(f"{arch}.latent_channels", (c.latent_channels,))
    if c.kernel <= 0 or c.kernel % 2 == 0:
        raise ConfigError(f"{arch}.kernel: must be a positive odd number, got {c.kernel}")
    if c.decoder not in DECODERS:
        raise ConfigError(
            f"{arch}.decoder: must be one of {', '.join(DECODERS)}, got {c.decoder!r}"
        )
    output_activation(c.output)


class _PadEnd(nn.Module):
    """Zero-pad the spatial axes at their end by ``pads`` (exports as one ONNX Pad)."""

    def __init__(self, pads: tuple[int, ...]) -> None:
        super().__init__()
        # F.pad takes (last_begin, last_end, second_last_begin, ...)
        self.spec = tuple(v for p in reversed(pads) for v in (0, p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.spec)


class _CropTo(nn.Module):
    """Keep the first ``size`` values of each spatial axis (exports as ONNX Slice)."""

    def __init__(self, size: tuple[int, ...]) -> None:
        super().__init__()
        self.size = tuple(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.size) == 1:
            return x[:, :, : self.size[0]]
        return x[:, :, : self.size[0], : self.size[1]]


def subpixel_kernel(kernel: int) -> int:
    """The low-resolution kernel of a sub-pixel level replacing upsample + conv(``kernel``):
    an odd kernel near ``kernel / 2`` (the doubled axis halves the reach), at least 3."""
    return max(3, (kernel // 2) | 1)


class _Shuffle1d(nn.Module):
    """1-D pixel shuffle: (N, C*r, L) -> (N, C, L*r), out[c, r*l + j] = in[c*r + j, l].

    ``length`` is the input length (fixed by the item size), so the export is
    Reshape -> Transpose -> Reshape with constant shapes and a free batch axis."""

    def __init__(self, channels: int, length: int, factor: int = 2) -> None:
        super().__init__()
        self.channels, self.length, self.factor = channels, length, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, n, r = self.channels, self.length, self.factor
        return x.reshape(-1, c, r, n).permute(0, 1, 3, 2).reshape(-1, c, n * r)


def _folded_conv(conv: nn.Module, dims: int) -> nn.Module:
    """The low-resolution conv equal to nearest x2 upsampling then ``conv`` (stride 1,
    padding ``k // 2``): output channel ``c * 2**dims + phase`` holds the phase-``phase``
    samples of channel ``c``, whose taps on the upsampled signal fall on input ``i + d``
    with ``d = (phase + j - k // 2) // 2``; taps that land on one input add up."""
    k = conv.kernel_size[0]
    offsets = [[(r + j - k // 2) // 2 for j in range(k)] for r in (0, 1)]
    reach = max(abs(d) for row in offsets for d in row)
    w = conv.weight.detach()
    phases = 2**dims
    folded = torch.zeros(w.shape[0] * phases, w.shape[1], *([2 * reach + 1] * dims))
    for phase in range(phases):
        rows = [(phase >> (dims - 1 - axis)) & 1 for axis in range(dims)]  # (ry, rx) / (r,)
        for taps in np.ndindex(*([k] * dims)):
            at = tuple(offsets[r][j] + reach for r, j in zip(rows, taps, strict=True))
            channels = slice(phase, None, phases)
            folded[(channels, slice(None), *at)] += w[(slice(None), slice(None), *taps)]
    out = _CONV[dims](w.shape[1], w.shape[0] * phases, 2 * reach + 1, padding=reach)
    out.weight.data.copy_(folded)
    out.bias.data.copy_(conv.bias.detach().repeat_interleave(phases))
    return out


def fold_upsample(model: ConvAE) -> ConvAE:
    """``model`` with every nearest-upsample + conv level of its decoder replaced by the
    equal sub-pixel level (a conv at the low resolution, then the pixel shuffle).

    The same function up to float rounding, so an upsample decoder keeps the quality it
    was trained to and runs like a sub-pixel one: no Resize, 40 % fewer MACs at kernel 5,
    int8 convolutions on the short axis (issue 14). ``model`` itself is not changed.
    """
    config = model.config
    if config.decoder != "upsample":
        return model
    twin = copy.deepcopy(model)
    layers, out, level = list(twin.decoder), [], 0
    dims, levels = config.dims, len(config.channels)
    i = 0
    while i < len(layers):
        if not isinstance(layers[i], nn.Upsample):
            out.append(layers[i])
            i += 1
            continue
        conv = layers[i + 1]
        out.append(_folded_conv(conv, dims))
        i += 2
        if i < len(layers) and isinstance(layers[i], nn.ReLU):  # before the shuffle: fuses
            out.append(layers[i])
            i += 1
        if dims == 1:
            length = -(-config.item_shape[1] // 2**levels) * 2**level
            out.append(_Shuffle1d(conv.out_channels, length))
        else:
            out.append(nn.PixelShuffle(2))
        level += 1
    twin.decoder = nn.Sequential(*out)
    return twin


class ConvAE(Autoencoder):
    """Strided-conv encoder and upsample+conv (sub-pixel, ConvTranspose) decoder, 1 or 2 dims."""

    def __init__(self, config: ConvConfig) -> None:
        super().__init__()
        self.config = config
        dims, in_channels, channels = config.dims, config.item_shape[0], tuple(config.channels)
        latent_channels, kernel, decoder = config.latent_channels, config.kernel, config.decoder
        conv, pad = _CONV[dims], kernel // 2
        enc: list[nn.Module] = [_PadEnd(config.padding)] if any(config.padding) else []
        prev = in_channels
        for ch in channels:
            enc += [conv(prev, ch, kernel, stride=2, padding=pad), nn.ReLU()]
            prev = ch
        enc.append(conv(prev, latent_channels, kernel, padding=pad))
        self.encoder = nn.Sequential(*enc)

        dec: list[nn.Module] = [conv(latent_channels, channels[-1], kernel, padding=pad), nn.ReLU()]
        outs = [*channels[::-1][1:], in_channels]
        for level, (ch_in, ch_out) in enumerate(zip(channels[::-1], outs, strict=True)):
            relu = level < len(channels) - 1
            if decoder == "upsample":
                dec += [nn.Upsample(scale_factor=2, mode="nearest")]
                dec += [conv(ch_in, ch_out, kernel, padding=pad)]
            elif decoder == "subpixel":
                k = subpixel_kernel(kernel)
                dec += [conv(ch_in, ch_out * 2**dims, k, padding=k // 2)]
                if relu:  # elementwise: before the shuffle, so Conv + ReLU fuse
                    dec.append(nn.ReLU())
                    relu = False
                if dims == 1:
                    length = -(-config.item_shape[1] // 2 ** len(channels)) * 2**level
                    dec.append(_Shuffle1d(ch_out, length))
                else:
                    dec.append(nn.PixelShuffle(2))
            else:
                dec += [_TRANSPOSE[dims](ch_in, ch_out, 4, stride=2, padding=1)]
            if relu:
                dec.append(nn.ReLU())
        dec.append(output_activation(config.output))
        if any(config.padding):
            dec.append(_CropTo(tuple(config.item_shape[1:])))
        self.decoder = nn.Sequential(*dec)
        self._attach_prior(config.entropy, latent_channels)

    def for_export(self) -> ConvAE:
        """The module the exporter traces: :func:`fold_upsample` of this one."""
        return fold_upsample(self)
