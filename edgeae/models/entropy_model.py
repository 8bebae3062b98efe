"""A learned entropy model of the latents: the rate term of training and the device's code tables.

The factorized prior of Ballé et al. (2018, "Variational image compression with
a scale hyperprior", appendix 6.1): one flexible, learned density per latent
channel, whose cumulative is a small monotone network. Training adds uniform
noise to the latents (a differentiable stand-in for rounding) and pays
``-log2`` of the probability mass of each noisy value; after training,
:meth:`FactorizedPrior.tables` samples the mass of every integer into the
runtime's integer :class:`~edgeae_runtime.codec.entropy.EntropyTables`, which
the manifest carries to the device.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgeae_runtime.codec.entropy import MAX_PRECISION, EntropyTables

__all__ = ["FactorizedPrior"]

_LIKELIHOOD_FLOOR = 1e-9


class FactorizedPrior(nn.Module):
    """Per-channel learned density over latents ``(N, C, ...)`` (channel axis 1)."""

    def __init__(
        self, channels: int, filters: tuple[int, ...] = (3, 3, 3), init_scale: float = 10.0
    ) -> None:
        super().__init__()
        self.channels = int(channels)
        widths = (1, *filters, 1)
        scale = init_scale ** (1.0 / (len(widths) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(widths) - 1):
            init = math.log(math.expm1(1.0 / scale / widths[i + 1]))
            shape = (channels, widths[i + 1], widths[i])
            self.matrices.append(nn.Parameter(torch.full(shape, init)))
            self.biases.append(nn.Parameter(torch.rand(channels, widths[i + 1], 1) - 0.5))
            if i < len(widths) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[i + 1], 1)))

    def _logits_cdf(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(C, 1, M)`` -> the logit of each channel's cumulative at ``x``."""
        last = len(self.matrices) - 1
        for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases, strict=True)):
            x = torch.matmul(F.softplus(matrix), x) + bias
            if i < last:
                x = x + torch.tanh(self.factors[i]) * torch.tanh(x)
        return x

    def _mass(self, values: torch.Tensor, floor: float = _LIKELIHOOD_FLOOR) -> torch.Tensor:
        """Probability mass of ``[v - 1/2, v + 1/2]`` for ``values`` ``(C, 1, M)``.

        ``floor`` keeps the training rate finite; the tables take the mass unfloored
        (a floor on every one of their 2049 candidate values would add up to more
        than their ``tail`` and stretch every table to its widest).
        """
        lower = self._logits_cdf(values - 0.5)
        upper = self._logits_cdf(values + 0.5)
        sign = -torch.sign(lower + upper).detach()  # evaluate in the flat tail: stabler
        mass = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        return mass.clamp_min(floor)

    def forward(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``latent`` -> (noisy latent in training / rounded in eval, its bits per item ``(N,)``).

        In training the rounding is replaced by additive uniform noise, so the rate
        is differentiable; the decoder should be trained on the returned latent.
        """
        if latent.shape[1] != self.channels:
            raise ValueError(f"latent has {latent.shape[1]} channels, prior has {self.channels}")
        if self.training:
            coded = latent + torch.empty_like(latent).uniform_(-0.5, 0.5)
        else:
            coded = torch.round(latent)
        n = latent.shape[0]
        flat = coded.transpose(0, 1).reshape(self.channels, 1, -1)
        bits = -torch.log2(self._mass(flat)).reshape(self.channels, n, -1).sum(dim=(0, 2))
        return coded, bits

    @torch.no_grad()
    def tables(
        self, precision: int = MAX_PRECISION, tail: float = 1e-6, max_symbols: int = 1024
    ) -> EntropyTables:
        """Integer coding tables for the device: each channel's mass on the integers it uses.

        A channel's support is the integer range holding all but ``tail`` of its
        mass (at most ``max_symbols - 1`` values); everything outside codes as the
        escape, whose mass is what the range leaves out (at least ``tail``).
        """
        reach = max_symbols
        grid = torch.arange(-reach, reach + 1, dtype=torch.float32)
        mass = self._mass(grid.expand(self.channels, 1, -1), 0.0).squeeze(1).double().numpy()
        cum = np.cumsum(mass, axis=1) / np.maximum(mass.sum(axis=1, keepdims=True), 1e-300)
        lo = np.argmax(cum >= tail / 2, axis=1)
        hi = np.argmax(cum >= 1 - tail / 2, axis=1)
        width = int(min(max(int((hi - lo).max()) + 1, 1), max_symbols - 1))
        pmf = np.zeros((self.channels, width + 1))
        for c in range(self.channels):
            start = int(min(lo[c], grid.numel() - width))
            pmf[c, :width] = mass[c, start : start + width]
            lo[c] = start
        pmf[:, width] = np.maximum(1.0 - pmf[:, :width].sum(axis=1), tail)
        offset = (lo - reach).astype(np.int64)
        return EntropyTables.from_pmf(pmf, offset=offset, precision=precision)
