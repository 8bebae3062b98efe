"""Reading audio files at the rate a model needs: WAV (any rate), FLAC and OGG.

WAV goes through the runtime's one reader (:mod:`edgeae.data.wav`); FLAC/OGG
through ``soundfile`` (a host dependency; the runtime never needs it). A file
at another rate is converted with the runtime's polyphase resampler
(:mod:`edgeae_runtime.resample`), so host training data and device input are
resampled by the same filter.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime.errors import InputError
from edgeae_runtime.resample import resample

from .wav import read_wav

__all__ = ["AUDIO_EXTENSIONS", "list_audio", "read_audio"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    """FLAC/OGG via soundfile: float32 ``(channels, n)`` and the rate."""
    try:
        import soundfile
    except ImportError:  # pragma: no cover - soundfile is a declared dependency
        raise DataError(
            f"{path}: reading {path.suffix} needs the 'soundfile' package (pip install soundfile)"
        ) from None
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:  # type: ignore[attr-defined]
        raise DataError(f"{path}: not a readable {path.suffix} file ({exc})") from None
    return np.ascontiguousarray(data.T), int(rate)


def read_audio(
    path: str | os.PathLike[str], sample_rate: int | None = None, *, mono: bool = False
) -> tuple[np.ndarray, int]:
    """Read ``path`` as float32 ``(channels, n)`` in [-1, 1] and its rate.

    With ``sample_rate`` the samples are resampled to it (and that rate is
    returned); ``mono`` averages the channels into one. Errors are
    :class:`DataError` naming the file.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".wav":
        samples, rate = read_wav(p)
    elif ext in AUDIO_EXTENSIONS:
        if not p.is_file():
            raise DataError(f"{p}: no such file")
        samples, rate = _read_soundfile(p)
    else:
        raise DataError(
            f"{p}: not an audio file ({ext or 'no extension'}); expected "
            + ", ".join(AUDIO_EXTENSIONS)
        )
    if samples.shape[1] == 0:
        raise DataError(f"{p}: the file holds no samples")
    if mono and samples.shape[0] > 1:
        samples = samples.mean(axis=0, keepdims=True, dtype=np.float32)
    if sample_rate is not None and sample_rate != rate:
        try:
            samples = resample(samples.astype(np.float32, copy=False), rate, sample_rate)
        except InputError as exc:
            raise DataError(f"{p}: cannot resample {rate} -> {sample_rate} Hz ({exc})") from None
        rate = int(sample_rate)
    return np.ascontiguousarray(samples, dtype=np.float32), rate


def list_audio(folder: str | os.PathLike[str]) -> list[Path]:
    """Every audio file under ``folder`` (recursively), sorted by relative path."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    files = sorted(
        (p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    if not files:
        raise DataError(f"{root}: the folder holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
    return files
