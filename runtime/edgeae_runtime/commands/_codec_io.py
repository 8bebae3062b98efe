"""Byte-stream plumbing shared by ``edgeae-rt compress`` and ``decompress``.

Binary outputs go to a temporary file in the target directory and are renamed
into place only when the command succeeded, so a failure never leaves a
half-written file; ``"-"`` means stdin/stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import click

from ..atomic import AtomicOutput, write_stdout
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
    """A binary output: a file written atomically (see :mod:`..atomic`) or stdout for ``"-"``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.bytes = 0
        self._out = None if path == "-" else AtomicOutput(path)

    def write(self, data: bytes) -> None:
        """Append bytes (flushed at once on stdout, for pipes)."""
        if data:
            if self._out is None:
                write_stdout(data)
            else:
                self._out.write(data)
            self.bytes += len(data)

    def __enter__(self) -> AtomicBinaryOutput:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: Any, tb: Any) -> None:
        if self._out is None:
            if exc_type is None:
                write_stdout(b"")
            return
        self._out.__exit__(exc_type, exc, tb)


def echo_summary(summary: dict[str, Any], output: str) -> None:
    """Print the ``--json`` summary: on stderr when the data itself goes to stdout."""
    click.echo(json.dumps(summary, sort_keys=True), err=output == "-")
