"""Format version 3: entropy-coded signal streams put several windows in one frame.

One window per frame (``frame_windows=1``) is still format version 2, byte for
byte; grouping changes the bytes, never the decoded samples. The encoder's
bytes do not depend on how the input is chunked, nor the decoder's samples on
how the bytes are, and the last (partial) group is written by ``flush()``.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeae_runtime.codec import StreamDecoder, StreamEncoder, StreamParser, compress, decompress
from edgeae_runtime.codec.encoder import FRAME_WINDOWS
from edgeae_runtime.codec.format import (
    FRAME_HEADER_SIZE,
    Frame,
    pack_end,
    pack_frame,
    pack_header,
    parse_header,
)
from edgeae_runtime.errors import InputError, StreamError
from edgeae_runtime.model import Model

FIXTURES = [HealthCheck.function_scoped_fixture]
WINDOW = 32


def signal(n: int, seed: int = 0) -> np.ndarray:
    t = np.arange(n) / 16000
    rng = np.random.default_rng(seed)
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal((1, n))).astype(
        np.float32
    )


@pytest.fixture(scope="module")
def pair(entropy_signal) -> tuple[Model, Model]:
    """An identity pair (window 32, hop 16) whose codes are rANS-coded, some escaped."""
    return entropy_signal


def frames_of(data: bytes) -> list[Frame]:
    parser = StreamParser()
    return [ev for ev in parser.feed(data) + parser.finish() if isinstance(ev, Frame)]


def test_windows_share_frames_and_decode_like_one_window_per_frame(pair) -> None:
    enc, dec = pair
    x = signal(50 * WINDOW + 5)
    grouped, single = compress(enc, x), compress(enc, x, frame_windows=1)
    assert grouped[4] == 3 and single[4] == 2
    assert parse_header(grouped)[0].frame_items == FRAME_WINDOWS
    windows = -(-x.shape[1] // WINDOW)
    frames = frames_of(grouped)
    assert len(frames) == -(-windows // FRAME_WINDOWS) and len(frames_of(single)) == windows
    assert [f.samples for f in frames[:-1]] == [FRAME_WINDOWS * WINDOW] * (len(frames) - 1)
    assert sum(f.samples for f in frames) == x.shape[1]  # the partial last group
    y = decompress(dec, grouped)
    assert np.array_equal(y, decompress(dec, single)) and y.shape == x.shape
    # per frame saved: a 15-byte frame header, a 4-byte CRC and about the 4-byte rANS flush
    saved = len(single) - len(grouped)
    assert saved >= (windows - len(frames)) * (FRAME_HEADER_SIZE + 4 + 2)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES)
@given(
    n=st.integers(1, 700),
    frame_windows=st.sampled_from([1, 2, 3, 8, 64]),
    overlap=st.booleans(),
    cuts=st.lists(st.integers(0, 120), max_size=12),
    byte_step=st.integers(1, 97),
)
def test_any_chunking_gives_the_same_bytes_and_samples(
    pair, n, frame_windows, overlap, cuts, byte_step
) -> None:
    enc, dec = pair
    x = signal(n, seed=n)
    whole = compress(enc, x, frame_windows=frame_windows, overlap=overlap)
    streamer = StreamEncoder(enc, frame_windows=frame_windows, overlap=overlap)
    parts, i = [], 0
    for c in cuts:
        parts.append(streamer.push(x[:, i : i + c]))
        i += c
    parts += [streamer.push(x[:, i:]), streamer.flush()]
    assert b"".join(parts) == whole
    assert streamer.frames == len(frames_of(whole))
    receiver = StreamDecoder(dec)
    got = [receiver.push(whole[j : j + byte_step]) for j in range(0, len(whole), byte_step)]
    y = np.concatenate([*got, receiver.flush()], axis=1)
    assert y.shape == x.shape
    assert np.array_equal(y, decompress(dec, compress(enc, x, frame_windows=1, overlap=overlap)))


def test_a_group_is_written_once_it_is_complete(pair) -> None:
    enc, _ = pair
    streamer = StreamEncoder(enc, frame_windows=4)  # hop = window: one window per 32 samples
    assert streamer.latency == WINDOW + 3 * WINDOW
    first = streamer.push(signal(3 * WINDOW))
    assert first == pack_header(streamer.header) and streamer.frames == 0
    streamer.push(signal(WINDOW))
    assert streamer.frames == 1
    streamer.push(signal(2 * WINDOW))
    assert streamer.frames == 1
    streamer.flush()  # the two windows waiting are the last, partial, frame
    assert streamer.frames == 2


def test_a_damaged_or_lost_frame_conceals_its_windows(pair) -> None:
    enc, dec = pair
    x = signal(40 * WINDOW)
    data = compress(enc, x, frame_windows=8)
    clean = decompress(dec, data)
    frames = frames_of(data)
    second = frames[1]
    size = FRAME_HEADER_SIZE + len(second.payload) + 4
    damaged = bytearray(data)
    damaged[second.offset + FRAME_HEADER_SIZE + 3] ^= 0x40  # CRC fails: the frame is lost
    for broken in (bytes(damaged), data[: second.offset] + data[second.offset + size :]):
        receiver = StreamDecoder(dec, conceal=True)
        y = np.concatenate([receiver.push(broken), receiver.flush()], axis=1)
        assert y.shape == x.shape and receiver.concealed == 8
        span = slice(8 * WINDOW, 16 * WINDOW)
        assert np.array_equal(np.delete(y, span, axis=1), np.delete(clean, span, axis=1))
        with pytest.raises(StreamError, match="frame 1"):
            decompress(dec, broken)


def test_an_intact_frame_that_does_not_decode_is_named(pair) -> None:
    """A CRC-valid frame whose rANS words are wrong (a forged stream): StreamError naming it."""
    enc, dec = pair
    data = compress(enc, signal(16 * WINDOW), frame_windows=8)
    header = parse_header(data)[0]
    f0, f1 = frames_of(data)
    forged = (
        pack_header(header)
        + pack_frame(0, f0.samples, f0.payload, flags=f0.flags)
        + pack_frame(1, f1.samples, f0.payload[:-2] + b"\x00\x00", flags=f1.flags)
        + pack_end(2, 16 * WINDOW)
    )
    with pytest.raises(StreamError, match="frame 1 at byte"):
        decompress(dec, forged)
    receiver = StreamDecoder(dec, conceal=True)
    y = np.concatenate([receiver.push(forged), receiver.flush()], axis=1)
    assert y.shape == (1, 16 * WINDOW) and receiver.concealed == 8


@pytest.mark.parametrize("bad", [0, -1, 4097, 2.0, True, "8"])
def test_frame_windows_is_checked(pair, bad) -> None:
    enc, _ = pair
    with pytest.raises(InputError) as info:
        StreamEncoder(enc, frame_windows=bad)
    assert info.value.param == "frame_windows"


def test_fixed_width_streams_keep_one_window_per_frame(identity) -> None:
    """Without an entropy model there is nothing to group: version 1, byte for byte."""
    enc, _ = identity
    x = signal(300)
    assert compress(enc, x, frame_windows=8) == compress(enc, x, frame_windows=1)
    assert compress(enc, x)[4] == 1


def test_headers_must_match_their_version(pair) -> None:
    enc, _ = pair
    header = StreamEncoder(enc).header
    good = pack_header(header)
    assert good[4] == 3 and parse_header(good)[0].frame_items == header.frame_items
    # a version 2 header may not group signal windows, a version 3 one must
    for version, h in ((2, header), (3, dataclasses.replace(header, frame_items=1))):
        data = bytearray(pack_header(h))
        data[4] = version
        body_end = len(data) - 4
        data[body_end:] = zlib.crc32(bytes(data[:body_end])).to_bytes(4, "little")
        with pytest.raises(StreamError, match=f"version {version} header"):
            parse_header(bytes(data))


def test_a_forged_gap_of_large_groups_cannot_claim_gigabytes(pair) -> None:
    """60,000 lost frames of 4096 windows each: refused (the budget is in windows), fast."""
    enc, dec = pair
    data = compress(enc, signal(100 * 16), frame_windows=4096)
    (frame,) = frames_of(data)
    end = data.index(b"\xae\xfe", frame.offset)
    forged = (
        data[:end]
        + pack_frame(60_000, frame.samples, frame.payload, flags=frame.flags)
        + pack_end(60_001, 2 * frame.samples)
    )
    receiver = StreamDecoder(dec, conceal=True)
    with pytest.raises(StreamError, match=r"lost frames 1\.\.59999: concealing .* windows"):
        receiver.push(forged)
