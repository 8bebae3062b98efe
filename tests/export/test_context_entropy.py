"""Fitting the context entropy model at export: chosen by held-out bits, or not at all."""

from __future__ import annotations

import numpy as np
import pytest

from edgeae_export.context_entropy import MIN_GAIN, fit_context_tables
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
