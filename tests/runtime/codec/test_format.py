"""The binary format and its incremental parser: round trips, any split, every corruption named."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime.codec import EndOfStream, Frame, Lost, StreamHeader, StreamParser
from edgeae_runtime.codec.format import (
    END_SIZE,
    FRAME_HEADER_SIZE,
    pack_end,
    pack_frame,
    pack_header,
    parse_header,
)
from edgeae_runtime.errors import StreamError

HEADER = StreamHeader(
    fingerprint="sha256:abc",
    kind="signal",
    item_shape=(1, 32),
    latent_shape=(2, 3),
    bits=8,
    scale=(0.5, 0.25),
    zero_point=(128, 3),
    sample_rate=16000,
    channels=1,
    window=32,
    hop=32,
)


def stream(n_frames: int = 4, *, header: StreamHeader = HEADER) -> bytes:
    """A valid stream of ``n_frames`` frames with payloads of the header's size."""
    body = [pack_header(header)]
    body += [
        pack_frame(i, header.hop, bytes([i % 256]) * header.max_payload) for i in range(n_frames)
    ]
    body.append(pack_end(n_frames, n_frames * header.hop))
    return b"".join(body)


def parse(data: bytes, *, tolerant: bool = False, split: int = 0) -> list:
    p = StreamParser(tolerant=tolerant)
    events: list = []
    step = split or max(len(data), 1)
    for i in range(0, len(data), step):
        events += p.feed(data[i : i + step])
    return events + p.finish()


quant = st.sampled_from([((0.5, 2.0), (0, -7)), ((), ()), ((0.125,), (9,))])
headers = st.builds(
    lambda q, **kw: StreamHeader(scale=q[0], zero_point=q[1], **kw),
    quant,
    fingerprint=st.text(max_size=40),
    kind=st.just("signal"),
    item_shape=st.tuples(st.integers(1, 4), st.integers(1, 64)),
    latent_shape=st.tuples(st.just(2), st.integers(1, 9)),
    bits=st.sampled_from([4, 8, 16]),
    sample_rate=st.integers(1, 192000),
    channels=st.integers(1, 8),
    window=st.just(64),
    hop=st.integers(1, 64),
    synthesis=st.sampled_from(["rect", "hann"]),
)


@given(headers)
def test_header_round_trips(header: StreamHeader) -> None:
    data = pack_header(header)
    assert parse_header(data) == (header, len(data))
    for cut in range(len(data)):
        assert parse_header(data[:cut]) is None


@settings(max_examples=60)
@given(st.integers(0, 6), st.integers(1, 40), st.booleans())
def test_parser_output_does_not_depend_on_the_split(n: int, split: int, tolerant: bool) -> None:
    data = stream(n)
    whole = parse(data)
    assert parse(data, split=split, tolerant=tolerant) == whole
    assert [type(e) for e in whole] == [StreamHeader] + [Frame] * n + [EndOfStream]
    assert [f.index for f in whole[1:-1]] == list(range(n))
    assert whole[-1].total == n * HEADER.hop


def test_bad_magic_is_named() -> None:
    with pytest.raises(StreamError, match="not an edgeae stream"):
        parse(b"RIFF" + stream()[4:])


def test_unsupported_version_is_named() -> None:
    data = bytearray(stream())
    data[4] = 9
    with pytest.raises(StreamError, match="unsupported stream format version 9"):
        parse(bytes(data))


def test_header_crc_mismatch() -> None:
    data = bytearray(stream())
    data[12] ^= 0x01
    with pytest.raises(StreamError, match="header: CRC32 mismatch"):
        parse(bytes(data))


def test_absurd_header_length() -> None:
    data = b"EAEC" + struct.pack("<BI", 1, 10**9)
    with pytest.raises(StreamError, match="absurd length"):
        parse(data)


def _frame_offset(i: int) -> int:
    return len(pack_header(HEADER)) + i * (FRAME_HEADER_SIZE + HEADER.max_payload + 4)


def test_frame_crc_mismatch_names_the_frame() -> None:
    data = bytearray(stream())
    data[_frame_offset(2) + FRAME_HEADER_SIZE + 1] ^= 0x40
    with pytest.raises(StreamError, match=r"frame 2 at byte \d+: CRC32 mismatch"):
        parse(bytes(data))


def test_truncated_frame_is_named_at_the_end_of_input() -> None:
    data = stream()[: _frame_offset(3) + 5]
    with pytest.raises(StreamError, match=r"truncated: frame 3 at byte \d+ is incomplete"):
        parse(data)


def test_missing_end_marker() -> None:
    data = stream()[:-END_SIZE]
    with pytest.raises(StreamError, match="truncated after frame 3: no end-of-stream marker"):
        parse(data)


def test_lost_frame_is_a_gap() -> None:
    data = stream()
    cut = data[: _frame_offset(1)] + data[_frame_offset(2) :]
    with pytest.raises(StreamError, match="lost frame 1: frame index gap"):
        parse(cut)
    events = parse(cut, tolerant=True)
    assert Lost(1, 1) in events
    assert [e.index for e in events if isinstance(e, Frame)] == [0, 2, 3]


def test_swapped_frames_are_out_of_order() -> None:
    data = stream()
    a, b, c = _frame_offset(1), _frame_offset(2), _frame_offset(3)
    swapped = data[:a] + data[b:c] + data[a:b] + data[c:]
    with pytest.raises(StreamError, match="lost frame 1"):
        parse(swapped)
    events = parse(swapped, tolerant=True)
    assert [e.index for e in events if isinstance(e, Frame)] == [0, 2, 3]


def test_absurd_payload_length() -> None:
    data = bytearray(stream())
    struct.pack_into("<I", data, _frame_offset(0) + 11, 10**9)
    with pytest.raises(StreamError, match=r"frame 0 at byte \d+: absurd payload length"):
        parse(bytes(data))


def test_bytes_after_the_end_marker() -> None:
    with pytest.raises(StreamError, match="unexpected bytes after the end-of-stream"):
        parse(stream() + b"\x00")


def test_end_marker_total_must_match() -> None:
    data = stream()[:-END_SIZE] + pack_end(4, 7)
    with pytest.raises(StreamError, match="says 7 samples but the frames carry 128"):
        parse(data)


def test_empty_input() -> None:
    with pytest.raises(StreamError, match="empty stream"):
        StreamParser().finish()


def test_tolerant_parser_resyncs_after_garbage() -> None:
    data = stream(6)
    garbage = data[: _frame_offset(2) + 3] + b"\xae\xf0junk" + data[_frame_offset(3) :]
    events = parse(garbage, tolerant=True)
    assert [e.index for e in events if isinstance(e, Frame)] == [0, 1, 3, 4, 5]
    assert Lost(2, 1) in events
    assert isinstance(events[-1], EndOfStream)


def test_header_fields_are_validated_even_with_a_good_crc() -> None:
    bad = bytearray(pack_header(HEADER)[:-4])
    bad[9 + 2] = 7  # bits
    bad += struct.pack("<I", zlib.crc32(bytes(bad)))
    with pytest.raises(StreamError, match="bits must be 4, 8 or 16"):
        parse(bytes(bad))
