"""The recurrent spectral-mask denoiser (``SpectralConfig(recurrent=True)``, arch ``spectral``).

Same STFT front-end, features and mask contract as :class:`~.spectral.SpectralMaskAE`;
the past is carried by a GRU instead of context frames. Item ``(bins, columns)`` =
the context frames (usually just the current one), the noise-floor column, and a
last *state* column whose first ``latent_channels`` rows hold the previous frame's
latent (zero at the start of a stream); the latent is the new state::

    encoder: Conv bins x (columns - 1) -> C/2, ReLU | GRU cell (state = latent)  -> latent (H, 1)
    decoder: 1x1 Conv H->C, ReLU | 1x1 Conv C->bins, Sigmoid                     -> mask (bins, 1)

So a recurrent model is still one input and two outputs: the runtime feeds each
frame's latent back into the next item (``edgeae_runtime.spectral``, manifest
``spectral.state``), and calibration, parity, compare and the speed gate run on items
that carry the float model's own states (:meth:`SpectralGRUMask.with_states`).
The GRU cell is written out with Linear ops (Gemm, int8-quantizable) for the graph;
training runs ``torch.nn.GRU`` on whole sequences (:meth:`mask_sequence`), equal to the
cell frame by frame.
"""

from __future__ import annotations

import torch
from torch import nn

from edgeae.errors import ConfigError

from .spectral import SpectralConfig, track_floor

__all__ = ["SpectralGRUMask"]


class SpectralGRUMask(nn.Module):
    """The GRU mask model built from a recurrent :class:`SpectralConfig`."""

    arch = "spectral"
    layout = "NCW"

    def __init__(self, config: SpectralConfig) -> None:
        super().__init__()
        if not config.recurrent:
            raise ConfigError("recurrent: SpectralGRUMask needs SpectralConfig(recurrent=True)")
        self.config = config
        f, c, h = config.bins, config.channels, config.latent_channels
        self.input = nn.Sequential(nn.Conv1d(f, c // 2, config.columns - 1), nn.ReLU())
        self.gru = nn.GRU(c // 2, h, batch_first=True)
        self.decoder = nn.Sequential(
            nn.Conv1d(h, c, 1), nn.ReLU(), nn.Conv1d(c, f, 1), nn.Sigmoid()
        )
        with torch.no_grad():  # start near "pass everything", as the conv model does
            self.decoder[-2].bias.fill_(1.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Items ``(N, bins, columns)`` -> new states (latents) ``(N, H, 1)``: one GRU step."""
        h = self.config.latent_channels
        state = x[:, :h, -1]
        u = self.input(x[:, :, :-1])[:, :, 0]
        g = self.gru
        gi = nn.functional.linear(u, g.weight_ih_l0, g.bias_ih_l0)
        gh = nn.functional.linear(state, g.weight_hh_l0, g.bias_hh_l0)
        r = torch.sigmoid(gi[:, :h] + gh[:, :h])
        z = torch.sigmoid(gi[:, h : 2 * h] + gh[:, h : 2 * h])
        n = torch.tanh(gi[:, 2 * h :] + r * gh[:, 2 * h :])
        return ((1 - z) * n + z * state)[:, :, None]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``(N, H, 1)`` -> masks ``(N, bins, 1)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def _states(self, feats: torch.Tensor) -> torch.Tensor:
        """GRU states ``(B, H, T)`` after each frame of feature sequences ``(B, bins, T)``."""
        cfg = self.config
        conv = self.input[0]
        k = cfg.context_frames
        x = nn.functional.pad(feats, (k - 1, 0))
        u = nn.functional.conv1d(x, conv.weight[:, :, :k], conv.bias)
        if cfg.noise_floor > 0:
            floor = track_floor(feats, cfg.noise_floor)
            u = u + nn.functional.conv1d(floor, conv.weight[:, :, k:])
        hs, _ = self.gru(torch.relu(u).transpose(1, 2))
        return hs.transpose(1, 2)

    def mask_sequence(self, feats: torch.Tensor) -> torch.Tensor:
        """Masks ``(B, bins, T)`` of feature sequences ``(B, bins, T)`` (causal; zero state and
        silence before t=0): equal, frame by frame, to the item-mode model."""
        return self.decoder(self._states(feats))

    @torch.no_grad()
    def with_states(self, items: torch.Tensor) -> torch.Tensor:
        """One stream's items ``(T, bins, columns)`` (the runtime's, state column ignored)
        with the state column this model feeds itself: what the runtime runs it on, for
        parity and calibration before a model file exists."""
        cfg = self.config
        feats = items[:, :, cfg.context_frames - 1].T  # the current frame of each item
        out = items.clone()
        out[:, :, -1] = 0.0
        out[1:, : cfg.latent_channels, -1] = self._states(feats[None])[0, :, :-1].T
        return out

    def macs_per_frame(self) -> int:
        """Multiply-accumulates of one item through the graph (input conv, GRU cell, decoder)."""
        cfg = self.config
        w, h, c = cfg.channels // 2, cfg.latent_channels, cfg.channels
        return cfg.bins * (cfg.columns - 1) * w + 3 * h * (w + h) + h * c + c * cfg.bins
