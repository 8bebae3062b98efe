"""StreamEncoder / StreamDecoder on signals: round trips, chunking laws, refusals, concealment."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeae_runtime.codec import StreamDecoder, StreamEncoder, compress, decompress
from edgeae_runtime.errors import InputError, StreamError
from edgeae_runtime.metrics import snr_db
from edgeae_runtime.model import Model

FIXTURES = [HealthCheck.function_scoped_fixture]


def signal(n: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    t = np.arange(n) / 16000
    rng = np.random.default_rng(seed)
    x = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal((channels, n))
    return x.astype(np.float32)


def chunks(x: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out, i = [], 0
    for s in sizes:
        out.append(x[:, i : i + s])
        i += s
    out.append(x[:, i:])
    return out


@pytest.mark.parametrize("overlap", [False, True])
@pytest.mark.parametrize("n", [1, 31, 32, 33, 1000])
def test_round_trip_restores_the_exact_length_and_is_accurate(identity, overlap, n) -> None:
    enc, dec = identity
    x = signal(n)
    y = decompress(dec, compress(enc, x, overlap=overlap))
    assert y.shape == x.shape
    assert snr_db(x, y) > 35  # 8-bit per-frame codes of an exact model


def test_empty_signal_is_a_valid_empty_stream(identity) -> None:
    enc, dec = identity
    data = compress(enc, np.zeros((1, 0), np.float32))
    assert decompress(dec, data).shape == (1, 0)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(
    st.lists(st.integers(0, 70), max_size=12),
    st.integers(1, 97),
    st.booleans(),
    st.booleans(),
)
def test_output_does_not_depend_on_chunking(identity, sizes, byte_step, overlap, entropy) -> None:
    enc, dec = identity
    x = signal(sum(sizes) + 5, seed=len(sizes))
    whole = compress(enc, x, overlap=overlap, entropy=entropy)
    e = StreamEncoder(enc, overlap=overlap, entropy=entropy)
    pieces = b"".join(e.push(c) for c in chunks(x, sizes)) + e.flush()
    assert pieces == whole
    d = StreamDecoder(dec)
    parts = [d.push(whole[i : i + byte_step]) for i in range(0, len(whole), byte_step)]
    y = np.concatenate([*parts, d.flush()], axis=1)
    np.testing.assert_array_equal(y, decompress(dec, whole))
    assert y.shape == x.shape


def test_samples_come_out_as_soon_as_their_frame_arrives(identity) -> None:
    enc, dec = identity
    e = StreamEncoder(enc, entropy=False)
    first = e.push(signal(100))  # header + 3 frames of 32 samples
    d = StreamDecoder(dec)
    assert d.push(first[:-1]).shape == (1, 64)
    assert d.push(first[-1:]).shape == (1, 32)


def test_multichannel(stereo) -> None:
    enc, dec = stereo
    x = signal(100, channels=2)
    y = decompress(dec, compress(enc, x, overlap=True))
    assert y.shape == (2, 100) and snr_db(x, y) > 35


def test_manifest_codec_is_used_and_decodes(conv1d) -> None:
    enc, dec = conv1d
    x = signal(500)
    stream = compress(enc, x)
    y = decompress(dec, stream)
    windows = x[0, :480].reshape(15, 1, 32)
    reference = dec.decode(enc.encode(windows))
    got = y[0, :480].reshape(15, 1, 32)
    assert np.abs(got - reference).max() < 0.05 * np.abs(reference).max()


def test_bits_4_and_16(identity) -> None:
    enc, dec = identity
    x = signal(400)
    snrs = [snr_db(x, decompress(dec, compress(enc, x, bits=b))) for b in (4, 8, 16)]
    assert snrs[0] < snrs[1] < snrs[2]


def test_stream_from_another_model_is_refused(identity, other_identity) -> None:
    enc, _ = identity
    with pytest.raises(StreamError, match="made by model sha256:ident but this decoder is"):
        decompress(Model(other_identity), compress(enc, signal(100)))


def test_truncated_stream_names_the_frame(identity) -> None:
    enc, dec = identity
    data = compress(enc, signal(320))
    d = StreamDecoder(dec)
    d.push(data[:-30])
    with pytest.raises(StreamError, match=r"truncated: frame 9 at byte \d+ is incomplete"):
        d.flush()


def test_bit_flip_is_detected(identity) -> None:
    enc, dec = identity
    data = bytearray(compress(enc, signal(320), entropy=False))
    data[len(data) // 2] ^= 0x10
    with pytest.raises(StreamError, match=r"frame \d+ at byte \d+: CRC32 mismatch"):
        decompress(dec, bytes(data))


def test_conceal_fills_a_damaged_frame_and_carries_on(identity) -> None:
    enc, dec = identity
    x = signal(320)
    data = bytearray(compress(enc, x, entropy=False))
    data[len(data) // 2] ^= 0x10
    d = StreamDecoder(dec, conceal=True)
    y = np.concatenate([d.push(bytes(data)), d.flush()], axis=1)
    assert y.shape == x.shape
    assert d.concealed == 1
    clean = decompress(dec, compress(enc, x, entropy=False))
    differs = np.flatnonzero(np.any(y != clean, axis=0))
    assert differs.size and differs.max() - differs.min() < 32  # one window replaced


def test_conceal_truncated_stream_keeps_what_arrived(identity) -> None:
    enc, dec = identity
    data = compress(enc, signal(320))
    d = StreamDecoder(dec, conceal=True)
    y = np.concatenate([d.push(data[:-30]), d.flush()], axis=1)
    assert d.truncated and 0 < y.shape[1] < 320


def test_bad_input_samples(identity) -> None:
    enc, _ = identity
    e = StreamEncoder(enc)
    with pytest.raises(InputError, match="NaN"):
        e.push(np.array([[0.0, np.nan]], np.float32))
    with pytest.raises(InputError, match=r"1 channel\(s\); chunk shape must be \(samples,\)"):
        e.push(np.zeros((2, 10), np.float32))


def test_encoder_cannot_be_pushed_after_flush(identity) -> None:
    enc, _ = identity
    e = StreamEncoder(enc)
    e.flush()
    with pytest.raises(StreamError, match="reset"):
        e.push(np.zeros(3, np.float32))
