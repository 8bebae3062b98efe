"""Options and helpers shared by the ``edgeae-rt`` sub-commands."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..audio import AudioReader, open_reader
from ..clitools import (
    BoundedFloat,
    chunk_ms_option,
    force_option,
    json_option,
    model_option,
    output_option,
    threads_option,
)
from ..errors import ParameterError
from ..model import Model

__all__ = [
    "BoundedFloat",
    "echo_json",
    "force_option",
    "json_option",
    "load_model",
    "model_option",
    "open_signal",
    "output_option",
    "pcm_format_option",
    "pcm_options",
    "refuse_existing",
    "threads_option",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Raw PCM sample formats the readers and writers know.
PCM_FORMATS = ("s16le", "f32le")

pcm_format_option = click.option(
    "--format",
    "pcm_format",
    type=click.Choice(PCM_FORMATS),
    default="s16le",
    show_default=True,
    help="Raw PCM sample format on stdin/stdout or .raw files.",
)


def pcm_options(func: F) -> F:
    """--format/--rate/--channels/--chunk-ms: how to read raw PCM and how much at a time."""
    for opt in reversed(
        [
            pcm_format_option,
            click.option(
                "--rate",
                type=click.IntRange(1, 768_000),
                default=None,
                help="Sample rate of raw input (default: the model's); checked against the model.",
            ),
            click.option(
                "--channels",
                type=click.IntRange(1, 64),
                default=None,
                help="Channels of raw input (default: the model's).",
            ),
            chunk_ms_option,
        ]
    ):
        func = opt(func)
    return func


def refuse_existing(path: str, force: bool) -> None:
    """Refuse an existing output (file or folder) unless ``force``; ``"-"`` is never refused."""
    if path != "-" and os.path.lexists(path) and not force:
        raise ParameterError(f"{path}: already exists; use `force` to overwrite it")


def load_model(path: str, threads: int = 1) -> Model:
    """Load a model for a command (errors are EdgeAEErrors: one line, non-zero exit)."""
    return Model(path, threads=threads)


def open_signal(
    path: str,
    model: Model,
    *,
    pcm_format: str,
    rate: int | None,
    channels: int | None,
    chunk_ms: float,
) -> AudioReader:
    """Open IN for a signal model: raw input defaults to the model's rate and channels."""
    spec = model.require_signal()
    if rate is not None and rate != spec.sample_rate:
        raise ParameterError(
            f"{rate} Hz does not match the model's {spec.sample_rate} Hz; resample the input first",
            param="rate",
        )
    if channels is not None and channels != spec.channels:
        raise ParameterError(
            f"{channels} does not match the model's {spec.channels}", param="channels"
        )
    chunk = max(1, round(chunk_ms * spec.sample_rate / 1000.0))
    return open_reader(
        path,
        pcm_format=pcm_format,
        sample_rate=spec.sample_rate,
        channels=spec.channels,
        chunk_frames=chunk,
        stdin=sys.stdin.buffer,
    )


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, sort_keys=True))
