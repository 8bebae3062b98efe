"""WAV sources: every PCM width and float, mono and multi-channel, and corrupted files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.data import load_source, read_wav
from edgeae.errors import DataError

from .writers import FORMATS, wav_bytes, write_test_wav

# Largest quantization step of each format, as a tolerance on the round trip.
_STEP = {"pcm8": 2**-7, "pcm16": 2**-15, "pcm24": 2**-23, "pcm32": 2**-31}


def _tone(channels: int, n: int = 1000) -> np.ndarray:
    t = np.arange(n) / 8000.0
    return np.stack([0.8 * np.sin(2 * np.pi * (200 + 100 * c) * t) for c in range(channels)])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("extensible", [False, True])
def test_every_format_reads_back(tmp_path: Path, fmt: str, channels: int, extensible: bool) -> None:
    sig = _tone(channels)
    path = write_test_wav(tmp_path / "a.wav", sig, 8000, fmt, extensible=extensible)
    samples, rate = read_wav(path)
    assert rate == 8000
    assert samples.dtype == np.float32 and samples.shape == sig.shape
    tol = _STEP.get(fmt, 1e-7)
    np.testing.assert_allclose(samples, sig, atol=tol)
    assert float(np.abs(samples).max()) <= 1.0


def test_wav_source_is_windowed_signal(tmp_path: Path) -> None:
    sig = _tone(2, 1000)
    path = write_test_wav(tmp_path / "s.wav", sig, 8000, "pcm16", extra_chunk=True)
    ds = load_source(str(path), window=100, hop=50)
    assert ds.layout == "NCW" and ds.x.shape == (19, 2, 100)
    assert ds.sample_rate == 8000 and ds.window == 100 and ds.hop == 50
    assert ds.signal is not None and ds.signal.shape == (2, 1000)
    np.testing.assert_array_equal(ds.x[3], ds.signal[:, 150:250])


def test_wav_default_window_is_256_with_half_hop(tmp_path: Path) -> None:
    path = write_test_wav(tmp_path / "s.wav", _tone(1, 2000), 8000, "float32")
    ds = load_source(str(path))
    assert (ds.window, ds.hop, ds.item_shape) == (256, 128, (1, 256))


def test_pcm_extremes_scale_to_unit_range(tmp_path: Path) -> None:
    raw = np.array([-32768, -16384, 0, 16384, 32767], dtype="<i2").tobytes()
    blob = bytearray(wav_bytes(np.zeros((1, 5)), 8000, "pcm16"))
    blob[-10:] = raw
    path = tmp_path / "x.wav"
    path.write_bytes(bytes(blob))
    samples, _ = read_wav(path)
    np.testing.assert_allclose(samples[0], [-1.0, -0.5, 0.0, 0.5, 32767 / 32768])


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda b: b"JUNK" + b[4:], "not a WAV"),
        (lambda b: b[:-100], "short"),
        (lambda b: b[:20], "corrupted"),
        (lambda b: b[:20] + b"\x07\x00" + b[22:], "unsupported"),
        (lambda b: b"", "ends inside the RIFF header"),
    ],
    ids=["not-riff", "truncated-data", "truncated-header", "bad-format-tag", "empty-file"],
)
def test_corrupted_wav_is_a_data_error(tmp_path: Path, mutate, fragment: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(mutate(wav_bytes(_tone(1), 8000, "pcm16")))
    with pytest.raises(DataError, match=fragment) as info:
        load_source(str(path))
    assert "bad.wav" in str(info.value)


def test_window_longer_than_wav(tmp_path: Path) -> None:
    path = write_test_wav(tmp_path / "short.wav", _tone(1, 100), 8000, "pcm16")
    with pytest.raises(DataError, match="longer than the signal"):
        load_source(str(path), window=256)


def test_wav_with_nan_names_channel_and_sample(tmp_path: Path) -> None:
    sig = _tone(2, 500)
    sig[1, 42] = np.nan
    path = write_test_wav(tmp_path / "nan.wav", sig, 8000, "float32")
    with pytest.raises(DataError, match=r"1 NaN/Inf.*channel 1, sample 42"):
        load_source(str(path), window=100)
