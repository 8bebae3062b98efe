"""Fuzzing the decoder: 10,000+ random and mutated streams, only the package's errors come out.

Mutations (seeded numpy RNG, so a failure is reproducible): bit flips, byte
overwrites, truncations, insertions, deletions, swapped and duplicated byte
ranges, pure random bytes. Every stream goes through a strict decoder (must
succeed or raise an EdgeAEError) and a concealing one (must not raise at all
when the header is intact, i.e. decoding carries on past damaged frames).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from edgeae_runtime.codec import StreamDecoder, compress
from edgeae_runtime.codec.format import parse_header
from edgeae_runtime.errors import EdgeAEError

N_STREAMS = 10_000


def _mutate(data: bytes, rng: np.random.Generator, start: int) -> bytes:
    """One random mutation of ``data`` at or after byte ``start``."""
    b = bytearray(data)
    span = max(1, len(b) - start)
    kind = rng.integers(8)
    pos = start + int(rng.integers(span))
    if kind == 0:  # bit flips
        for _ in range(int(rng.integers(1, 9))):
            p = start + int(rng.integers(span))
            b[p] ^= 1 << int(rng.integers(8))
    elif kind == 1:  # overwrite a run with random bytes
        n = int(rng.integers(1, 40))
        b[pos : pos + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    elif kind == 2:  # truncation
        del b[pos:]
    elif kind == 3:  # insertion
        n = int(rng.integers(1, 40))
        b[pos:pos] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    elif kind == 4:  # deletion
        del b[pos : pos + int(rng.integers(1, 60))]
    elif kind == 5:  # swap two ranges (e.g. frames arriving out of order)
        q = start + int(rng.integers(span))
        a0, a1 = sorted((pos, q))
        n = int(rng.integers(1, 80))
        first, second = bytes(b[a0 : a0 + n]), bytes(b[a1 : a1 + n])
        b[a1 : a1 + n] = first
        b[a0 : a0 + n] = second
    elif kind == 6:  # duplicate a range (a frame sent twice)
        n = int(rng.integers(1, 120))
        b[pos:pos] = b[pos : pos + n]
    else:  # random bytes, sometimes with a valid-looking start
        n = int(rng.integers(0, 300))
        junk = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        return (data[: int(rng.integers(0, 20))] + junk) if rng.integers(2) else junk
    return bytes(b)


def _decode(dec: StreamDecoder, data: bytes, rng: np.random.Generator) -> np.ndarray:
    dec.reset()
    step = int(rng.integers(1, 200))
    parts = [dec.push(data[i : i + step]) for i in range(0, len(data), step)]
    return np.concatenate([*parts, dec.flush()], axis=1)


@pytest.fixture(scope="module")
def seeds(identity, conv1d) -> list[tuple[StreamDecoder, StreamDecoder, bytes, int]]:
    """Valid streams of several flavours with their strict and concealing decoders."""
    rng = np.random.default_rng(0)
    out = []
    for (enc, dec), options in [
        (identity, {"entropy": False}),
        (identity, {"entropy": True}),
        (identity, {"overlap": True, "bits": 4}),
        (conv1d, {"entropy": True}),
    ]:
        x = (0.3 * rng.standard_normal((1, 200))).astype(np.float32)
        data = compress(enc, x, **options)
        header_len = parse_header(data)[1]
        out.append((StreamDecoder(dec), StreamDecoder(dec, conceal=True), data, header_len))
    return out


@pytest.mark.slow
def test_fuzzed_streams_raise_only_package_errors(seeds) -> None:
    rng = np.random.default_rng(12345)
    outcomes = {"ok": 0, "error": 0, "concealed": 0}
    for i in range(N_STREAMS):
        strict, tolerant, data, header_len = seeds[i % len(seeds)]
        in_frames = bool(rng.integers(4))  # 3 in 4 mutations spare the header
        damaged = _mutate(data, rng, header_len if in_frames else 0)
        try:
            _decode(strict, damaged, rng)
            outcomes["ok"] += 1
        except EdgeAEError:
            outcomes["error"] += 1
        if in_frames and damaged[:header_len] == data[:header_len]:
            y = _decode(tolerant, damaged, rng)  # must not raise: concealment carries on
            assert y.ndim == 2
            outcomes["concealed"] += tolerant.concealed > 0
        else:
            with contextlib.suppress(EdgeAEError):
                _decode(tolerant, damaged, rng)
    assert outcomes["error"] > N_STREAMS // 2
    assert outcomes["concealed"] > N_STREAMS // 4
