"""The rANS entropy coder: exact round trips, one byte stream whatever the path, pinned bytes."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime.codec.entropy import EntropyTables, decode_frames, encode_frames
from edgeae_runtime.errors import InputError, StreamError
from edgeae_runtime.manifest import EntropySpec

from .mutations import drawn_damage


def laplace_tables(channels: int, half: int, scales, precision: int = 16) -> EntropyTables:
    """Discretised Laplace tables over [-half, half] per channel, escape mass last."""
    values = np.arange(-half, half + 1)
    pmf = np.exp(-np.abs(values)[None, :] / np.asarray(scales, dtype=float)[:, None])
    pmf = np.concatenate([pmf, np.full((channels, 1), 1e-4)], axis=1)
    return EntropyTables.from_pmf(pmf, offset=[-half] * channels, precision=precision)


def laplace_codes(rng, frames: int, size: int, scale: float) -> np.ndarray:
    return np.round(rng.laplace(0.0, scale, (frames, size))).astype(np.int64)


def test_from_pmf_sums_to_precision_and_keeps_every_symbol():
    pmf = np.array([[0.0, 1.0, 0.0, 1e-12], [0.25, 0.25, 0.25, 0.25]])
    tables = EntropyTables.from_pmf(pmf, offset=[0, 0], precision=12)
    assert np.all(tables.cdf[:, -1] == 1 << 12)
    assert np.all(np.diff(tables.cdf, axis=1) >= 1)
    assert np.array_equal(np.diff(tables.cdf[1]), [1024] * 4)


@settings(max_examples=60, deadline=None)
@given(
    frames=st.integers(1, 6),
    size=st.integers(1, 40),
    scale=st.floats(0.1, 30.0),
    precision=st.integers(8, 16),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_is_exact_and_paths_agree(frames, size, scale, precision, seed):
    rng = np.random.default_rng(seed)
    tables = laplace_tables(3, 8, [0.5, 2.0, 6.0], precision)
    channel = rng.integers(0, 3, size)
    codes = laplace_codes(rng, frames, size, scale)  # large scales escape often
    payloads = encode_frames(codes, channel, tables)
    one_by_one = [encode_frames(codes[i : i + 1], channel, tables)[0] for i in range(frames)]
    assert payloads == one_by_one  # the vector and the scalar path write the same bytes
    assert np.array_equal(decode_frames(payloads, channel, tables), codes)
    alone = [decode_frames([b], channel, tables)[0] for b in payloads]
    assert np.array_equal(np.stack(alone), codes)


def test_extreme_codes_round_trip_through_escapes():
    tables = laplace_tables(1, 2, [1.0])
    codes = np.array([[0, 2**40, -(2**40), 3, -3, 2**62, -(2**63)]], dtype=np.int64)
    payloads = encode_frames(codes, np.zeros(7, dtype=int), tables)
    assert np.array_equal(decode_frames(payloads, np.zeros(7, dtype=int), tables), codes)


def test_rate_is_close_to_the_model_entropy():
    rng = np.random.default_rng(0)
    tables = laplace_tables(1, 40, [3.0])
    codes = laplace_codes(rng, 64, 512, 3.0)
    payloads = encode_frames(codes, np.zeros(512, dtype=int), tables)
    freq = np.diff(tables.cdf[0]) / (1 << tables.precision)
    ideal_bits = -np.log2(freq[codes + 40]).sum()
    coded_bits = 8 * sum(len(p) for p in payloads)
    flush_bits = 64 * 32  # each frame ends with one 32-bit state
    assert coded_bits <= 1.01 * ideal_bits + flush_bits


def test_bytes_are_pinned():
    """Changing these bytes breaks every stream already written: only with a new format.

    Integer tables and codes only, so the pin holds on every platform (ARM included).
    """
    freq = np.array([[1, 30, 200, 30000, 30000, 5000, 300, 4, 1], [9, 900, 9000, 20000,
                     20000, 15000, 600, 26, 1]])
    freq[:, 3] += (1 << 16) - freq.sum(axis=1)
    cdf = np.concatenate([np.zeros((2, 1), dtype=np.int64), np.cumsum(freq, axis=1)], axis=1)
    tables = EntropyTables(cdf=cdf, offset=np.array([-4, -3]), precision=16)
    codes = np.random.default_rng(1234).integers(-5, 6, (5, 33))
    payloads = encode_frames(codes, np.arange(33) % 2, tables)
    assert np.array_equal(decode_frames(payloads, np.arange(33) % 2, tables), codes)
    digest = hashlib.sha256(b"".join(payloads)).hexdigest()
    assert [len(p) for p in payloads] == LENGTHS
    assert digest == DIGEST


LENGTHS = [58, 53, 63, 47, 52]
DIGEST = "14ccb7ee778991ba9e24ac612478d56910345259fb1c9d3f9efa8ab964bb0521"


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_corrupted_payloads_raise_stream_error_or_decode(data):
    """Any bytes decode to codes or raise the package's StreamError, never anything else."""
    tables = laplace_tables(2, 6, [1.0, 4.0])
    channel = np.arange(17) % 2
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    buf = drawn_damage(data, encode_frames(laplace_codes(rng, 1, 17, 2.0), channel, tables)[0])
    try:
        out = decode_frames([buf], channel, tables)
    except StreamError as exc:
        assert "frame 0" in str(exc)
    else:
        assert out.shape == (1, 17)


@pytest.mark.parametrize(
    ("cdf", "offset", "param"),
    [
        ([[0, 5, 5, 16]], [0], "cdf"),  # a zero-frequency symbol
        ([[0, 5, 9, 15]], [0], "cdf"),  # does not reach 2**precision
        ([[0, 5, 9, 16]], [0, 1], "offset"),
        ([[0.0, 5.5, 9.0, 16.0]], [0], "cdf"),
    ],
)
def test_malformed_tables_name_the_field(cdf, offset, param):
    with pytest.raises(InputError) as info:
        EntropyTables(cdf=np.asarray(cdf), offset=np.asarray(offset), precision=4)
    assert info.value.param == param


def test_tables_survive_the_manifest_round_trip():
    tables = laplace_tables(2, 3, [1.0, 2.0], precision=10)
    back = EntropyTables.from_spec(tables.to_spec())
    assert np.array_equal(back.cdf, tables.cdf) and back.precision == 10
    assert back.digest == tables.digest != laplace_tables(2, 3, [1.0, 2.5], 10).digest
    ragged = EntropySpec(precision=4, offset=(0, 0), cdf=((0, 8, 16), (0, 16)))
    with pytest.raises(InputError) as info:
        EntropyTables.from_spec(ragged)
    assert info.value.param == "cdf"
