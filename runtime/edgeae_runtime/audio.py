"""Read and write signals: WAV, .npy and raw PCM (s16le/f32le), from files or stdin/stdout.

Every reader yields float32 ``(channels, n)`` chunks, so a pipe streams chunk by
chunk; every file writer writes to a temporary name in the target directory and
renames it on :meth:`AudioWriter.close`, so a failed run leaves no half-written
file. ``"-"`` means stdin/stdout and raw PCM (a WAV arriving on stdin, as
``arecord`` sends by default, is recognized by its RIFF header).

Public one-shot helpers used across the project: :func:`read_wav` and
:func:`write_wav`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np

from .atomic import AtomicOutput, write_stdout
from .errors import InputError
from .framing import as_signal, signal_shape, whole_signal
from .npyfile import load_npy
from .pcm import (
    WAV_SUBTYPES,
    SampleFormat,
    decode_samples,
    encode_samples,
    parse_pcm_format,
    read_exact,
    read_wav_header,
    wav_header_bytes,
)

__all__ = [
    "DEFAULT_CHUNK_FRAMES",
    "AudioReader",
    "AudioWriter",
    "is_headerless",
    "open_reader",
    "open_writer",
    "read_audio",
    "read_wav",
    "write_wav",
]

DEFAULT_CHUNK_FRAMES = 1600  # 100 ms at 16 kHz


class AudioReader:
    """Iterate a signal in float32 ``(channels, n)`` chunks; ``sample_rate`` may be None (.npy)."""

    def __init__(
        self,
        name: str,
        channels: int,
        sample_rate: int | None,
        *,
        stream: BinaryIO | None = None,
        fmt: SampleFormat | None = None,
        data_size: int | None = None,
        prefix: bytes = b"",
        array: np.ndarray | None = None,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        owns_stream: bool = False,
    ) -> None:
        self.name = name
        self.channels = channels
        self.sample_rate = sample_rate
        self.chunk_frames = max(1, int(chunk_frames))
        self._stream, self._fmt, self._left = stream, fmt, data_size
        self._prefix, self._array, self._owns = prefix, array, owns_stream
        self.frames_read = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._array is not None:
            for i in range(0, self._array.shape[1], self.chunk_frames):
                chunk = self._array[:, i : i + self.chunk_frames]
                self.frames_read += chunk.shape[1]
                yield chunk
            return
        yield from self._iter_stream()

    def _iter_stream(self) -> Iterator[np.ndarray]:
        stream, fmt = self._stream, self._fmt
        if stream is None or fmt is None:
            return
        frame = self.channels * fmt.width
        want = self.chunk_frames * frame
        pending = self._prefix
        read1 = getattr(stream, "read1", stream.read)
        while True:
            n = want if self._left is None else min(want, self._left)
            block = read1(n) if n > 0 else b""
            if self._left is not None:
                self._left -= len(block)
            if not block:
                break
            pending += block
            usable = len(pending) - len(pending) % frame
            if usable:
                chunk = decode_samples(pending[:usable], fmt, self.channels)
                pending = pending[usable:]
                self.frames_read += chunk.shape[1]
                yield chunk
        if self._left:
            raise InputError(
                f"{self.name}: corrupted WAV: the data chunk is {self._left} bytes short "
                "(truncated file?)"
            )
        if pending:
            raise InputError(
                f"{self.name}: input ends inside a sample frame ({len(pending)} stray bytes of "
                f"a {frame}-byte frame); check `pcm_format` and `channels`"
            )

    @property
    def sample_format(self) -> SampleFormat | None:
        """The encoding of the bytes read (None for .npy input)."""
        return self._fmt

    def read_all(self) -> np.ndarray:
        """The whole signal ``(channels, n)``; InputError when it holds no samples."""
        chunks = list(self)
        if not chunks or sum(c.shape[1] for c in chunks) == 0:
            raise InputError(f"{self.name}: empty input (no samples)")
        return np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32)

    def close(self) -> None:
        """Close the underlying file (never stdin)."""
        if self._owns and self._stream is not None:
            self._stream.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_headerless(path: str | os.PathLike[str]) -> bool:
    """True for input that states no rate or channels: stdin (``"-"``) and raw PCM files."""
    name = os.fspath(path)
    return name == "-" or Path(name).suffix.lower() in (".raw", ".pcm")


def _kind(path: str) -> str:
    if path == "-":
        return "stdin"
    suffix = Path(path).suffix.lower()
    if suffix in (".wav", ".wave"):
        return "wav"
    if suffix == ".npy":
        return "npy"
    if is_headerless(path):
        return "raw"
    raise InputError(f"{path}: unknown file type {suffix or '(none)'}; use .wav, .npy, .raw or -")


def open_reader(
    path: str | os.PathLike[str],
    *,
    pcm_format: str = "s16le",
    sample_rate: int | None = None,
    channels: int | None = None,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    stdin: BinaryIO | None = None,
) -> AudioReader:
    """Open a WAV, .npy, raw PCM file or ``"-"`` (stdin) for chunked reading.

    ``sample_rate``/``channels`` describe raw PCM (which has no header) and are
    checked against what a WAV states; a mismatch is an InputError.
    """
    name = os.fspath(path)
    kind = _kind(name)
    if kind == "npy":
        stored = load_npy(name)
        # (channels, samples) or time-major (samples, channels); float32, every sample finite
        arr = as_signal(whole_signal(stored, channels, name), None, name)
        if channels is not None and arr.shape[0] != channels:
            raise InputError(
                f"{name}: an array of shape {tuple(stored.shape)} has {arr.shape[0]} channel(s), "
                f"the model takes {channels}"
            )
        return AudioReader(name, arr.shape[0], sample_rate, array=arr, chunk_frames=chunk_frames)
    if kind == "stdin":
        stream = stdin if stdin is not None else sys.stdin.buffer
        owns = False
        name = "stdin"
    else:
        try:
            stream = open(name, "rb")  # noqa: SIM115 - closed by AudioReader.close
        except OSError as exc:
            raise InputError(f"{name}: cannot open ({exc.strerror})") from None
        owns = True
    try:
        return _stream_reader(
            stream, name, kind, owns, pcm_format, sample_rate, channels, chunk_frames
        )
    except BaseException:
        if owns:
            stream.close()
        raise


def _stream_reader(
    stream: BinaryIO,
    name: str,
    kind: str,
    owns: bool,
    pcm_format: str,
    sample_rate: int | None,
    channels: int | None,
    chunk_frames: int,
) -> AudioReader:
    """Recognize a WAV header (or raw PCM) at the start of ``stream``."""
    prefix = b""
    if kind in ("stdin", "wav"):
        prefix = read_exact(stream, 4)
        if kind == "wav" and not prefix:
            raise InputError(f"{name}: empty input (0 bytes)")
    if prefix == b"RIFF":
        head = read_wav_header(stream, name, prefix)
        if sample_rate is not None and head.sample_rate != sample_rate:
            raise InputError(
                f"{name}: sample rate is {head.sample_rate} Hz, expected {sample_rate} Hz; "
                "resample the input first"
            )
        if channels is not None and head.channels != channels:
            raise InputError(f"{name}: has {head.channels} channels, expected {channels}")
        return AudioReader(
            name,
            head.channels,
            head.sample_rate,
            stream=stream,
            fmt=head.fmt,
            data_size=head.data_size,
            chunk_frames=chunk_frames,
            owns_stream=owns,
        )
    if kind == "wav":
        raise InputError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    fmt = parse_pcm_format(pcm_format)
    if channels is None:
        raise InputError(f"{name}: raw PCM has no header; give the channel count")
    return AudioReader(
        name,
        channels,
        sample_rate,
        stream=stream,
        fmt=fmt,
        prefix=prefix,
        chunk_frames=chunk_frames,
        owns_stream=owns,
    )


def read_audio(path: str | os.PathLike[str], **kwargs: object) -> tuple[np.ndarray, int | None]:
    """Read a whole signal: ``(samples float32 (channels, n), sample_rate or None)``."""
    with open_reader(path, **kwargs) as reader:  # type: ignore[arg-type]
        return reader.read_all(), reader.sample_rate


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a WAV file (PCM 8/16/24/32-bit, float 32/64, extensible, any channels).

    Returns ``(samples, sample_rate)`` with samples float32 ``(channels, n)`` in
    [-1, 1) for integer PCM.
    """
    if _kind(os.fspath(path)) != "wav":
        raise InputError(f"{os.fspath(path)}: read_wav needs a .wav file")
    samples, rate = read_audio(path)
    return samples, int(rate or 0)


class AudioWriter:
    """Write ``(channels, n)`` chunks to WAV, .npy, raw PCM or stdout, atomically for files."""

    def __init__(
        self,
        path: str,
        *,
        sample_rate: int,
        channels: int,
        pcm_format: str = "s16le",
        subtype: str = "PCM_16",
        stdout: BinaryIO | None = None,
    ) -> None:
        self.path, self.sample_rate, self.channels = path, int(sample_rate), int(channels)
        self.kind = "stdout" if path == "-" else _kind(path)
        if self.kind in ("stdout", "raw"):
            self._fmt = parse_pcm_format(pcm_format)
        elif self.kind == "wav":
            if subtype not in WAV_SUBTYPES:
                raise InputError(
                    f"unknown WAV subtype {subtype!r}: use one of {', '.join(WAV_SUBTYPES)}"
                )
            self._fmt = WAV_SUBTYPES[subtype]
        self._chunks: list[np.ndarray] = []
        self._bytes = 0
        self._out: AtomicOutput | None = None
        self.frames_written = 0
        if self.kind == "stdout":
            self._fh: BinaryIO | None = stdout if stdout is not None else sys.stdout.buffer
            return
        self._out = AtomicOutput(path)
        self._fh = self._out.file
        if self.kind == "wav":
            self._out.write(wav_header_bytes(self.sample_rate, self.channels, self._fmt, 0))

    def write(self, chunk: np.ndarray) -> None:
        """Append samples ``(channels, n)`` (or ``(n,)`` for mono)."""
        x = signal_shape(chunk, None, self.path)
        if x.shape[0] != self.channels:
            raise InputError(f"{self.path}: writer has {self.channels} channels, got {x.shape[0]}")
        if self._fh is None:
            raise InputError(f"{self.path}: writer is already closed")
        self.frames_written += x.shape[1]
        if self.kind == "npy":
            self._chunks.append(np.asarray(x, dtype=np.float32))
            return
        data = encode_samples(x, self._fmt)
        self._bytes += len(data)
        if self._out is None:
            write_stdout(data, self._fh)
        else:
            self._out.write(data)

    def close(self) -> None:
        """Finish the file (fix the WAV sizes, write the .npy) and move it into place."""
        if self._fh is None:
            return
        fh, self._fh = self._fh, None
        out = self._out
        if out is None:
            write_stdout(b"", fh)
            return
        with out:
            if self.kind == "npy":
                data = (
                    np.concatenate(self._chunks, axis=1)
                    if self._chunks
                    else np.zeros((self.channels, 0), np.float32)
                )
                np.save(fh, data[0] if self.channels == 1 else data, allow_pickle=False)
            elif self.kind == "wav":
                fh.seek(0)
                fh.write(wav_header_bytes(self.sample_rate, self.channels, self._fmt, self._bytes))

    def abort(self) -> None:
        """Drop everything written so far; for a file, no output appears."""
        self._fh = None
        if self._out is not None:
            self._out.abort()

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def open_writer(path: str | os.PathLike[str], **kwargs: object) -> AudioWriter:
    """Open ``path`` (.wav, .npy, .raw, or ``"-"`` for raw PCM on stdout) for writing."""
    return AudioWriter(os.fspath(path), **kwargs)  # type: ignore[arg-type]


def write_wav(
    path: str | os.PathLike[str],
    samples: np.ndarray,
    sample_rate: int,
    subtype: str = "PCM_16",
) -> None:
    """Write ``samples`` ``(channels, n)`` or ``(n,)`` to a WAV file, atomically.

    ``subtype``: ``"PCM_16"``, ``"PCM_24"``, ``"PCM_32"`` (integers, clipped to
    [-1, 1)) or ``"FLOAT"`` (32-bit float, unclipped).
    """
    x = signal_shape(samples, None, os.fspath(path))
    if _kind(os.fspath(path)) != "wav":
        raise InputError(f"{os.fspath(path)}: write_wav needs a .wav path")
    with open_writer(path, sample_rate=sample_rate, channels=x.shape[0], subtype=subtype) as w:
        w.write(x)
