"""``edgeae-rt compress``: a signal, a batch of images or of items -> an edgeae stream file."""

from __future__ import annotations

import math
import time
from pathlib import Path

import click
import numpy as np

from ..audio import open_reader
from ..clitools import Command, legacy_argument, library_names
from ..codec import StreamEncoder, compress_image, compress_items
from ..codec.tiles import tile_grid
from ..errors import InputError
from ..model import Model
from ..npyfile import load_npy
from ._codec_io import (
    AtomicBinaryOutput,
    echo_summary,
    pixel_range_option,
    read_items,
)
from ._common import (
    force_option,
    json_option,
    model_option,
    output_option,
    pcm_format_option,
    refuse_existing,
    threads_option,
)
from ._image_io import (
    is_png_source,
    not_png_hint,
    pixel_range,
    png_files,
    read_png_batch,
    read_png_image,
)

__all__ = ["compress"]


@library_names(frame_windows="frame_size", frame_items="frame_size")
@click.command("compress", cls=Command)
@model_option()
@click.argument("input_path", metavar="IN")
@output_option()
@legacy_argument("OUT", into="output", flag="-o/--output")
@pcm_format_option
@click.option(
    "--overlap",
    is_flag=True,
    help="Code the manifest's overlapping hop (about 2x the bytes; overlap-add).",
)
@click.option("--no-entropy", is_flag=True, help="Do not deflate frames.")
@click.option(
    "--per-frame",
    is_flag=True,
    help="Store a scale/offset in every frame instead of the manifest's codec.",
)
@click.option(
    "--bits",
    type=click.Choice(["4", "8", "16"]),
    default=None,
    help="Code width (per-frame scaling; default: the manifest's, else 8).",
)
@click.option(
    "--frame-size",
    type=click.IntRange(1, 4096),
    default=None,
    metavar="N",
    help="Windows (signals, default 8) or items (default 64) per frame of an entropy-coded "
    "stream: fewer bytes per frame header, more latency and more lost per lost frame.",
)
@click.option(
    "--entropy-model",
    type=click.Choice(["factorized", "context", "adaptive"]),
    default=None,
    help="Which of the manifest's entropy models codes the frames (default: its adaptive "
    "model when it has one, format version 5; else its context model, version 4; else its "
    "factorized tables).",
)
@pixel_range_option
@threads_option()
@force_option
@json_option
def compress(
    model_path: str,
    input_path: str,
    output: str,
    pcm_format: str,
    overlap: bool,
    no_entropy: bool,
    per_frame: bool,
    bits: str | None,
    frame_size: int | None,
    entropy_model: str | None,
    range_override: tuple[float, float] | None,
    threads: int,
    force: bool,
    as_json: bool,
) -> None:
    """Compress a signal (chunk by chunk), a batch of images or of items to an edgeae stream.

    The model is the encoder (encoder.onnx) or the full autoencoder. IN is a
    .wav, a .npy (channels, n) or "-" for raw PCM on stdin (the model's sample
    rate and channels); -o OUT is a file or "-" for stdout. An existing OUT
    is refused unless --force. The --json summary goes to stderr when OUT is "-".

    For a conv2d model, IN is a folder of PNGs (every *.png in it, sorted by name,
    one frame per image; --json lists the names in frame order), one .png, or a
    .npy batch (N, C, H, W) in raw units. PNG pixels map linearly to raw units
    (--pixel-range); a folder's images must have the model's size and channel count.
    One .png (or a .npy image (C, H, W)) of any other size is coded whole, in the
    model's tiles (format version 6); decompress gives it back at its size.

    For a dense model (feature vectors, tabular rows), IN is a .npy batch
    (N, *item_shape) or a .csv of N rows of numbers, one frame per item.

    A model trained for compression (an entropy model in its manifest) codes
    --frame-size windows (default 8) or items (default 64) in one frame.

    \b
    Examples:
      edgeae-rt compress -m encoder.onnx speech.wav -o speech.eae --json
      arecord -f S16_LE -r 16000 -t raw | edgeae-rt compress -m encoder.onnx - -o - | nc host 9000
      edgeae-rt compress -m encoder.onnx digits/ -o digits.eae --json
      edgeae-rt compress -m encoder.onnx photo.png -o photo.eae
    """
    refuse_existing(output, force)
    model = Model(model_path, threads=threads)
    options = {
        "entropy": not no_entropy,
        "bits": int(bits) if bits else None,
        "per_frame": True if per_frame else None,
        "entropy_model": entropy_model,
    }
    started = time.perf_counter()
    if len(model.item_shape) == 3:
        summary = _compress_images(
            model, input_path, output, _sized(options, "frame_items", frame_size), range_override
        )
    elif model.manifest.signal is None:
        summary = _compress_items(
            model, input_path, output, _sized(options, "frame_items", frame_size)
        )
    else:
        spec = model.require_signal()
        encoder = StreamEncoder(
            model, overlap=overlap, **_sized(options, "frame_windows", frame_size)
        )
        reader = open_reader(
            input_path,
            pcm_format=pcm_format,
            sample_rate=spec.sample_rate,
            channels=spec.channels,
        )
        with reader, AtomicBinaryOutput(output) as out:
            for chunk in reader:
                out.write(encoder.push(chunk))
            if encoder.samples == 0:
                raise InputError(f"{reader.name}: empty input (no samples)")
            out.write(encoder.flush())
        seconds = encoder.samples / spec.sample_rate
        summary = {
            "samples": encoder.samples,
            "seconds": seconds,
            "frames": encoder.frames,
            "bytes": out.bytes,
            "bytes_per_second": out.bytes / seconds,
            "compression_ratio_vs_pcm16": encoder.samples * spec.channels * 2 / out.bytes,
        }
    summary.update({"input": input_path, "output": output, "time_s": time.perf_counter() - started})
    echo_summary(summary, output, as_json)


def _sized(options: dict, name: str, size: int | None) -> dict:
    """``options`` plus the frame size under the library's name for this kind of data."""
    return options if size is None else {**options, name: size}


def _compress_images(
    model: Model,
    input_path: str,
    output_path: str,
    options: dict,
    range_override: tuple[float, float] | None,
) -> dict:
    """Images from a PNG folder, one PNG or a .npy batch (N, C, H, W) into one stream file;
    one image of another size than the model's goes whole, in tiles."""
    files: list[str] | None = None
    if is_png_source(input_path):
        low, high = pixel_range(model.manifest.preprocessing, range_override)
        paths = png_files(input_path)
        if paths == [Path(input_path)]:  # one .png: any size
            images = read_png_image(input_path, model.item_shape[0], low, high)
        else:
            images = read_png_batch(paths, model.item_shape, low, high)
            files = [p.name for p in paths]
    elif input_path.lower().endswith(".npy"):
        images = load_npy(input_path)
    else:
        raise InputError(
            f"{input_path}: {model.path.name} is an image model; give a folder of PNGs, "
            "a .png or a .npy batch (N, C, H, W)" + not_png_hint(input_path, model.item_shape[0])
        )
    if _is_whole_image(images, model.item_shape):
        return _compress_tiled(model, images, output_path, options)
    data = compress_items(model, images, **options)
    with AtomicBinaryOutput(output_path) as out:
        out.write(data)
    n = int(images.shape[0]) if images.ndim == 4 else 1
    summary: dict = {"images": n, "bytes": len(data), "bytes_per_image": len(data) / n}
    if files is not None:
        summary["files"] = files
    return summary


def _is_whole_image(array: np.ndarray, item_shape: tuple[int, ...]) -> bool:
    """One image ``(C, H, W)`` (or ``(H, W)`` for one channel) of another size than the
    model's: coded in tiles (a batch, or one image of the model's size, is not)."""
    channels = item_shape[0]
    one = (array.ndim == 3 and array.shape[0] == channels) or (array.ndim == 2 and channels == 1)
    return one and tuple(array.shape[-2:]) != tuple(item_shape[1:])


def _compress_tiled(model: Model, image: np.ndarray, output_path: str, options: dict) -> dict:
    """One whole image in the model's tiles (format version 6) into one stream file."""
    data = compress_image(model, image, **options)
    with AtomicBinaryOutput(output_path) as out:
        out.write(data)
    height, width = image.shape[-2:]
    tiles = math.prod(tile_grid((height, width), model.item_shape[1:]))
    return {
        "image": [int(height), int(width)],
        "tiles": tiles,
        "bytes": len(data),
        "bits_per_pixel": 8 * len(data) / (height * width),
    }


def _compress_items(model: Model, input_path: str, output_path: str, options: dict) -> dict:
    """Items from a .npy batch (N, *item_shape) or a CSV of rows into one stream file."""
    items = read_items(input_path, model.item_shape)
    data = compress_items(model, items, **options)
    with AtomicBinaryOutput(output_path) as out:
        out.write(data)
    n = int(items.shape[0])
    return {"items": n, "bytes": len(data), "bytes_per_item": len(data) / n}
