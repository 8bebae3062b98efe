"""``load_source``: one entry point from a source string to a :class:`Dataset`.

A source is ``builtin:NAME`` (with options: ``builtin:sensor?seconds=60&channels=2``),
a file (.npy, .npz, .csv, .wav, an image: .png, .jpg, .webp, .bmp, .tif), a folder of
images, or a speech
corpus (:mod:`edgeae.data.speech`): ``mix:clean=DIR&noise=DIR`` (on-the-fly
mixing), a folder holding ``noisy/`` and ``clean/`` (recorded pairs), or
``builtin:speech``.

How files are read:

- ``.npy`` is memory-mapped (store float32 to stay mapped; other dtypes are
  converted in memory). ``.npz`` loads the array named ``key`` (required when the
  archive holds several), plus arrays named ``labels`` (N,) and ``target`` (like x)
  when present.
- 1-D arrays are mono signals. 2-D arrays are items of features (NF), or a
  ``(channels, samples)`` signal when ``window`` is given. 3-D arrays are windows
  ``(N, C, W)`` or one-channel images ``(N, H, W)`` (see :func:`natural_layout`),
  4-D arrays NCHW images.
- ``.csv``: numeric, one item per row, an optional header row; with ``window``,
  columns are channels and rows are samples of a signal.
- ``.wav`` is a signal in [-1, 1]; an image folder is images NCHW in 0..255 (PNG by
  the project's reader; JPEG, WebP, BMP, TIFF through Pillow, ``edgeae[images]``).

Signals are framed into windows (``window``, default 256; ``hop``, default window/2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime.framing import whole_signal

from .assemble import DEFAULT_WINDOW, items_dataset, signal_dataset
from .audio import read_audio
from .builtin.registry import load_builtin
from .builtin.speech import BUNDLE_RATE
from .colour import HueAugment
from .dataset import Dataset
from .files import image_crops, is_image_path, read_file
from .machine import LOGMEL_PREFIX, load_logmel
from .sensorlog import SENSORLOG_PREFIX, load_sensorlog
from .speech import MIX_PREFIX, PAIRS_PREFIX, corpus_dataset, is_speech_source, load_speech

__all__ = [
    "BUILTIN_PREFIX",
    "frames_itself",
    "is_crop_source",
    "load_source",
    "parse_builtin",
    "source_path",
]

BUILTIN_PREFIX = "builtin:"


def _query(source: str, query: str, form: str) -> dict[str, str]:
    """The ``a=1&b=2`` options of ``source``; DataError on a malformed or repeated one."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise DataError(f"{source}: malformed options {query!r}; write {form}") from None
    options: dict[str, str] = {}
    for key, value in pairs:
        if key in options:
            raise DataError(f"{source}: option {key!r} is given twice")
        options[key] = value
    return options


def parse_builtin(source: str) -> tuple[str, dict[str, str]]:
    """Split ``builtin:NAME?a=1&b=2`` into ``("NAME", {"a": "1", "b": "2"})``."""
    name, _, query = source[len(BUILTIN_PREFIX) :].partition("?")
    return name.strip(), _query(source, query, "builtin:NAME?option=value&...")


#: The options a file source takes, by what it is: a rate for arrays stored without one,
#: crops for images of any size.
_SIGNAL_OPTIONS = ("rate",)
_CROP_OPTIONS = ("crop", "per_image", "seed", "hue")


def _file_options(source: str) -> tuple[str, dict[str, int]]:
    """Split ``FILE?rate=HZ`` (the sample rate of a signal stored without one: .npy, .npz,
    .csv) or ``IMAGES?crop=N[&per_image=K&seed=S&hue=0|1]`` (a folder of images, or one, any
    sizes: random N x N crops; ``hue``: a random hue per crop and epoch) into ``(FILE,
    options)``; a source without options (or an existing file whose name holds a ``?``) is
    ``(source, {})``."""
    path, sep, query = source.partition("?")
    if not sep or Path(source).exists():
        return source, {}
    images = Path(path).is_dir() or is_image_path(Path(path))
    allowed, form = (
        (_CROP_OPTIONS, "IMAGES?crop=N") if images else (_SIGNAL_OPTIONS, "FILE?rate=HZ")
    )
    options = _query(source, query, form)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        takes = "crop=, per_image=, seed=, hue=" if images else "rate="
        raise DataError(f"{source}: unknown option {unknown[0]!r}; this source takes ?{takes}")
    bounds = {"rate": (1, 10_000_000), "crop": (2, 4096), "per_image": (1, 1 << 20),
              "seed": (0, 2**32 - 1), "hue": (0, 1)}  # fmt: skip
    values: dict[str, int] = {}
    for key, text in options.items():
        low, high = bounds[key]
        try:
            values[key] = int(text)
        except ValueError:
            values[key] = low - 1
        if not low <= values[key] <= high:
            what = "a sample rate in Hz (an integer >= 1)" if key == "rate" else (
                f"an integer {low}..{high}, got {text!r}"
            )
            raise DataError(f"{source}: {key} must be {what}")
    if images and "crop" not in values:
        raise DataError(f"{source}: per_image=, seed= and hue= need crop=N (the crops' size)")
    if "rate" in values and Path(path).suffix.lower() == ".wav":
        raise DataError(f"{source}: a WAV file states its own rate; drop ?rate=")
    return path, values


def _crops_dataset(
    source: str,
    path: Path,
    options: dict[str, int],
    *,
    key: str | None,
    window: int | None,
    layout: str | None,
    limit: int | None,
) -> Dataset:
    """Random square crops of images of any size, as NCHW items; with two images or
    more, each crop's image is its group, so validation holds out whole images. Colour
    crops (3 channels, or 4 with alpha) train with a random hue per crop and epoch unless
    ``hue=0`` (:mod:`edgeae.data.colour`); validation sees the photos as they are."""
    if key is not None or window is not None or (layout not in (None, "NCHW")):
        raise DataError(f"{source}: crops are NCHW images; --key/--window/--layout do not apply")
    seed = options.get("seed", 0)
    crops = image_crops(path, options["crop"], options.get("per_image"), seed)
    n_images, channels = len(crops.names), int(crops.x.shape[1])
    colour = channels in (3, 4)
    hue = bool(options.get("hue", colour))
    if hue and not colour:
        raise DataError(
            f"{source}: hue=1 rotates the hues of colour images (3 channels, or 4 with alpha); "
            f"these have {channels}: drop hue="
        )
    ds = items_dataset(
        source,
        crops.x,
        options={"source": "png crops", **options},
        layout="NCHW",
        limit=limit,
        description=f"{len(crops.x)} crops {options['crop']}x{options['crop']} of "
        f"{n_images} image{'s' if n_images > 1 else ''}"
        + (", a random hue per crop and epoch (hue=0: off)" if hue else ""),
    )
    if hue:
        top = float(np.iinfo(crops.x.dtype).max) if crops.x.dtype.kind in "ui" else 1.0
        ds = dataclasses.replace(ds, augment=HueAugment(seed, (0.0, top)))
    image = crops.image[: len(ds)]
    if np.unique(image).size < 2:
        return ds
    return dataclasses.replace(ds, clips=image, clip_names=crops.names)


def source_path(source: str) -> Path | None:
    """The file or folder ``source`` reads (``sensorlog:log.csv`` -> ``log.csv``,
    ``ecg.npy?rate=125`` -> ``ecg.npy``); None for built-ins and mixed speech corpora, whose
    data is not one path."""
    if source.startswith((BUILTIN_PREFIX, MIX_PREFIX, PAIRS_PREFIX)):
        return None
    for prefix in (SENSORLOG_PREFIX, LOGMEL_PREFIX):
        if source.startswith(prefix):
            return Path(source[len(prefix) :].partition("?")[0])
    return Path(source.partition("?")[0])


def frames_itself(source: str) -> bool:
    """True for sources whose own options set the windows (``sensorlog:``, ``logmel:``): a
    model's window/hop must not be passed to them."""
    return source.startswith((SENSORLOG_PREFIX, LOGMEL_PREFIX))


def is_crop_source(source: str) -> bool:
    """True for ``IMAGES?crop=N[&...]``: random crops of a folder of images or of one image
    (what a photo codec trains on; its recipe follows from it). A malformed source is False
    here: loading it raises the error that names the option."""
    prefixes = (BUILTIN_PREFIX, MIX_PREFIX, PAIRS_PREFIX, SENSORLOG_PREFIX, LOGMEL_PREFIX)
    if source.startswith(prefixes):
        return False
    try:
        return "crop" in _file_options(source)[1]
    except DataError:
        return False


def load_source(
    source: str,
    *,
    key: str | None = None,
    window: int | None = None,
    hop: int | None = None,
    layout: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    sample_rate: int | None = None,
    features: Any = None,
) -> Dataset:
    """Load ``source`` (``builtin:NAME[?opts]``, a file, or a PNG folder) as a :class:`Dataset`.

    ``key`` picks an .npz array; ``window``/``hop`` frame signals; ``layout``
    (NF, NCW, NCHW) overrides the natural one; ``limit`` keeps the first items;
    ``seed`` drives generated built-ins; ``options`` adds built-in options
    (e.g. ``{"snr_db": 5}``), and options in the source string take precedence.
    ``sample_rate`` (a model's rate) resamples WAV signals and speech corpora to it
    on load (the runtime's polyphase filter); built-in generators ignore it.
    ``features`` (a model's manifest.features) and ``layout`` are the defaults of a
    ``logmel:`` source's options, so it cuts the items that model takes.
    Every bad input raises :class:`~edgeae.errors.DataError`.
    """
    if is_speech_source(source):
        if key is not None or options or limit is not None:
            raise DataError(f"{source}: --key, --limit and options do not apply to speech corpora")
        corpus = load_speech(source, sample_rate or BUNDLE_RATE, seed=seed)
        return corpus_dataset(
            corpus, window=window or DEFAULT_WINDOW, hop=hop, layout=layout,
            options={"source": source.split("?")[0] if source.startswith(BUILTIN_PREFIX)
                     else corpus.kind},
        )  # fmt: skip
    if source.startswith(SENSORLOG_PREFIX):
        if key is not None or window is not None or hop is not None or options:
            raise DataError(f"{source}: set window/hop/rate as sensorlog options (?window=64&...)")
        return load_sensorlog(source, limit=limit)
    if source.startswith(LOGMEL_PREFIX):
        if key is not None or window is not None or hop is not None or options:
            raise DataError(f"{source}: --key/--window/--hop do not apply; set logmel options")
        from .machine import model_defaults

        defaults = model_defaults(features, layout) if features is not None else {}
        if layout is not None:
            defaults["layout"] = layout
        return load_logmel(source, limit=limit, defaults=defaults)
    if source.startswith(BUILTIN_PREFIX):
        if key is not None:
            raise DataError(f"{source}: --key applies to .npz files, not built-in datasets")
        name, given = parse_builtin(source)
        merged = {**(options or {}), **given}
        return load_builtin(
            name, merged, seed=seed, window=window, hop=hop, layout=layout, limit=limit
        )
    if options:
        raise DataError(f"{source}: options ({', '.join(options)}) apply to built-in datasets")
    name, file_options = _file_options(source)
    path = Path(name)
    if "crop" in file_options:
        return _crops_dataset(source, path, file_options, key=key, window=window, layout=layout,
                              limit=limit)  # fmt: skip
    rate = file_options.get("rate")
    raw = read_file(path, key)
    if rate is not None:
        raw = dataclasses.replace(raw, sample_rate=rate)
    where = f"{source}[{key}]" if key else source
    base = {"source": path.suffix.lower() or "folder", "key": key}
    arr = raw.array
    if raw.is_signal and sample_rate and raw.sample_rate and raw.sample_rate != sample_rate:
        arr = read_audio(path, sample_rate)[0]
        raw = dataclasses.replace(raw, array=arr, sample_rate=int(sample_rate))
    framed = window is not None or rate is not None  # a 2-D array cut as a signal
    as_signal = raw.is_signal or arr.ndim == 1 or (arr.ndim == 2 and framed)
    if as_signal:
        if raw.labels is not None or raw.target is not None or raw.anomaly_labels is not None:
            raise DataError(f"{where}: 'labels'/'target' arrays apply to items, not to a signal")
        if path.suffix.lower() == ".csv" and arr.ndim == 2:
            signal = arr.T  # a CSV's rows are samples
        elif raw.is_signal:
            signal = arr
        else:  # an array: (channels, samples) or time-major (samples, channels)
            signal = whole_signal(arr, None, where)
        description = "signal" + (f" at {raw.sample_rate} Hz" if raw.sample_rate else "")
        return signal_dataset(
            where,
            signal,
            options=base,
            window=window,
            hop=hop,
            layout=layout,
            limit=limit,
            sample_rate=raw.sample_rate,
            description=description,
        )
    if rate is not None:
        raise DataError(
            f"{where}: ?rate= applies to a signal (a 1-D or 2-D array), not to items of "
            f"shape {arr.shape}"
        )
    if window is not None or hop is not None:
        raise DataError(
            f"{where}: items of shape {arr.shape} are already windows or images; "
            "--window/--hop apply to signals (1-D, or 2-D (channels, samples) arrays, WAV)"
        )
    return items_dataset(
        where,
        arr,
        options=base,
        layout=layout,
        limit=limit,
        labels=raw.labels if raw.anomaly_labels is None else raw.anomaly_labels,
        target=raw.target,
        description="images" if raw.raw_range else "items",
        labels_are_anomalies=raw.anomaly_labels is not None,
    )
