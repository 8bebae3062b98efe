"""``edgeae-rt denoise``: stream a signal through the model, chunk by chunk."""

from __future__ import annotations

import sys

import click

from ..audio import open_writer
from ..clitools import Command, legacy_argument
from ..errors import InputError
from ..stream import StreamDenoiser
from ._common import (
    force_option,
    load_model,
    model_option,
    open_signal,
    output_option,
    pcm_options,
    refuse_existing,
    threads_option,
)

__all__ = ["denoise"]

_SUBTYPE_OF = {("int", 16): "PCM_16", ("int", 24): "PCM_24", ("int", 32): "PCM_32"}


@click.command("denoise", cls=Command)
@model_option()
@click.argument("source", metavar="IN")
@output_option()
@legacy_argument("OUT", into="output", flag="-o/--output")
@pcm_options
@click.option(
    "--subtype",
    default=None,
    help="WAV output encoding: PCM_16, PCM_24, PCM_32 or FLOAT (default: the input's, else FLOAT).",
)
@threads_option()
@force_option
def denoise(
    model_path: str,
    source: str,
    output: str,
    pcm_format: str,
    rate: int | None,
    channels: int | None,
    chunk_ms: float,
    subtype: str | None,
    threads: int,
    force: bool,
) -> None:
    """Denoise IN into -o OUT (.wav, .npy, .raw, or - for raw PCM on stdin/stdout).

    The signal streams through in chunks of --chunk-ms: memory stays flat and,
    on a pipe, output follows input with the model's latency (see `info`).
    OUT has exactly as many samples as IN; an existing OUT is refused unless --force.

    \b
    Examples:
      edgeae-rt denoise -m model.onnx noisy.wav -o clean.wav
      arecord -f S16_LE -r 16000 | edgeae-rt denoise -m model.onnx - -o - | aplay -f S16_LE -r 16000
      edgeae-rt denoise -m model.onnx - -o out.wav --format f32le < capture.f32
    """
    refuse_existing(output, force)
    model = load_model(model_path, threads)
    den = StreamDenoiser(model)
    spec = den.spec
    with open_signal(
        source, model, pcm_format=pcm_format, rate=rate, channels=channels, chunk_ms=chunk_ms
    ) as reader:
        if subtype is None:
            fmt = reader.sample_format
            subtype = _SUBTYPE_OF.get((fmt.kind, fmt.bits), "FLOAT") if fmt else "FLOAT"
        with open_writer(
            output,
            sample_rate=spec.sample_rate,
            channels=spec.channels,
            pcm_format=pcm_format,
            subtype=subtype,
            stdout=sys.stdout.buffer,
        ) as writer:
            for chunk in reader:
                out = den.push(chunk)
                if out.shape[1]:
                    writer.write(out)
            if den.samples_in == 0:
                raise InputError(f"{reader.name}: empty input (no samples)")
            writer.write(den.flush())
