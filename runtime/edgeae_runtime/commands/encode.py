"""``edgeae-rt encode``: latent vectors of items or signal windows, to .npy."""

from __future__ import annotations

import click
import numpy as np

from ..atomic import AtomicOutput
from ..clitools import Command
from ..errors import InputError, ParameterError
from ..framing import SignalFramer
from ..model import Model
from ..npyfile import load_npy
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

__all__ = ["encode", "save_npy"]


def save_npy(path: str, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically (see :mod:`..atomic`)."""
    with AtomicOutput(path) as out:
        np.save(out.file, array, allow_pickle=False)


def _items_or_none(path: str, model: Model) -> np.ndarray | None:
    """A .npy holding a batch of items (N, *item_shape), else None (a signal)."""
    if not path.lower().endswith(".npy"):
        return None
    arr = load_npy(path, mmap=True)
    if tuple(arr.shape[1:]) == model.item_shape and arr.ndim == len(model.item_shape) + 1:
        return np.asarray(arr)
    return None


@click.command("encode", cls=Command)
@model_option()
@click.argument("source", metavar="IN")
@output_option()
@pcm_options
@threads_option()
@force_option
def encode(
    model_path: str,
    source: str,
    output: str,
    pcm_format: str,
    rate: int | None,
    channels: int | None,
    chunk_ms: float,
    threads: int,
    force: bool,
) -> None:
    """Write the latent vectors of IN to -o OUT.npy (features, dimensionality reduction).

    IN is a .npy batch of items (N, *item_shape) -> (N, *latent_shape), or a signal
    (.wav, .npy, .raw, -) cut into the model's windows -> one latent per window.
    The model is the encoder or the full autoencoder.

    \b
    Examples:
      edgeae-rt encode -m encoder.onnx digits.npy -o latents.npy
      edgeae-rt encode -m encoder.onnx machine.wav -o windows.npy
    """
    if not output.lower().endswith(".npy"):
        raise ParameterError(f"{output}: encode writes .npy files; name it *.npy", param="output")
    refuse_existing(output, force)
    model = load_model(model_path, threads)
    items = _items_or_none(source, model)
    if items is not None:
        save_npy(output, model.encode(items))
        click.echo(f"{items.shape[0]} latents of shape {model.latent_shape} -> {output}", err=True)
        return
    spec = model.require_signal()
    framer = SignalFramer.of(spec, name=source)
    parts = []
    with open_signal(
        source, model, pcm_format=pcm_format, rate=rate, channels=channels, chunk_ms=chunk_ms
    ) as reader:
        for chunk in reader:
            frames = framer.push(chunk).frames
            if frames.shape[0]:
                parts.append(model.encode(frames.reshape((-1, *model.item_shape))))
    if framer.samples_in == 0:
        raise InputError(f"{source}: empty input (no samples)")
    frames = framer.flush().frames
    if frames.shape[0]:
        parts.append(model.encode(frames.reshape((-1, *model.item_shape))))
    latents = np.concatenate(parts)
    save_npy(output, latents)
    click.echo(
        f"{latents.shape[0]} windows (hop {spec.hop}) -> latents {latents.shape} -> {output}",
        err=True,
    )
