"""Options and helpers shared by the ``edgeae-rt`` sub-commands."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..audio import AudioReader, open_reader
from ..errors import InputError
from ..model import Model

__all__ = [
    "echo_json",
    "force_option",
    "load_model",
    "model_option",
    "open_signal",
    "pcm_options",
    "refuse_existing",
    "threads_option",
]

F = TypeVar("F", bound=Callable[..., Any])

model_option = click.option(
    "-m",
    "--model",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The .onnx model (with its edgeae manifest).",
)
force_option = click.option(
    "--force", is_flag=True, help="Overwrite OUT if it exists (default: refuse)."
)
threads_option = click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="onnxruntime intra-op threads.",
)


def pcm_options(func: F) -> F:
    """--format/--rate/--channels/--chunk-ms: how to read raw PCM and how much at a time."""
    for opt in reversed(
        [
            click.option(
                "--format",
                "pcm_format",
                default="s16le",
                show_default=True,
                help="Raw PCM sample format on stdin/stdout or .raw files: s16le or f32le.",
            ),
            click.option(
                "--rate",
                type=int,
                default=None,
                help="Sample rate of raw input (default: the model's); checked against the model.",
            ),
            click.option(
                "--channels",
                type=int,
                default=None,
                help="Channels of raw input (default: the model's).",
            ),
            click.option(
                "--chunk-ms",
                type=click.FloatRange(min=0.1),
                default=100.0,
                show_default=True,
                help="Read and process this much signal at a time.",
            ),
        ]
    ):
        func = opt(func)
    return func


def refuse_existing(path: str, force: bool) -> None:
    """Refuse an existing output (file or folder) unless ``force``; ``"-"`` is never refused."""
    if path != "-" and os.path.lexists(path) and not force:
        raise InputError(f"{path}: already exists; pass --force to overwrite it")


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
        raise InputError(
            f"--rate {rate} Hz does not match the model's {spec.sample_rate} Hz; "
            "resample the input first"
        )
    if channels is not None and channels != spec.channels:
        raise InputError(f"--channels {channels} does not match the model's {spec.channels}")
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
