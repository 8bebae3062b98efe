"""Spectral-mask encoder-decoder for streaming speech denoising (arch ``spectral``).

Item = compressed STFT magnitudes of the current frame and ``context_frames - 1``
past frames, layout NCW ``(bins, context_frames)``; output = a mask in [0, 1] per
bin, ``(bins, 1)``, that the runtime multiplies onto the noisy complex spectrum
(``edgeae_runtime.spectral``). The graph is Conv-only so int8 QDQ fuses:

    encoder: 1x1 Conv bins->C, ReLU | depthwise Conv over the K frames (kernel K)
             | 1x1 Conv C->C, ReLU | 1x1 Conv C->latent        -> latent (latent, 1)
    decoder: 1x1 Conv latent->C, ReLU | 1x1 Conv C->C, ReLU | 1x1 Conv C->bins, Sigmoid

With ``tree`` set (e.g. ``(2, 2, 2, 2, 2)`` for 31 frames + the noise floor), the
one depthwise layer becomes a causal tree of depthwise-separable levels: level
``i`` is a depthwise Conv with kernel = stride = ``tree[i]`` then a 1x1 Conv C->C
and ReLU, so the item's columns are merged ``tree[i]`` at a time until one is
left (a longer context for a few C*C layers; still Conv-only, same item
contract). The noise-floor column is the last column, merged first with the
current frame.

Training runs the same weights on whole spectrogram sequences (:meth:`mask_sequence`:
the first layers are pointwise and the temporal convs valid (a tree level is a
dilated conv over the sequence), so sequence mode equals item mode frame by frame).
:func:`stft`, :func:`istft` and :func:`compress` are the torch twins of the runtime's
numpy front-end (same window, framing, padding and least-squares overlap-add; parity
tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn

from edgeae.errors import ConfigError

from ._common import check_positive

__all__ = [
    "SpectralConfig",
    "SpectralMaskAE",
    "analysis_window",
    "compress",
    "istft",
    "mask_gain",
    "stft",
    "track_floor",
]


@dataclass(frozen=True)
class SpectralConfig:
    """Shape of a spectral-mask model and the STFT front-end it was trained with."""

    item_shape: tuple[int, ...] = (161, 8)
    sample_rate: int = 16000
    window: int = 320
    hop: int = 160
    fft_size: int = 320
    context_frames: int = 8
    compression: Literal["power", "log1p"] = "power"
    exponent: float = 0.3
    channels: int = 128
    latent_channels: int = 48
    noise_floor: float = 0.0  # > 0: one more item column, the runtime's noise-floor tracker
    mask_floor: float = 0.0  # applied gain = mask_floor + (1 - mask_floor) * mask (runtime too)
    tree: tuple[int, ...] = ()  # () = one depthwise layer; else kernel=stride per level
    recurrent: bool = False  # a GRU of latent_channels carries the past (spectral_gru.py)

    arch: ClassVar[str] = "spectral"
    layout: ClassVar[str] = "NCW"

    def __post_init__(self) -> None:
        check_positive(
            "spectral",
            (self.sample_rate, self.window, self.hop, self.fft_size, self.context_frames),
        )
        check_positive("channels", (self.channels, self.latent_channels))
        if not 0 < self.hop <= self.window <= self.fft_size:
            raise ConfigError(
                f"spectral: need 0 < hop <= window <= fft_size, got hop {self.hop}, "
                f"window {self.window}, fft_size {self.fft_size}"
            )
        if self.compression not in ("power", "log1p"):
            raise ConfigError(f"compression: 'power' or 'log1p', got {self.compression!r}")
        if not 0 < self.exponent <= 1:
            raise ConfigError(f"exponent: must be in (0, 1], got {self.exponent}")
        if not 0 <= self.noise_floor <= 1:
            raise ConfigError(f"noise_floor: must be in [0, 1], got {self.noise_floor}")
        if not 0 <= self.mask_floor < 1:
            raise ConfigError(f"mask_floor: must be in [0, 1), got {self.mask_floor}")
        if self.recurrent and (self.tree or not 0 < self.latent_channels <= self.bins):
            raise ConfigError(
                f"recurrent: needs no tree and a state of 1..{self.bins} (the bins) latent "
                f"channels, got tree {list(self.tree)}, latent_channels {self.latent_channels}"
            )
        if self.tree and (min(self.tree) < 2 or math.prod(self.tree) != self.columns):
            raise ConfigError(
                f"tree: levels >= 2 whose product is the item's {self.columns} columns "
                f"(context frames + noise floor), got {list(self.tree)}"
            )
        want = (self.bins, self.columns)
        if tuple(self.item_shape) != want:
            raise ConfigError(
                f"item_shape: fft_size {self.fft_size} with {self.context_frames} context frames "
                f"needs items {list(want)}, got {list(self.item_shape)}"
            )

    @property
    def bins(self) -> int:
        return self.fft_size // 2 + 1

    @property
    def columns(self) -> int:
        """Item columns: the context frames, the noise floor when tracked, the state when
        recurrent."""
        return self.context_frames + int(self.noise_floor > 0) + int(self.recurrent)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.latent_channels, 1)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.bins, 1)


class SpectralMaskAE(nn.Module):
    """The spectral-mask encoder-decoder built from a :class:`SpectralConfig`."""

    arch = "spectral"
    layout = "NCW"

    def __init__(self, config: SpectralConfig) -> None:
        super().__init__()
        self.config = config
        f, c, lat, k = config.bins, config.channels, config.latent_channels, config.columns
        if config.tree:
            levels: list[nn.Module] = []
            for t in config.tree:
                levels += [nn.Conv1d(c, c, t, stride=t, groups=c), nn.Conv1d(c, c, 1), nn.ReLU()]
            self.encoder = nn.Sequential(
                nn.Conv1d(f, c, 1), nn.ReLU(), *levels, nn.Conv1d(c, lat, 1)
            )
        else:
            self.encoder = nn.Sequential(
                nn.Conv1d(f, c, 1),
                nn.ReLU(),
                nn.Conv1d(c, c, k, groups=c),
                nn.Conv1d(c, c, 1),
                nn.ReLU(),
                nn.Conv1d(c, lat, 1),
            )
        self.decoder = nn.Sequential(
            nn.Conv1d(lat, c, 1),
            nn.ReLU(),
            nn.Conv1d(c, c, 1),
            nn.ReLU(),
            nn.Conv1d(c, f, 1),
            nn.Sigmoid(),
        )
        with torch.no_grad():  # start near "pass everything": mask about 0.7
            self.decoder[-2].bias.fill_(1.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Items ``(N, bins, K)`` -> latents ``(N, latent, 1)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``(N, latent, 1)`` -> masks ``(N, bins, 1)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def for_export(self) -> nn.Module:
        """The module the exporter traces: this one, batch folded (:class:`_FoldedBatch`)."""
        return _FoldedBatch(self)

    def mask_sequence(self, feats: torch.Tensor) -> torch.Tensor:
        """Masks ``(B, bins, T)`` of feature sequences ``(B, bins, T)`` (silence before t=0).

        Equal, frame by frame, to the item-mode model on the runtime's items
        (context frames, then the noise floor column when tracked).
        """
        cfg = self.config
        pad = cfg.context_frames - 1
        x = nn.functional.pad(feats, (pad, 0))
        if cfg.tree:
            return self._tree_sequence(x, feats)
        if cfg.noise_floor <= 0:
            return self.decoder(self.encoder(x))
        first, act, dw = self.encoder[0], self.encoder[1], self.encoder[2]
        h = act(first(x))
        g = act(first(track_floor(feats, cfg.noise_floor)))
        w = dw.weight  # (C, 1, K + 1): the last tap weighs the floor column
        y = nn.functional.conv1d(h, w[:, :, :-1], dw.bias, groups=dw.groups)
        y = y + g * w[:, 0, -1][None, :, None]
        return self.decoder(self.encoder[3:](y))

    def _tree_sequence(self, padded: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        """:meth:`mask_sequence` of a tree model, each level once per frame.

        Item column ``j`` from the end is frame ``t + off - j`` (``off`` = 1 with the
        noise-floor column last, else 0), so level ``l`` of the tree over every
        item is a dilated conv ``G_l`` over the sequence (dilation = product of the
        earlier kernels), except the item's last column ``S_l``, which holds the
        floor (or the current frame): ``S_l(t)`` merges ``G_{l-1}`` at
        ``t + off - (k-1)d .. t + off - d`` with ``S_{l-1}(t)``.
        """
        cfg = self.config
        t_len = feats.shape[-1]
        first = self.encoder[:2]
        g = first(padded)  # G_0 at frames -(K-1) .. T-1
        start = -(cfg.context_frames - 1)
        off = 1 if cfg.noise_floor > 0 else 0
        s = first(track_floor(feats, cfg.noise_floor)) if off else g[..., -t_len:]
        d = 1
        for i, k in enumerate(cfg.tree):
            dw, pw, act = self.encoder[2 + 3 * i : 5 + 3 * i]
            w = dw.weight  # (C, 1, k)
            cols = [g[..., off - m * d - start :][..., :t_len] for m in range(k - 1, 0, -1)]
            s_new = dw.bias[None, :, None] + w[:, 0, -1][None, :, None] * s
            for j, c in enumerate(cols):
                s_new = s_new + w[:, 0, j][None, :, None] * c
            if i + 1 < len(cfg.tree):
                g = act(pw(nn.functional.conv1d(g, w, dw.bias, dilation=d, groups=dw.groups)))
                start += (k - 1) * d
            s = act(pw(s_new))
            d *= k
        return self.decoder(self.encoder[-1](s))

    def macs_per_frame(self) -> int:
        """Multiply-accumulates of one item through the graph (every Conv; what a frame costs)."""
        total = 0

        def count(mod: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            nonlocal total
            assert isinstance(mod, nn.Conv1d)
            total += out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0]

        hooks = [m.register_forward_hook(count) for m in self.modules() if isinstance(m, nn.Conv1d)]
        try:
            with torch.no_grad():
                self(torch.zeros(1, *self.config.item_shape))
        finally:
            for hk in hooks:
                hk.remove()
        return total


def mask_gain(mask: torch.Tensor, cfg: SpectralConfig) -> torch.Tensor:
    """The gain the runtime applies (``edgeae_runtime.spectral.mask_gain``): the mask
    lifted by ``mask_floor``, so no bin is attenuated below it."""
    if cfg.mask_floor <= 0:
        return mask
    return cfg.mask_floor + (1.0 - cfg.mask_floor) * mask


class _FoldedBatch(nn.Module):
    """A :class:`SpectralMaskAE`'s function with the batch folded into the length axis
    after the temporal layers: ``(N, C, 1)`` becomes ``(1, C, N)``.

    Past its temporal convs every item is one column, and onnxruntime's int8 convs on
    ``(N, C, 1)`` run N matrix-vector products; on ``(1, C, N)`` each 1x1 conv is one
    matrix product (batch 256: -21 %; batch 1: the same graph). Same weights, same items
    in and masks out; the exporter checks it against the model.
    """

    def __init__(self, model: SpectralMaskAE) -> None:
        super().__init__()
        enc = model.encoder
        last = max(
            i for i, m in enumerate(enc) if isinstance(m, nn.Conv1d) and m.kernel_size[0] > 1
        )
        self.temporal, self.pointwise = enc[: last + 1], enc[last + 1 :]
        self.decoder = model.decoder

    def _row(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.temporal(x).permute(2, 1, 0))  # (1, latent, N)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self._row(x).permute(2, 1, 0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z.permute(2, 1, 0)).permute(2, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self._row(x)).permute(2, 1, 0)


def analysis_window(window: int, device: torch.device | None = None) -> torch.Tensor:
    """sqrt of the half-sample-offset Hann window (the runtime's ``analysis_window``)."""
    i = torch.arange(window, dtype=torch.float64, device=device)
    hann = 0.5 - 0.5 * torch.cos(2.0 * math.pi * (i + 0.5) / window)
    return hann.to(torch.float32).sqrt()


def _n_frames(n: int, window: int, hop: int) -> int:
    return 1 if n <= window else -(-(n - window) // hop) + 1


def stft(x: torch.Tensor, cfg: SpectralConfig) -> torch.Tensor:
    """Complex spectra ``(B, bins, T)`` of signals ``(B, n)``, end zero-padded like the runtime."""
    n = x.shape[-1]
    k = _n_frames(n, cfg.window, cfg.hop)
    total = (k - 1) * cfg.hop + cfg.window
    xp = nn.functional.pad(x, (0, total - n))
    frames = xp.unfold(-1, cfg.window, cfg.hop)  # (B, T, window)
    a = analysis_window(cfg.window, x.device)
    return torch.fft.rfft(frames * a, n=cfg.fft_size, dim=-1).transpose(1, 2)


def istft(spec: torch.Tensor, cfg: SpectralConfig, length: int) -> torch.Tensor:
    """Least-squares inverse of :func:`stft`: ``sum_k a*irfft / sum_k a*a``, ``(B, length)``."""
    frames = torch.fft.irfft(spec.transpose(1, 2), n=cfg.fft_size, dim=-1)[..., : cfg.window]
    k = frames.shape[1]
    total = (k - 1) * cfg.hop + cfg.window
    a = analysis_window(cfg.window, spec.device)
    fold = nn.Fold(output_size=(1, total), kernel_size=(1, cfg.window), stride=(1, cfg.hop))
    acc = fold((frames * a).transpose(1, 2)).reshape(frames.shape[0], total)
    wsum = fold((a * a).expand(1, k, -1).transpose(1, 2)).reshape(1, total)
    return (acc / wsum)[:, :length]


@torch.no_grad()
def track_floor(feats: torch.Tensor, rate: float) -> torch.Tensor:
    """The runtime's ``track_floor`` over ``(B, bins, T)`` feature sequences (no gradient).

    Runs the runtime's own numpy loop (``edgeae_runtime.spectral.track_floor``) on all
    ``B * bins`` tracks at once: the same float32 arithmetic, bit for bit, as the torch
    loop it replaces, without torch's per-op overhead on 151 small steps per segment.
    """
    from edgeae_runtime.spectral import track_floor as _np_track_floor

    b, bins, t = feats.shape
    frames = feats.detach().to("cpu", torch.float32).permute(2, 0, 1).reshape(t, b * bins)
    out, _ = _np_track_floor(frames.contiguous().numpy(), None, rate)
    floors = torch.from_numpy(out).reshape(t, b, bins).permute(1, 2, 0).contiguous()
    return floors.to(feats.device, feats.dtype)


def compress(mag: torch.Tensor, cfg: SpectralConfig) -> torch.Tensor:
    """The model's input features: ``|X|**exponent`` or ``log1p(|X|)`` (inputs need no grad)."""
    if cfg.compression == "log1p":
        return torch.log1p(mag)
    return mag.clamp_min(0.0).pow(cfg.exponent)
