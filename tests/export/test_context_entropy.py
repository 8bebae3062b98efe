"""Fitting the context and adaptive entropy models at export: chosen by held-out bits, or
not at all."""

from __future__ import annotations

import numpy as np
import pytest

from edgeae_export.context_entropy import (
    ADAPT_WEIGHTS,
    MIN_GAIN,
    fit_adaptive_tables,
    fit_context_tables,
)
from edgeae_export.errors import ExportError
from edgeae_runtime.codec.entropy import EntropyTables, decode_frames, encode_frames, neighbour_map


def laplace_base(channels: int, half: int, scale: float) -> EntropyTables:
    values = np.arange(-half, half + 1)
    pmf = np.exp(-np.abs(values) / scale)[None].repeat(channels, 0)
    return EntropyTables.from_pmf(
        np.concatenate([pmf, np.full((channels, 1), 1e-4)], axis=1), [-half] * channels
    )


def patchy(rng, n: int, shape) -> np.ndarray:
    """Zero latents with a few busy patches: the spatial structure a context model codes."""
    busy = rng.random((n, *shape)) < 0.04
    for axis in range(2, len(shape) + 1):
        busy |= np.roll(busy, 1, axis=axis) | np.roll(busy, -1, axis=axis)
    return np.where(busy, np.round(rng.laplace(0, 3.0, busy.shape)), 0).astype(np.int64)


def test_structured_codes_get_a_context_model_that_codes_them_in_fewer_bytes():
    rng = np.random.default_rng(0)
    base = laplace_base(2, 12, 2.0)
    fit = fit_context_tables(patchy(rng, 300, (2, 8, 8)), base)
    assert fit.tables is not None and fit.tables.model == "context"
    assert fit.context_bits < (1 - MIN_GAIN) * fit.factorized_bits
    assert set(fit.tables.neighbours) & {1, 2}  # a spatial neighbour was worth it
    # on new codes of the same kind, through the real coder
    test = patchy(rng, 64, (2, 8, 8)).reshape(1, -1)
    channel = np.tile(np.repeat(np.arange(2), 64), 64)
    nb = neighbour_map((2, 8, 8), 64, fit.tables.neighbours)
    ctx = encode_frames(test, channel, fit.tables, neighbours=nb)[0]
    plain = encode_frames(test, channel, base)[0]
    assert len(ctx) < 0.8 * len(plain)
    assert np.array_equal(decode_frames([ctx], channel, fit.tables, neighbours=nb), test)
    assert fit.tables.digest != base.digest


def test_independent_codes_keep_the_factorized_tables():
    rng = np.random.default_rng(1)
    base = laplace_base(3, 12, 2.0)
    codes = np.round(rng.laplace(0, 2.0, (400, 3, 6))).astype(np.int64)
    fit = fit_context_tables(codes, base)
    assert fit.tables is None  # nothing to gain: the manifest keeps one model
    assert fit.context_bits > (1 - MIN_GAIN) * fit.factorized_bits


def test_codes_must_match_the_tables():
    base = laplace_base(2, 4, 1.0)
    with pytest.raises(ExportError, match="channels"):
        fit_context_tables(np.zeros((4, 3, 5), dtype=np.int64), base)
    with pytest.raises(ExportError, match="integer"):
        fit_context_tables(np.zeros((4, 2, 5)), base)


def drifting(rng, frames: int, shape) -> np.ndarray:
    """Frames of 64 latents, each frame with its own value per channel (a stream of images
    that are not alike, as a flat image's latents sit at one code): what tables adapting
    within a frame are for."""
    out = []
    for _ in range(frames):
        level = rng.integers(-4, 5, (1, shape[0]) + (1,) * (len(shape) - 1))
        noise = rng.random((64, *shape)) < 0.1
        out.append(level + noise * np.round(rng.laplace(0, 2.0, noise.shape)))
    return np.concatenate(out).astype(np.int64)


def test_codes_that_change_from_frame_to_frame_get_an_adaptive_model():
    rng = np.random.default_rng(2)
    base = laplace_base(2, 12, 2.0)
    fit = fit_adaptive_tables(drifting(rng, 8, (2, 4, 4)), base)
    assert fit.tables is not None and fit.tables.model == "adaptive"
    assert fit.tables.adapt in ADAPT_WEIGHTS and fit.tables.positions
    assert fit.adaptive_bits < (1 - MIN_GAIN) * fit.static_bits
    test = drifting(rng, 1, (2, 4, 4))
    static = fit_context_tables(drifting(rng, 8, (2, 4, 4)), base).tables or base
    channel = np.tile(np.repeat(np.arange(2), 16), 64)
    kw = {
        "latent_shape": (2, 4, 4),
        "neighbours": neighbour_map((2, 4, 4), 64, fit.tables.neighbours),
    }
    ada = encode_frames(test.reshape(1, -1), channel, fit.tables, **kw)[0]
    nb = neighbour_map((2, 4, 4), 64, static.neighbours) if static.neighbours else None
    plain = encode_frames(test.reshape(1, -1), channel, static, neighbours=nb)[0]
    assert len(ada) < len(plain)
    assert np.array_equal(decode_frames([ada], channel, fit.tables, **kw), test.reshape(1, -1))


def test_codes_alike_in_every_frame_keep_static_tables():
    rng = np.random.default_rng(3)
    base = laplace_base(2, 12, 2.0)
    codes = np.round(rng.laplace(0, 2.0, (512, 2, 6))).astype(np.int64)
    fit = fit_adaptive_tables(codes, base)
    assert fit.tables is None
    assert fit.adaptive_bits > (1 - MIN_GAIN) * fit.static_bits
