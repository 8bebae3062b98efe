"""Byte-stream plumbing shared by ``edgeae-rt compress`` and ``decompress``.

Binary outputs go to a temporary file in the target directory and are renamed
into place only when the command succeeded, so a failure never leaves a
half-written file; ``"-"`` means stdin/stdout.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import click

from ..errors import InputError

__all__ = [
    "AtomicBinaryOutput",
    "echo_summary",
    "pixel_range_option",
    "read_chunks",
]

CHUNK_BYTES = 1 << 16

pixel_range_option = click.option(
    "--pixel-range",
    "range_override",
    type=(float, float),
    default=None,
    metavar="LO HI",
    help="PNG images: the raw values pixel 0 and full scale stand for "
    "(default: the manifest's preprocessing clip, else value_range, else 0 255).",
)


def read_chunks(path: str, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield a file's (or stdin's, for ``"-"``) bytes in chunks."""
    if path == "-":
        stream: BinaryIO = sys.stdin.buffer
        yield from iter(lambda: stream.read(size), b"")
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    with fh:
        yield from iter(lambda: fh.read(size), b"")


class AtomicBinaryOutput:
    """A binary output file written under a temporary name and renamed on success."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.bytes = 0
        self._tmp: str | None = None
        if path == "-":
            self._fh: BinaryIO = sys.stdout.buffer
            return
        target = Path(path)
        if target.is_dir():
            raise InputError(f"{path}: is a directory; give an output file name")
        try:
            fd, self._tmp = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent)
            )
        except OSError as exc:
            raise InputError(f"{path}: cannot write here ({exc.strerror})") from None
        self._fh = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        """Append bytes (flushed at once on stdout, for pipes)."""
        if data:
            self._fh.write(data)
            self.bytes += len(data)
            if self._tmp is None:
                self._fh.flush()

    def __enter__(self) -> AtomicBinaryOutput:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: Any) -> None:
        if self._tmp is None:
            self._fh.flush()
            return
        self._fh.close()
        if exc_type is None:
            mask = os.umask(0o022)
            os.umask(mask)
            os.chmod(self._tmp, 0o666 & ~mask)
            os.replace(self._tmp, self.path)
        elif os.path.exists(self._tmp):
            os.unlink(self._tmp)


def echo_summary(summary: dict[str, Any], output: str) -> None:
    """Print the ``--json`` summary: on stderr when the data itself goes to stdout."""
    click.echo(json.dumps(summary, sort_keys=True), err=output == "-")
