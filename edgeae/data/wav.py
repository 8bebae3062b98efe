"""WAV files for ``edgeae.data``: the runtime's reader and writer, with host-side errors.

There is one WAV implementation in the project, :mod:`edgeae_runtime.audio`
(RIFF parsing for PCM 8/16/24/32-bit, float 32/64, WAVE_FORMAT_EXTENSIBLE, any
channel count). This module opens the file itself (so it is closed on every
error path) and re-raises the runtime's errors as :class:`DataError`, so a bad
data file is reported like every other data problem.
"""

from __future__ import annotations

import os

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime import audio, pcm
from edgeae_runtime.errors import InputError

__all__ = ["read_wav", "write_wav"]


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a WAV file: ``(float32 samples (channels, n), sample_rate)``, PCM in [-1, 1).

    A missing, corrupted or unsupported file raises :class:`DataError` naming it.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            head = pcm.read_wav_header(fh, name)
            reader = audio.AudioReader(
                name,
                head.channels,
                head.sample_rate,
                stream=fh,
                fmt=head.fmt,
                data_size=head.data_size,
            )
            return reader.read_all(), head.sample_rate
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a folder, not a WAV file") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read ({exc.strerror})") from None
    except InputError as exc:
        raise DataError(str(exc)) from None


def write_wav(
    path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int, subtype: str = "PCM_16"
) -> None:
    """Write ``samples`` ``(channels, n)`` atomically (subtype PCM_16, PCM_24, PCM_32, FLOAT)."""
    try:
        audio.write_wav(path, samples, sample_rate, subtype)
    except InputError as exc:
        raise DataError(str(exc)) from None
