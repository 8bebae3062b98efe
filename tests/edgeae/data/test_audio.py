"""Audio files at any rate: WAV through the runtime reader, FLAC/OGG via soundfile, resampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.data.audio import list_audio, read_audio
from edgeae.errors import DataError
from edgeae_runtime.resample import resample
from tests.edgeae.data.writers import write_test_wav


def test_wav_at_another_rate_is_resampled_on_load(tmp_path: Path) -> None:
    t = np.arange(4800) / 48000
    x = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 880 * t)]) * 0.5
    path = write_test_wav(tmp_path / "a.wav", x, 48000, "float32")
    raw, rate = read_audio(path)
    assert rate == 48000 and raw.shape == (2, 4800) and raw.dtype == np.float32
    y, rate = read_audio(path, 16000)
    assert rate == 16000 and y.shape == (2, 1600)
    np.testing.assert_allclose(y, resample(raw, 48000, 16000), atol=1e-6)
    mono, _ = read_audio(path, 16000, mono=True)
    np.testing.assert_allclose(mono[0], y.mean(axis=0), atol=1e-6)


def test_flac_is_read_with_soundfile(tmp_path: Path) -> None:
    soundfile = pytest.importorskip("soundfile")
    x = (np.random.default_rng(0).uniform(-0.5, 0.5, 3000) * 32767).astype(np.int16)
    soundfile.write(str(tmp_path / "a.flac"), x, 22050, subtype="PCM_16")
    y, rate = read_audio(tmp_path / "a.flac")
    assert rate == 22050 and y.shape == (1, 3000)
    np.testing.assert_allclose(y[0], x / 32768.0, atol=1e-6)


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.flac: no such file"):
        read_audio(tmp_path / "nope.flac")
    (tmp_path / "bad.flac").write_bytes(b"not flac at all")
    with pytest.raises(DataError, match=r"bad\.flac: not a readable \.flac"):
        read_audio(tmp_path / "bad.flac")
    with pytest.raises(DataError, match="not an audio file"):
        read_audio(tmp_path / "x.mp3")
    with pytest.raises(DataError, match="holds no audio files"):
        list_audio(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else tmp_path)


def test_list_audio_is_recursive_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for rel in ("b/z.wav", "a.wav", "b/a.flac", "notes.txt"):
        (tmp_path / rel).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in list_audio(tmp_path)] == [
        "a.wav", "b/a.flac", "b/z.wav"
    ]  # fmt: skip
