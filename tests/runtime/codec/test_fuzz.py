"""Fuzzing the decoders: 10,000+ random and mutated streams, only the package's errors come out.

Mutations come from the one mutation engine (:mod:`tests.runtime.codec.mutations`,
seeded numpy RNG, so a failure is reproducible): bit flips, overwrites,
truncations, insertions, deletions, swapped and duplicated ranges, extreme
32-bit fields, ASCII digits, pure random bytes, and forged frames (damaged
payloads or lying frame fields with their CRC32 recomputed, so the rANS, escape
and inflate decoders see the damage). The seeds cover every format
version: fixed-width signal streams (version 1, deflated or not, overlapping),
rANS-coded signal streams with one window per frame (version 2) and 8 per frame
(version 3), item batches (fixed-width images, version 1; rANS-coded dense
items, version 2) and whole images in tiles (version 6, adaptive and fixed-width).
Every stream goes through a strict decoder (must succeed or
raise an EdgeAEError) and a concealing one (must not raise at all when the
header is intact and the damage was not forged, i.e. decoding carries on past
damaged frames; a forged index or sample count may still be refused).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from edgeae_runtime.codec import (
    StreamDecoder,
    compress,
    compress_image,
    compress_items,
    decode_image_stream,
    decode_item_stream,
)
from edgeae_runtime.codec.format import parse_header
from edgeae_runtime.errors import EdgeAEError

from .mutations import forge, mutate

N_STREAMS = 10_000


@dataclass
class Seed:
    """A valid stream, its header length, and its two decoders (bytes -> concealed count)."""

    name: str
    data: bytes
    header_len: int
    strict: Callable[[bytes, np.random.Generator], None]
    tolerant: Callable[[bytes, np.random.Generator], int]


def _signal_decoders(dec) -> tuple[Callable, Callable]:
    strict_dec, tolerant_dec = StreamDecoder(dec), StreamDecoder(dec, conceal=True)

    def run(d: StreamDecoder, data: bytes, rng: np.random.Generator) -> int:
        d.reset()
        step = int(rng.integers(1, 200))
        parts = [d.push(data[i : i + step]) for i in range(0, len(data), step)]
        y = np.concatenate([*parts, d.flush()], axis=1)
        assert y.ndim == 2 and y.dtype == np.float32
        return d.concealed

    return (lambda data, rng: run(strict_dec, data, rng)), (
        lambda data, rng: run(tolerant_dec, data, rng)
    )


def _item_decoders(dec) -> tuple[Callable, Callable]:
    def strict(data: bytes, rng: np.random.Generator) -> None:
        decode_item_stream(dec, data)

    def tolerant(data: bytes, rng: np.random.Generator) -> int:
        result = decode_item_stream(dec, data, conceal=True)
        assert result.items.shape[1:] == dec.item_shape
        return len(result.concealed)

    return strict, tolerant


def _image_decoders(dec) -> tuple[Callable, Callable]:
    def strict(data: bytes, rng: np.random.Generator) -> None:
        decode_image_stream(dec, data)

    def tolerant(data: bytes, rng: np.random.Generator) -> int:
        result = decode_image_stream(dec, data, conceal=True)
        assert result.image.ndim == 3 and result.image.shape[0] == dec.item_shape[0]
        return len(result.concealed_tiles)

    return strict, tolerant


@pytest.fixture(scope="module")
def seeds(
    identity,
    conv1d,
    entropy_signal,
    entropy_items,
    context_signal,
    context_items,
    adaptive_signal,
    adaptive_items,
    adaptive_images,
    any_size_adaptive_images,
    images,
) -> list[Seed]:
    """Valid streams of every format version with their strict and concealing decoders."""
    rng = np.random.default_rng(0)
    out = []
    for name, (enc, dec), options in [
        ("v1 raw", identity, {"entropy": False}),
        ("v1 deflate", identity, {"entropy": True}),
        ("v1 overlap 4-bit", identity, {"overlap": True, "bits": 4}),
        ("v1 conv1d", conv1d, {"entropy": True}),
        ("v2 rANS signal", entropy_signal, {"frame_windows": 1}),
        ("v3 rANS signal", entropy_signal, {"frame_windows": 3}),
        ("v3 rANS overlap", entropy_signal, {"frame_windows": 8, "overlap": True}),
        ("v4 context signal", context_signal, {"frame_windows": 1}),
        ("v4 context grouped", context_signal, {"frame_windows": 8, "overlap": True}),
        ("v3 factorized, context model", context_signal,
         {"frame_windows": 4, "entropy_model": "factorized"}),
        ("v5 adaptive signal", adaptive_signal, {"frame_windows": 1}),
        ("v5 adaptive grouped", adaptive_signal, {"frame_windows": 8, "overlap": True}),
        ("v4 context, adaptive model", adaptive_signal,
         {"frame_windows": 4, "entropy_model": "context"}),
    ]:  # fmt: skip
        x = (0.3 * rng.standard_normal((1, 200))).astype(np.float32)
        data = compress(enc, x, **options)
        out.append(Seed(name, data, parse_header(data)[1], *_signal_decoders(dec)))
    item_streams = [
        ("v1 images", images, rng.random((5, 1, 8, 8)).astype(np.float32), {}),
        ("v2 rANS items", entropy_items, rng.standard_normal((12, 16)).astype(np.float32),
         {"frame_items": 4}),
        ("v4 context items", context_items, rng.standard_normal((12, 16)).astype(np.float32),
         {"frame_items": 4}),
        ("v5 adaptive items", adaptive_items, rng.standard_normal((12, 16)).astype(np.float32),
         {"frame_items": 4}),
    ]  # fmt: skip
    for name, (enc, dec), x, options in item_streams:
        data = compress_items(enc, x, **options)
        out.append(Seed(name, data, parse_header(data)[1], *_item_decoders(dec)))
    smooth = np.cumsum(rng.standard_normal((1, 21, 30)), axis=-1).astype(np.float32) * 0.2
    for name, (enc, dec), options in [
        ("v6 adaptive tiles", adaptive_images, {"frame_items": 4}),
        ("v6 adaptive latent map", any_size_adaptive_images, {"frame_items": 4}),
        ("v6 fixed-width tiles", images, {}),
    ]:
        data = compress_image(enc, smooth, **options)
        out.append(Seed(name, data, parse_header(data)[1], *_image_decoders(dec)))
    assert sorted({s.data[4] for s in out}) == [1, 2, 3, 4, 5, 6]
    return out


def _fuzz(seeds: list[Seed], cases: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    outcomes = {"ok": 0, "error": 0, "concealed": 0, "forged": 0}
    for i in range(cases):
        s = seeds[i % len(seeds)]
        in_frames = bool(rng.integers(4))  # 3 in 4 mutations spare the header
        forged = in_frames and bool(rng.integers(3) == 0)  # damaged frames, CRCs resealed
        if forged:
            damaged = forge(s.data, rng, start=s.header_len)
        else:
            damaged = mutate(s.data, rng, start=s.header_len if in_frames else 0)
        try:
            s.strict(damaged, rng)
            outcomes["ok"] += 1
        except EdgeAEError:
            outcomes["error"] += 1
        if forged:  # a forged gap or sample count may be refused even when concealing
            outcomes["forged"] += 1
            with contextlib.suppress(EdgeAEError):
                s.tolerant(damaged, rng)
        elif in_frames and damaged[: s.header_len] == s.data[: s.header_len]:
            concealed = s.tolerant(damaged, rng)  # must not raise: concealment carries on
            outcomes["concealed"] += concealed > 0
        else:
            with contextlib.suppress(EdgeAEError):
                s.tolerant(damaged, rng)
    return outcomes


def test_a_short_fuzz_of_every_version(seeds) -> None:
    """Part of the fast loop (and of the arm64 run): 40 mutations of each seed."""
    outcomes = _fuzz(seeds, 40 * len(seeds), seed=7)
    assert outcomes["error"] > 0 and outcomes["concealed"] > 0 and outcomes["forged"] > 0


@pytest.mark.slow
def test_fuzzed_streams_raise_only_package_errors(seeds) -> None:
    outcomes = _fuzz(seeds, N_STREAMS, seed=12345)
    assert outcomes["error"] > N_STREAMS // 2
    assert outcomes["concealed"] > N_STREAMS // 4
