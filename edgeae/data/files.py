"""Reading data files into raw arrays: .npy, .npz, .csv, .wav, images and folders of images.

PNG is read by the project's own reader (:mod:`edgeae_runtime.png`); JPEG, WebP, BMP
and TIFF through Pillow, the optional ``edgeae[images]`` extra (the runtime never
needs it).

Each reader returns a :class:`RawData` (the array as stored, plus what the file
says about it); :mod:`edgeae.data.sources` turns that into a :class:`Dataset`
(layout, windowing, limits, checks). Every failure is a :class:`DataError`
naming the file, and the key or field when there is one.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime.errors import InputError
from edgeae_runtime.npyfile import load_npy, load_npz_member, npz_names
from edgeae_runtime.png import drop_opaque_alpha

from .png import read_png
from .wav import read_wav

__all__ = [
    "EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "MAX_CROP_VALUES",
    "ImageCrops",
    "RawData",
    "image_crops",
    "is_image_path",
    "read_file",
    "read_image",
]

#: Image files a source reads: PNG with the project's reader, the rest through Pillow.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
EXTENSIONS = (".npy", ".npz", ".csv", ".wav", *IMAGE_EXTENSIONS)
# Optional arrays an .npz may carry next to the chosen one.
_COMPANIONS = ("labels", "target", "anomaly_labels")


@dataclass(frozen=True, eq=False)
class RawData:
    """An array as a file stores it: ``is_signal`` arrays are ``(channels, samples)``."""

    array: np.ndarray
    is_signal: bool = False
    sample_rate: int | None = None
    labels: np.ndarray | None = None
    target: np.ndarray | None = None
    anomaly_labels: np.ndarray | None = None  # per item: 0 normal, > 0 an anomaly kind
    raw_range: tuple[float, float] | None = None


def _npy(path: Path) -> RawData:
    """Memory-map a .npy file (no pickles; the header checked against the file size)."""
    try:
        arr = load_npy(path, mmap=True)
    except InputError as exc:
        raise DataError(str(exc)) from None
    return RawData(arr)


def _npz(path: Path, key: str | None) -> RawData:
    """Load one array of an .npz by ``key`` (plus ``labels``/``target`` arrays when present)."""
    try:
        keys = npz_names(path)
    except InputError as exc:
        raise DataError(str(exc)) from None
    if not keys:
        raise DataError(f"{path}: the .npz archive holds no arrays")
    data_keys = [k for k in keys if k not in _COMPANIONS] or keys
    if key is None:
        if len(data_keys) != 1:
            raise DataError(
                f"{path}: holds several arrays ({', '.join(keys)}); choose one with --key"
            )
        key = data_keys[0]
    if key not in keys:
        raise DataError(f"{path}: no array named {key!r}; the keys are: {', '.join(keys)}")
    try:
        arr = load_npz_member(path, key)
        extra = {k: load_npz_member(path, k) for k in _COMPANIONS if k in keys and k != key}
    except InputError as exc:
        raise DataError(str(exc)) from None
    labels, target = extra.get("labels"), extra.get("target")
    anomaly = extra.get("anomaly_labels")
    n = arr.shape[0] if arr.ndim else 0
    if anomaly is not None:
        if labels is not None:
            raise DataError(f"{path}: holds both 'labels' and 'anomaly_labels'; keep one")
        if (
            anomaly.shape != (n,)
            or not np.issubdtype(anomaly.dtype, np.integer)
            or (anomaly < 0).any()
        ):
            raise DataError(
                f"{path}: 'anomaly_labels' must be {n} non-negative integers "
                f"(0 = normal) for {key!r}, got shape {anomaly.shape} dtype {anomaly.dtype}"
            )
    if labels is not None and labels.shape != (n,):
        raise DataError(f"{path}: 'labels' has shape {labels.shape}, expected ({n},) for {key!r}")
    if target is not None and target.shape != arr.shape:
        raise DataError(
            f"{path}: 'target' has shape {target.shape}, expected {arr.shape} like {key!r}"
        )
    return RawData(arr, labels=labels, target=target, anomaly_labels=anomaly)


def _csv(path: Path) -> RawData:
    """Numeric CSV, one item per row; a first row that is not numeric is taken as a header."""
    try:
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read as text ({exc})") from None
    delimiter = "," if "," in first else ";" if ";" in first else None
    fields = first.strip().split(delimiter)
    try:
        [float(f) for f in fields if f.strip()]
        skip = 0
    except ValueError:
        skip = 1
    try:
        with warnings.catch_warnings():  # "input contained no data" is an error here
            warnings.simplefilter("ignore", UserWarning)
            arr = np.loadtxt(
                path, delimiter=delimiter, skiprows=skip, dtype=np.float64, ndmin=2,
                encoding="utf-8",
            )
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a numeric CSV ({str(exc)[:200]})") from None
    if arr.size == 0:
        raise DataError(f"{path}: the CSV holds no data rows")
    return RawData(arr)


def _wav(path: Path) -> RawData:
    """A WAV file is a signal ``(channels, samples)`` in [-1, 1]."""
    signal, rate = read_wav(path)
    return RawData(signal, is_signal=True, sample_rate=rate)


#: Pillow modes as the channels a PNG of that kind decodes to: grey 1, grey+alpha 2,
#: colour 3, colour+alpha 4 (CMYK and YCbCr are colour, converted to RGB).
_PIL_MODES = {"1": "L", "L": "L", "LA": "LA", "La": "LA", "RGB": "RGB", "YCbCr": "RGB",
              "CMYK": "RGB", "RGBA": "RGBA", "RGBa": "RGBA", "I;16": "I;16",
              "I;16B": "I;16", "I;16L": "I;16"}  # fmt: skip


def is_image_path(path: Path) -> bool:
    """True for a file named like an image a source reads (.png, .jpg, .webp, ...)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _read_pillow(path: Path) -> np.ndarray:
    """A JPEG/WebP/BMP/TIFF via Pillow as ``(height, width, channels)`` uint8 (uint16 for
    16-bit grey), with the channels a PNG of that kind would have; palette images expand
    to RGB (RGBA with transparency). Other modes (32-bit or float) are refused."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise DataError(
            f"{path}: reading {path.suffix} images needs Pillow: pip install 'edgeae[images]' "
            "(or convert the image to PNG)"
        ) from None
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode == "P":
                target = "RGBA" if "transparency" in im.info else "RGB"
            elif mode == "PA":
                target = "RGBA"
            else:
                target = _PIL_MODES.get(mode)
            if target is None:
                raise DataError(
                    f"{path}: Pillow reads it as mode {mode!r}, which has no 8/16-bit "
                    "grey or colour pixels; convert it to an 8-bit PNG or JPEG"
                )
            if target == "I;16":
                arr = np.asarray(im, dtype=np.uint16)
            else:
                arr = np.asarray(im if mode == target else im.convert(target), dtype=np.uint8)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable {path.suffix} image ({exc})") from None
    if arr.ndim == 2:
        arr = arr[:, :, np.newaxis]
    return np.ascontiguousarray(arr)


def read_image(path: Path) -> np.ndarray:
    """One image file as ``(height, width, channels)`` uint8/uint16: a PNG by the project's
    reader, another format (JPEG, WebP, BMP, TIFF) through Pillow."""
    if path.suffix.lower() == ".png":
        return read_png(path)
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise DataError(
            f"{path}: not an image file; expected one of {', '.join(IMAGE_EXTENSIONS)}"
        )
    return _read_pillow(path)


def _image(path: Path) -> np.ndarray:
    """One image file as ``(channels, height, width)``."""
    return np.moveaxis(read_image(path), -1, 0)


def _image_files(path: Path) -> list[Path]:
    """Every image file (:data:`IMAGE_EXTENSIONS`) directly in folder ``path``, sorted by
    name (``[path]`` for a file)."""
    if not path.is_dir():
        if not path.exists():
            raise DataError(f"{path}: no such file or folder")
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and is_image_path(p))
    if not files:
        raise DataError(
            f"{path}: the folder holds no .png images (nor {', '.join(IMAGE_EXTENSIONS[1:])})"
        )
    return files


def _source_images(files: list[Path]) -> Iterator[tuple[Path, np.ndarray]]:
    """Each file's image ``(C, H, W)``; after the first, an opaque alpha channel the first
    has not is dropped (an RGBA screenshot among RGB photos: nothing lost)."""
    first: np.ndarray | None = None
    for f in files:
        img = read_image(f)
        if first is not None:
            img = drop_opaque_alpha(img, first.shape[-1])
        first = img if first is None else first
        yield f, np.moveaxis(img, -1, 0)


def _image_folder(path: Path) -> RawData:
    """Every image directly in ``path`` (sorted by name), stacked as NCHW items."""
    files = _image_files(path)
    images = _source_images(files)
    first = next(images)[1]
    stack = np.empty((len(files), *first.shape), dtype=first.dtype)
    stack[0] = first
    for i, (f, img) in enumerate(images, start=1):
        if img.shape != first.shape or img.dtype != first.dtype:
            raise DataError(
                f"{f}: image is {img.shape[1]}x{img.shape[2]} with {img.shape[0]} channel(s) "
                f"({img.dtype}), but {files[0].name} is {first.shape[1]}x{first.shape[2]} with "
                f"{first.shape[0]} ({first.dtype}); all images in a folder must match, "
                f"or train on crops of images of any size: {path}?crop=64"
            )
        stack[i] = img
    top = float(np.iinfo(first.dtype).max)
    return RawData(stack, raw_range=(0.0, top))


#: Crops an image source may cut: at most this many values (1 GiB of float32).
MAX_CROP_VALUES = 1 << 28
#: Default crops per image: twice its area in crops, at most this many.
MAX_DEFAULT_CROPS = 256


@dataclass(frozen=True, eq=False)
class ImageCrops:
    """Square crops of images (PNG, JPEG, ...) of any size: ``x`` (N, C, crop, crop) as stored
    (uint8/uint16), the image each came from (``image``, an index into ``names``)."""

    x: np.ndarray
    image: np.ndarray
    names: tuple[str, ...]


def image_crops(path: Path, crop: int, per_image: int | None, seed: int) -> ImageCrops:
    """Random ``crop`` x ``crop`` crops of every image in ``path`` (a folder, or one file), of
    any sizes, seeded: ``per_image`` of each image, by default twice its area in crops (at
    most MAX_DEFAULT_CROPS). Every image must have the first one's channels and bit depth
    and be at least ``crop`` pixels high and wide; the error names the one that is not."""
    files = _image_files(path)
    rng = np.random.default_rng(seed)
    crops, image, first = [], [], None
    total = 0
    for i, (f, img) in enumerate(_source_images(files)):
        first = img if first is None else first
        c, h, w = img.shape
        if c != first.shape[0] or img.dtype != first.dtype:
            raise DataError(
                f"{f}: image has {c} channel(s) ({img.dtype}), but {files[0].name} has "
                f"{first.shape[0]} ({first.dtype}); all images of a source must match "
                "(grey 1, colour 3, with alpha 2/4): convert this one"
            )
        if h < crop or w < crop:
            raise DataError(f"{f}: image is {h}x{w}, smaller than the {crop}x{crop} crops")
        n = per_image or min(MAX_DEFAULT_CROPS, -(-2 * h * w // (crop * crop)))
        total += n * c * crop * crop
        if total > MAX_CROP_VALUES:
            raise DataError(
                f"{path}: {crop}x{crop} crops of these images exceed {MAX_CROP_VALUES} values; "
                "lower per_image="
            )
        ys = rng.integers(0, h - crop + 1, n)
        xs = rng.integers(0, w - crop + 1, n)
        crops.extend(img[:, y : y + crop, x : x + crop] for y, x in zip(ys, xs, strict=True))
        image.extend([i] * n)
    return ImageCrops(np.stack(crops), np.asarray(image, np.int64), tuple(f.name for f in files))


def read_file(path: Path, key: str | None = None) -> RawData:
    """Read ``path`` by its extension (or as a PNG folder); ``key`` selects an .npz array."""
    if path.is_dir():
        return _image_folder(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    ext = path.suffix.lower()
    if key is not None and ext != ".npz":
        raise DataError(f"{path}: --key applies to .npz archives only")
    if ext == ".npy":
        return _npy(path)
    if ext == ".npz":
        return _npz(path, key)
    if ext == ".csv":
        return _csv(path)
    if ext == ".wav":
        return _wav(path)
    if ext in IMAGE_EXTENSIONS:
        img = _image(path)[np.newaxis]
        return RawData(img, raw_range=(0.0, float(np.iinfo(img.dtype).max)))
    raise DataError(
        f"{path}: unknown data format {ext or '(no extension)'!r}; expected "
        f"{', '.join(EXTENSIONS)}, a folder of images, or builtin:NAME"
    )
