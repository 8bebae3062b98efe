"""The learned factorized prior: it learns a density, and its device tables code at its rate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeae.models import asdict, build_model, config_from_dict
from edgeae.models.entropy_model import FactorizedPrior
from edgeae_runtime.codec.entropy import decode_frames, encode_frames


def fitted_prior(samples: torch.Tensor, steps: int = 100) -> FactorizedPrior:
    torch.manual_seed(0)
    prior = FactorizedPrior(samples.shape[1])
    opt = torch.optim.Adam(prior.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        _, bits = prior(samples)
        bits.mean().backward()
        opt.step()
    return prior.eval()


def laplace_latents(n: int, scales) -> torch.Tensor:
    gen = np.random.default_rng(0)
    cols = [gen.laplace(0.0, s, (n, 1, 16)) for s in scales]
    return torch.tensor(np.concatenate(cols, axis=1), dtype=torch.float32)


def empirical_bits(codes: np.ndarray) -> float:
    """Entropy of the rounded values, per channel (what an ideal coder would pay)."""
    total = 0.0
    for c in range(codes.shape[1]):
        _, counts = np.unique(codes[:, c], return_counts=True)
        p = counts / counts.sum()
        total += -(counts * np.log2(p)).sum()
    return total


@pytest.fixture(scope="module")
def latents() -> torch.Tensor:
    return laplace_latents(100, [0.5, 4.0])


@pytest.fixture(scope="module")
def prior(latents) -> FactorizedPrior:
    return fitted_prior(latents)


def test_prior_learns_each_channels_rate(latents, prior):
    coded, bits = prior(latents)
    ideal = empirical_bits(coded.numpy()) / latents.shape[0]
    assert torch.equal(coded, torch.round(latents))
    assert ideal <= bits.mean().item() <= 1.08 * ideal
    # the wide channel costs more than the narrow one
    narrow = prior(latents[:, :1].repeat(1, 2, 1))[1].mean().item()
    assert bits.mean().item() > narrow


def test_training_mode_adds_noise_and_keeps_gradients():
    prior = FactorizedPrior(2)
    latent = torch.zeros(4, 2, 3, requires_grad=True)
    coded, bits = prior(latent)
    assert 0 < coded.detach().abs().max() <= 0.5
    bits.sum().backward()
    assert latent.grad is not None and all(p.grad is not None for p in prior.parameters())


def test_tables_code_at_the_prior_rate(latents, prior):
    tables = prior.tables()
    codes = torch.round(latents).numpy().astype(np.int64)
    flat = codes.reshape(codes.shape[0], -1)
    channel = np.repeat(np.arange(2), 16)
    payloads = encode_frames(flat, channel, tables)
    assert np.array_equal(decode_frames(payloads, channel, tables), flat)
    coded_bits = 8 * sum(len(p) for p in payloads) - 32 * len(payloads)  # minus state flushes
    estimated = prior(latents)[1].sum().item()
    assert coded_bits <= 1.03 * estimated + 16 * len(payloads)


@pytest.mark.parametrize(
    ("arch", "item_shape", "latent_channels"),
    [
        ("dense", (12,), 4),
        ("dense2d", (1, 4, 4), 4),
        ("conv1d", (1, 16), 3),
        ("conv2d", (1, 8, 8), 3),
    ],
)
def test_every_family_can_carry_a_prior(arch, item_shape, latent_channels):
    extra = (
        {"latent": latent_channels}
        if arch.startswith("dense")
        else {"latent_channels": latent_channels, "channels": (4,)}
    )
    config = config_from_dict(arch, {"item_shape": item_shape, "entropy": True, **extra})
    model = build_model(arch, config)
    x = torch.randn(5, *item_shape)
    model.train()
    out = model(x)
    assert out.shape == x.shape and model.bits.shape == (5,)
    assert torch.all(model.bits > 0)
    model.eval()
    assert torch.equal(model(x), model.decode(model.encode(x)))  # what the exporter traces
    again = build_model(arch, config_from_dict(arch, asdict(config)))
    again.load_state_dict(model.state_dict())  # the prior's weights travel with the model
    assert any(k.startswith("prior.") for k in model.state_dict())


def test_tables_span_the_mass_not_the_training_floor(latents, prior):
    """The tables cover what the prior's mass needs (Laplace scales 0.5 and 4: a few dozen
    values), not all 1023: the training rate's likelihood floor on every candidate value
    must not count as tail mass (it stretched every table to its widest, and every unused
    symbol keeps a frequency of 1: 0.023 bits per code on a one-value channel)."""
    tables = prior.tables()
    assert tables.symbols < 200
    codes = torch.round(latents).numpy().astype(np.int64)
    flat = codes.reshape(codes.shape[0], -1)
    channel = np.repeat(np.arange(2), 16)
    assert np.array_equal(
        decode_frames(encode_frames(flat, channel, tables), channel, tables), flat
    )
    freq = np.diff(tables.cdf, axis=1)
    escape_share = freq[:, -1] / (1 << tables.precision)
    assert np.all(escape_share < 1e-3)  # the escape keeps only what the support leaves out
