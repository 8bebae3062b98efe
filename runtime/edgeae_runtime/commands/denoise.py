"""``edgeae-rt denoise``: stream a signal through the model, chunk by chunk."""

from __future__ import annotations

import sys

import click

from ..audio import is_headerless, open_reader, open_writer
from ..clitools import Command, legacy_argument
from ..errors import InputError, ParameterError
from ..model import Model
from ..speech import MAX_RATE, MIN_RATE, open_denoiser
from ._common import (
    force_option,
    load_model,
    model_option,
    output_option,
    pcm_options,
    refuse_existing,
    threads_option,
)

__all__ = ["denoise"]

_SUBTYPE_OF = {("int", 16): "PCM_16", ("int", 24): "PCM_24", ("int", 32): "PCM_32"}


@click.command("denoise", cls=Command)
@model_option(default_help="the pretrained speech denoiser shipped with the runtime")
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
    model_path: str | None,
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
    Without -m the pretrained speech denoiser runs; input at 8-48 kHz is resampled
    to the model's rate and back (OUT keeps IN's rate). A mono model denoises each
    channel of a multichannel IN (a stereo WAV) on its own; OUT keeps the channels.

    \b
    Examples:
      edgeae-rt denoise noisy.wav -o clean.wav
      arecord -f S16_LE -r 48000 | edgeae-rt denoise --rate 48000 - -o - | aplay -f S16_LE -r 48000
      edgeae-rt denoise -m model.onnx noisy.wav -o clean.wav
      edgeae-rt denoise -m model.onnx - -o out.wav --format f32le < capture.f32
    """
    refuse_existing(output, force)
    if model_path is None:
        model = Model.default("speech-denoiser", threads=threads)
    else:
        model = load_model(model_path, threads)
    spec = model.require_signal()
    if channels is not None and channels != spec.channels and spec.channels != 1:
        raise ParameterError(
            f"{channels} does not match the model's {spec.channels}", param="channels"
        )
    if rate is not None and rate != spec.sample_rate and not MIN_RATE <= rate <= MAX_RATE:
        raise ParameterError(
            f"{rate} Hz: give the model's {spec.sample_rate} Hz or {MIN_RATE}-{MAX_RATE} Hz "
            "(resampled at the edges)",
            param="rate",
        )
    headerless = is_headerless(source)
    with open_reader(
        source,
        pcm_format=pcm_format,
        sample_rate=(rate or spec.sample_rate) if headerless else rate,
        # a mono model takes any channel count (each channel denoised on its own)
        channels=(channels or spec.channels) if headerless or spec.channels != 1 else channels,
        chunk_frames=max(1, round(chunk_ms * (rate or spec.sample_rate) / 1000.0)),
        stdin=sys.stdin.buffer,
    ) as reader:
        in_rate = reader.sample_rate or spec.sample_rate
        den = open_denoiser(model, in_rate, channels=reader.channels)
        if subtype is None:
            fmt = reader.sample_format
            subtype = _SUBTYPE_OF.get((fmt.kind, fmt.bits), "FLOAT") if fmt else "FLOAT"
        with open_writer(
            output,
            sample_rate=in_rate,
            channels=reader.channels,
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
