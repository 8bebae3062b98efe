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
import numpy as np

from ..atomic import AtomicOutput, write_stdout
from ..errors import InputError
from ..npyfile import load_npy

__all__ = [
    "AtomicBinaryOutput",
    "echo_summary",
    "pixel_range_option",
    "read_chunks",
    "read_items",
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


def read_items(path: str, item_shape: tuple[int, ...]) -> np.ndarray:
    """A batch of items ``(N, *item_shape)`` from a .npy or a CSV of numeric rows."""
    if path.lower().endswith(".npy"):
        items = load_npy(path)
    elif path.lower().endswith(".csv"):
        try:
            items = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float32)
        except OSError as exc:
            raise InputError(f"{path}: cannot open ({exc.strerror or exc})") from None
        except ValueError as exc:
            raise InputError(f"{path}: not a CSV of numbers ({str(exc).splitlines()[0]})") from None
    else:
        raise InputError(f"{path}: give a .npy batch or a .csv of rows for a model of items")
    shape = tuple(item_shape)
    if items.ndim == len(shape) and tuple(items.shape) == shape:
        items = items[None]
    if tuple(items.shape[1:]) != shape or items.shape[0] == 0:
        raise InputError(
            f"{path}: holds shape {tuple(items.shape)}, the model needs items of shape "
            f"(N, {', '.join(map(str, shape))})"
        )
    if not np.all(np.isfinite(items)):
        raise InputError(f"{path}: holds NaN or infinite values")
    return items


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


def echo_summary(summary: dict[str, Any], output: str, as_json: bool = True) -> None:
    """Print the summary: ``--json`` on stdout (stderr when the data itself goes to stdout),
    else one line on stderr for a person (what was written, its bytes, the quality against
    ``--reference``)."""
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True), err=output == "-")
        return
    kind = next((k for k in ("images", "items") if k in summary), None)
    size = f"{summary['bytes']} bytes"
    if "image" in summary:  # one whole image in tiles
        what = f"one {summary['image'][0]}x{summary['image'][1]} image"
        size += f" ({summary['bits_per_pixel']:.3f} bits per pixel)"
    elif kind is not None:
        what = f"{summary[kind]} {kind[:-1] if summary[kind] == 1 else kind}"
        size += f" ({summary['bytes'] / max(summary[kind], 1):.1f} per {kind[:-1]})"
    else:
        what = f"{summary['seconds']:.2f} s of signal"
        if summary.get("bytes_per_second"):
            size += f" ({summary['bytes_per_second']:.1f} B/s)"
    line = f"{summary['input']} -> {summary['output']}: {what}, {size}"
    for key, unit in (("psnr_db", "PSNR"), ("snr_db", "SNR")):
        if summary.get(key) is not None:
            line += f"; {unit} {summary[key]:.2f} dB against the reference"
    kinds = ("concealed_images", "concealed_tiles", "concealed_frames")
    concealed = next((summary[k] for k in kinds if summary.get(k)), None)
    if concealed:
        line += f"; {len(concealed) if isinstance(concealed, list) else concealed} concealed"
    click.echo(line, err=True)
