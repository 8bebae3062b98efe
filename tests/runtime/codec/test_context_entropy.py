"""The context entropy model: neighbour law, exact round trips on both paths, fewer bytes
than the factorized tables on spatially structured codes, pinned bytes, checked tables."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime.codec.entropy import (
    MAG_CAP,
    EntropyTables,
    context_classes,
    decode_frames,
    encode_frames,
    neighbour_map,
)
from edgeae_runtime.errors import InputError, StreamError

from .mutations import drawn_damage


def context_tables(
    channels: int, half: int, thresholds=(1, 3), neighbours=(1, 2), precision: int = 16
) -> EntropyTables:
    """Laplace tables over [-half, half], wider for each higher context class, escape last."""
    values = np.arange(-half, half + 1)
    k = len(thresholds) + 1
    scales = np.tile(0.3 * 3.0 ** np.arange(k), channels)
    pmf = np.exp(-np.abs(values)[None, :] / scales[:, None])
    pmf = np.concatenate([pmf, np.full((channels * k, 1), 1e-4)], axis=1)
    return EntropyTables.from_pmf(
        pmf, [-half] * channels, precision, thresholds=thresholds, neighbours=neighbours
    )


def blob_codes(rng, items: int, shape: tuple[int, ...], spread: float = 3.0) -> np.ndarray:
    """Latents that are zero except in a few active patches (runs of zeros, busy regions)."""
    active = rng.random((items, *shape)) < 0.05
    for axis in range(1, len(shape) + 1):
        active |= np.roll(active, 1, axis=axis)
    return np.where(active, np.round(rng.laplace(0.0, spread, active.shape)), 0).astype(np.int64)


def test_neighbour_map_points_at_the_previous_code_along_each_axis():
    nb = neighbour_map((2, 3, 4), 2, (0, 1, 2))
    size = 24
    pos = np.arange(2 * size)
    c, h, w = np.unravel_index(pos % size, (2, 3, 4))
    assert np.array_equal(nb[0], np.where(c > 0, pos - 12, -1))  # previous channel
    assert np.array_equal(nb[1], np.where(h > 0, pos - 4, -1))  # up
    assert np.array_equal(nb[2], np.where(w > 0, pos - 1, -1))  # left
    assert np.all(nb < pos)  # always already decoded
    with pytest.raises(InputError) as info:
        neighbour_map((8,), 1, (1,))
    assert info.value.param == "neighbours"


def test_context_is_the_thresholded_sum_of_neighbour_magnitudes():
    tables = context_tables(1, 4, thresholds=(1, 3), neighbours=(1,))
    codes = np.array([[0, 2, -1, 7, 0, -3]])  # (1, 6) latent, previous along axis 1
    nb = neighbour_map((1, 6), 1, (1,))
    ctx = context_classes(codes, np.zeros(6, dtype=np.int64), nb, tables)
    # neighbours: none, 0, 2, 1, escape (7 > 4: MAG_CAP), 0
    assert ctx.tolist() == [[0, 0, 1, 1, 2, 0]]
    assert MAG_CAP >= 3


@settings(max_examples=60, deadline=None)
@given(
    frames=st.integers(1, 5),
    items=st.integers(1, 3),
    rank=st.integers(1, 3),
    spread=st.floats(0.2, 20.0),
    precision=st.integers(10, 16),
    seed=st.integers(0, 2**32 - 1),
    axes=st.sampled_from([(0,), (1,), (0, 1), (1, 2), (0, 1, 2)]),
)
def test_round_trip_is_exact_and_paths_agree(frames, items, rank, spread, precision, seed, axes):
    rng = np.random.default_rng(seed)
    shape = (2, 3, 4)[:rank]
    axes = tuple(a for a in axes if a < rank) or (0,)
    tables = context_tables(2, 6, thresholds=(1, 2, 5), neighbours=axes, precision=precision)
    codes = blob_codes(rng, frames * items, shape, spread).reshape(frames, -1)  # some escape
    channel = np.tile(np.repeat(np.arange(2), codes.shape[1] // (2 * items)), items)
    nb = neighbour_map(shape, items, axes)
    payloads = encode_frames(codes, channel, tables, neighbours=nb)
    one_by_one = [
        encode_frames(codes[i : i + 1], channel, tables, neighbours=nb)[0] for i in range(frames)
    ]
    assert payloads == one_by_one  # the vector and the scalar path write the same bytes
    assert np.array_equal(decode_frames(payloads, channel, tables, neighbours=nb), codes)
    alone = [decode_frames([b], channel, tables, neighbours=nb)[0] for b in payloads]
    assert np.array_equal(np.stack(alone), codes)


def _fit(codes: np.ndarray, thresholds, neighbours) -> EntropyTables:
    """Tables fitted to ``codes`` (N, 1, H, W) per context class (counts + 0.5), escape last."""
    half = int(np.abs(codes).max()) + 1
    k = len(thresholds) + 1
    flat = codes.reshape(len(codes), -1)
    sym = flat + half
    uniform = EntropyTables.from_pmf(
        np.ones((k, 2 * half + 2)), [-half], thresholds=thresholds, neighbours=neighbours
    )
    nb = neighbour_map(codes.shape[1:], 1, neighbours) if neighbours else None
    ctx = context_classes(flat, np.zeros(flat.shape[1], dtype=np.int64), nb, uniform)
    counts = np.zeros((k, 2 * half + 2))
    np.add.at(counts, (ctx.ravel(), sym.ravel()), 1)
    return EntropyTables.from_pmf(
        counts + 0.5, [-half], thresholds=thresholds, neighbours=neighbours
    )


def test_context_model_codes_structured_codes_in_fewer_bytes():
    rng = np.random.default_rng(7)
    train, test = blob_codes(rng, 400, (1, 8, 8)), blob_codes(rng, 64, (1, 8, 8))
    factorized = _fit(train, (), ())
    context = _fit(train, (1, 3, 6), (1, 2))
    channel = np.zeros(64 * 64, dtype=np.int64)
    flat = test.reshape(1, -1)
    plain = len(encode_frames(flat, channel, factorized)[0])
    nb = neighbour_map((1, 8, 8), 64, (1, 2))
    ctx = encode_frames(flat, channel, context, neighbours=nb)[0]
    assert len(ctx) < 0.93 * plain  # 554 against 616 bytes
    assert np.array_equal(decode_frames([ctx], channel, context, neighbours=nb), flat)


def test_a_factorized_model_ignores_the_neighbour_map():
    tables = context_tables(1, 4, thresholds=(), neighbours=())
    codes = np.array([[0, 1, -2, 3]])
    with_map = encode_frames(codes, np.zeros(4, int), tables, neighbours=np.zeros((2, 4), int))
    assert with_map == encode_frames(codes, np.zeros(4, int), tables)


def test_bytes_are_pinned():
    """Changing these bytes breaks every version 4 stream already written (every platform)."""
    tables = context_tables(2, 5, thresholds=(1, 2, 4), neighbours=(0, 2))
    rng = np.random.default_rng(99)
    codes = blob_codes(rng, 6, (2, 2, 5)).reshape(3, -1)
    channel = np.tile(np.repeat(np.arange(2), 10), 2)
    nb = neighbour_map((2, 2, 5), 2, (0, 2))
    payloads = encode_frames(codes, channel, tables, neighbours=nb)
    assert np.array_equal(decode_frames(payloads, channel, tables, neighbours=nb), codes)
    assert [len(p) for p in payloads] == LENGTHS
    assert hashlib.sha256(b"".join(payloads)).hexdigest() == DIGEST


LENGTHS = [11, 16, 8]
DIGEST = "23382f653e20875692b890f302aa0ccd666f86a127d979fe3f048e8488ff1e77"


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_corrupted_payloads_raise_stream_error_or_decode(data):
    tables = context_tables(2, 6, thresholds=(1, 3), neighbours=(0, 1))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    codes = blob_codes(rng, 1, (2, 9)).reshape(1, -1)
    channel = np.repeat(np.arange(2), 9)
    nb = neighbour_map((2, 9), 1, (0, 1))
    buf = drawn_damage(data, encode_frames(codes, channel, tables, neighbours=nb)[0])
    try:
        out = decode_frames([buf], channel, tables, neighbours=nb)
    except StreamError as exc:
        assert "frame 0" in str(exc)
    else:
        assert out.shape == (1, 18)


@pytest.mark.parametrize(
    ("thresholds", "neighbours", "rows", "param"),
    [
        ((2, 1), (0,), 3, "thresholds"),  # not rising
        ((0,), (0,), 2, "thresholds"),  # below 1
        ((1,), (), 2, "neighbours"),  # thresholds without neighbours
        ((), (1,), 1, "neighbours"),  # neighbours without thresholds
        ((1,), (2, 1), 2, "neighbours"),  # not rising
        ((1, 2), (0,), 2, "offset"),  # 2 rows for 1 channel x 3 contexts
    ],
)
def test_malformed_context_tables_name_the_field(thresholds, neighbours, rows, param):
    cdf = np.tile([0, 5, 9, 16], (rows, 1))
    with pytest.raises(InputError) as info:
        EntropyTables(
            cdf=cdf, offset=np.array([0]), precision=4, thresholds=thresholds,
            neighbours=neighbours,
        )  # fmt: skip
    assert info.value.param == param


def test_a_context_model_needs_its_neighbour_map():
    tables = context_tables(1, 3, thresholds=(1,), neighbours=(1,))
    with pytest.raises(InputError) as info:
        encode_frames(np.zeros((1, 4), int), np.zeros(4, int), tables)
    assert info.value.param == "neighbours"
    later = np.array([[1, 2, 3, -1]])  # position 0's neighbour would be decoded after it
    with pytest.raises(InputError):
        decode_frames([b"\0\0\1\0"], np.zeros(4, int), tables, neighbours=later)


def test_context_tables_survive_the_manifest_round_trip_and_name_their_law():
    tables = context_tables(2, 3, thresholds=(1, 4), neighbours=(0, 1), precision=12)
    back = EntropyTables.from_spec(tables.to_spec())
    assert np.array_equal(back.cdf, tables.cdf)
    assert (back.thresholds, back.neighbours, back.model) == ((1, 4), (0, 1), "context")
    assert back.digest == tables.digest
    other_law = context_tables(2, 3, thresholds=(1, 5), neighbours=(0, 1), precision=12)
    assert np.array_equal(other_law.cdf, tables.cdf)  # same rows, another law...
    assert other_law.digest != tables.digest  # ...another model
