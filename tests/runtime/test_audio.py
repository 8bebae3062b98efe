"""Audio I/O: WAV round trips per encoding, extensible/float headers, raw PCM, .npy, bad input."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime import InputError
from edgeae_runtime.audio import open_reader, open_writer, read_wav, write_wav
from edgeae_runtime.framing import whole_signal
from edgeae_runtime.pcm import WAV_SUBTYPES, wav_header_bytes

STEP = {"PCM_16": 2.0**-15, "PCM_24": 2.0**-23, "PCM_32": 2.0**-31, "FLOAT": 0.0}


def _sig(channels: int, n: int) -> np.ndarray:
    return np.random.default_rng(channels).uniform(-0.99, 0.99, (channels, n)).astype(np.float32)


@pytest.mark.parametrize("subtype", sorted(WAV_SUBTYPES))
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_wav_round_trip(tmp_path: Path, subtype: str, channels: int) -> None:
    x = _sig(channels, 999)
    path = tmp_path / "a.wav"
    write_wav(path, x, 22050, subtype)
    y, rate = read_wav(path)
    assert rate == 22050 and y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=STEP[subtype] + 1e-7)
    write_wav(path, y, 22050, subtype)  # a second round trip is bit-exact
    np.testing.assert_array_equal(read_wav(path)[0], y)


def test_16_bit_wav_is_standard(tmp_path: Path) -> None:
    x = _sig(2, 100)
    write_wav(tmp_path / "s.wav", x, 16000)
    with wave.open(str(tmp_path / "s.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (
            2,
            2,
            16000,
            100,
        )
        ints = np.frombuffer(w.readframes(100), "<i2").reshape(100, 2).T
    np.testing.assert_array_equal(ints / 32768.0, read_wav(tmp_path / "s.wav")[0])


def test_reads_extra_chunks_8_bit_and_float64(tmp_path: Path) -> None:
    data = (np.array([0, 64, 128, 255], np.uint8)).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"LIST"
        + struct.pack("<I", 3)
        + b"abc\x00"
        + b"data"
        + struct.pack("<I", 4)
        + data
    )
    (tmp_path / "u8.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    y, _ = read_wav(tmp_path / "u8.wav")
    np.testing.assert_allclose(y[0], [-1.0, -0.5, 0.0, 127 / 128])
    f64 = np.array([0.25, -0.5], "<f8").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 64000, 8, 64)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 16) + f64
    (tmp_path / "f64.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    np.testing.assert_allclose(read_wav(tmp_path / "f64.wav")[0][0], [0.25, -0.5])


def test_extensible_header_is_written_for_24_bit(tmp_path: Path) -> None:
    write_wav(tmp_path / "e.wav", _sig(1, 10), 16000, "PCM_24")
    raw = (tmp_path / "e.wav").read_bytes()
    assert struct.unpack("<H", raw[20:22])[0] == 0xFFFE


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty input"),
        (b"RIFF\x00\x00", "ends inside the RIFF header"),
        (b"RIFX" + b"\x00" * 40, "not a WAV file"),
        (wav_header_bytes(16000, 1, WAV_SUBTYPES["PCM_16"], 100) + b"\x00" * 10, "bytes short"),
        (wav_header_bytes(16000, 2, WAV_SUBTYPES["PCM_16"], 6) + b"\x00" * 6, "inside a sample"),
    ],
)
def test_corrupted_wavs_are_input_errors(tmp_path: Path, content: bytes, match: str) -> None:
    (tmp_path / "bad.wav").write_bytes(content)
    with pytest.raises(InputError, match=match):
        read_wav(tmp_path / "bad.wav")


def test_unsupported_wav_encoding(tmp_path: Path) -> None:
    fmt = struct.pack("<HHIIHH", 6, 1, 8000, 8000, 1, 8)  # A-law
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 0)
    (tmp_path / "alaw.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(InputError, match="unsupported WAV encoding"):
        read_wav(tmp_path / "alaw.wav")


@pytest.mark.parametrize("fmt", ["s16le", "f32le"])
def test_raw_pcm_stdin_and_stdout(fmt: str) -> None:
    x = _sig(2, 500)
    out = io.BytesIO()
    with open_writer("-", sample_rate=16000, channels=2, pcm_format=fmt, stdout=out) as w:
        w.write(x[:, :123])
        w.write(x[:, 123:])
    reader = open_reader(
        "-", pcm_format=fmt, channels=2, stdin=io.BytesIO(out.getvalue()), chunk_frames=64
    )
    chunks = list(reader)
    assert all(c.shape[1] <= 66 for c in chunks)  # streamed in chunks, not read whole
    y = np.concatenate(chunks, axis=1)
    np.testing.assert_allclose(y, x, atol=2.0**-15 if fmt == "s16le" else 0.0)


def test_wav_on_stdin_is_recognized_and_checked() -> None:
    buf = io.BytesIO()
    head = wav_header_bytes(8000, 1, WAV_SUBTYPES["PCM_16"], 0xFFFFFFFF)  # streamed: size unknown
    buf.write(head + np.arange(10, dtype="<i2").tobytes())
    reader = open_reader("-", channels=1, stdin=io.BytesIO(buf.getvalue()))
    assert reader.sample_rate == 8000
    assert reader.read_all().shape == (1, 10)
    with pytest.raises(InputError, match="sample rate is 8000 Hz, expected 16000"):
        open_reader("-", sample_rate=16000, stdin=io.BytesIO(buf.getvalue()))


def test_unknown_pcm_format_and_raw_needs_channels() -> None:
    with pytest.raises(InputError, match="unknown PCM format 'u8'"):
        open_reader("-", pcm_format="u8", channels=1, stdin=io.BytesIO(b"\x00\x00"))
    with pytest.raises(InputError, match="unknown PCM format"):
        open_writer("-", sample_rate=8000, channels=1, pcm_format="mp3", stdout=io.BytesIO())
    with pytest.raises(InputError, match="channel count"):
        open_reader("-", stdin=io.BytesIO(b"\x00\x00"))
    with pytest.raises(InputError, match="empty input"):
        open_reader("-", channels=1, stdin=io.BytesIO(b"")).read_all()


def test_npy_round_trip_and_wrong_channels(tmp_path: Path) -> None:
    x = _sig(2, 300)
    with open_writer(tmp_path / "s.npy", sample_rate=16000, channels=2) as w:
        w.write(x)
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), x)
    with pytest.raises(InputError, match=r"has 2 channel\(s\), the model takes 1"):
        open_reader(tmp_path / "s.npy", channels=1)
    np.save(tmp_path / "mono.npy", x[0])
    assert open_reader(tmp_path / "mono.npy").read_all().shape == (1, 300)


def test_time_major_npy_reads_as_channels_by_samples(tmp_path: Path) -> None:
    """A (samples, channels) recording (soundfile, wfdb) reads like its transpose, with or
    without the model's channel count; a square or wide array is never turned."""
    x = _sig(3, 400)
    np.save(tmp_path / "tm.npy", x.T.copy())
    for channels in (None, 3):
        got = open_reader(tmp_path / "tm.npy", channels=channels).read_all()
        np.testing.assert_array_equal(got, x)
    wrong = r"shape \(400, 3\) has 400 channel\(s\), the model takes 2"
    with pytest.raises(InputError, match=wrong):
        open_reader(tmp_path / "tm.npy", channels=2)
    np.save(tmp_path / "wide.npy", x)
    np.testing.assert_array_equal(open_reader(tmp_path / "wide.npy", channels=3).read_all(), x)


@settings(max_examples=60, deadline=None)
@given(
    channels=st.integers(1, 6),
    extra=st.integers(1, 50),
    model_channels=st.sampled_from([None, "same"]),
)
def test_whole_signal_orientation_law(channels: int, extra: int, model_channels) -> None:
    """For every signal with fewer channels than samples, both orientations give the same
    (channels, samples) array."""
    samples = channels + extra
    x = np.arange(channels * samples, dtype=np.float32).reshape(channels, samples)
    want = channels if model_channels == "same" else None
    np.testing.assert_array_equal(whole_signal(x, want, "x"), x)
    np.testing.assert_array_equal(whole_signal(x.T, want, "x"), x)


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.wav"
    with pytest.raises(InputError), open_writer(target, sample_rate=8000, channels=1) as w:
        w.write(_sig(1, 10))
        w.write(_sig(2, 10))  # wrong channel count
    assert list(tmp_path.iterdir()) == []


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown file type \.mp3"):
        open_reader(tmp_path / "a.mp3")
