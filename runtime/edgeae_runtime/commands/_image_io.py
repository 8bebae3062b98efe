"""Folders of PNG images for ``edgeae-rt compress`` / ``decompress`` (conv2d models).

Pixels and the model's raw units are related by one linear map: pixel 0 is the
low end of the *pixel range* and full scale (255, or 65535 for 16-bit files) its
high end. The range is ``--pixel-range LO HI`` when given, else the manifest's
``preprocessing.clip``, else its ``value_range``, else ``(0, 255)`` (raw units are
8-bit pixel values). Decoded images are clipped to the range and written as
8-bit PNGs. A folder output is built in a temporary folder next to the target
and renamed into place only when every image was written.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import numpy as np

from ..atomic import AtomicOutput
from ..errors import InputError, ParameterError
from ..manifest import Preprocessing
from ..png import drop_opaque_alpha, read_png, write_png

__all__ = [
    "PngFolderWriter",
    "image_names",
    "is_png_source",
    "not_png_hint",
    "pixel_range",
    "pixels_to_raw",
    "png_files",
    "raw_to_pixels",
    "read_png_batch",
    "read_png_image",
    "read_reference_pixels",
]


#: Output names that are files, never the folder an image stream decodes to.
FILE_SUFFIXES = frozenset(
    {".png", ".wav", ".raw", ".pcm", ".eae", ".npz", ".csv", ".onnx", ".json"}
)


def pixel_range(pre: Preprocessing, override: tuple[float, float] | None) -> tuple[float, float]:
    """The raw values that pixel 0 and full scale stand for (see the module docstring)."""
    if override is not None:
        low, high, where = float(override[0]), float(override[1]), "--pixel-range"
    elif pre.clip is not None:
        low, high, where = float(pre.clip[0]), float(pre.clip[1]), "the manifest's clip"
    elif pre.value_range is not None:
        low, high = float(pre.value_range[0]), float(pre.value_range[1])
        where = "the manifest's value_range"
    else:
        return 0.0, 255.0
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        if override is not None:
            raise ParameterError(
                f"{low:g}..{high:g} is empty or not finite; give LO < HI",
                param="range_override",
            )
        raise InputError(
            f"pixel range {low:g}..{high:g} from {where} is empty or not finite; "
            "pass --pixel-range LO HI with LO < HI"
        )
    return low, high


#: Image formats the runtime does not read (it reads PNG only: numpy + zlib, no Pillow).
OTHER_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")


#: The Pillow mode of a PNG with 1..4 channels (grey, grey+alpha, RGB, RGBA).
PIL_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def not_png_hint(path: str, channels: int | None = None) -> str:
    """For a JPEG/WebP/BMP/TIFF/GIF path, the sentence saying to convert it to PNG; else "".

    The suggested command converts to the model's channel count (``channels``; RGB when it
    is not known): a CMYK JPEG (from print) cannot be saved as PNG as it is, and a grey
    photo for a colour model (or the reverse) would be refused once converted."""
    suffix = Path(path).suffix.lower()
    if suffix not in OTHER_IMAGE_SUFFIXES:
        return ""
    mode = PIL_MODES.get(channels or 3, "RGB")
    return (
        f"; the runtime reads PNG images only, not {suffix}: convert it to PNG first "
        f"(e.g. python -c \"from PIL import Image; Image.open('{Path(path).name}')"
        f".convert('{mode}').save('{Path(path).stem}.png')\")"
    )


def is_png_source(path: str) -> bool:
    """True for a folder or a single ``.png`` file (the PNG inputs of ``compress``)."""
    return path != "-" and (os.path.isdir(path) or path.lower().endswith(".png"))


def png_files(path: str) -> list[Path]:
    """The ``.png`` files directly in folder ``path`` sorted by name (or ``[path]`` for a file)."""
    source = Path(path)
    if not source.is_dir():
        return [source]
    files = sorted(p for p in source.iterdir() if p.suffix.lower() == ".png" and p.is_file())
    if not files:
        raise InputError(f"{path}: the folder holds no .png images")
    return files


def pixels_to_raw(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """An ``(H, W, C)`` uint8/uint16 image -> ``(C, H, W)`` float32 raw units."""
    full = float(np.iinfo(image.dtype).max)
    scaled = np.moveaxis(image, -1, 0).astype(np.float32) / full
    return (low + scaled * (high - low)).astype(np.float32)


def raw_to_pixels(images: np.ndarray, low: float, high: float) -> np.ndarray:
    """Raw ``(N, C, H, W)`` -> 8-bit ``(N, H, W, C)``: clipped to the range, scaled, rounded."""
    unit = (np.clip(images, low, high) - low) / (high - low)
    return np.moveaxis(np.rint(unit * 255.0).astype(np.uint8), 1, -1)


def read_png_batch(
    files: list[Path], item_shape: tuple[int, ...], low: float, high: float
) -> np.ndarray:
    """PNG files -> one raw batch ``(N, C, H, W)``; a file of another size names itself."""
    channels, height, width = item_shape
    batch = np.empty((len(files), *item_shape), np.float32)
    for i, path in enumerate(files):
        image = drop_opaque_alpha(read_png(path), channels)
        h, w, c = image.shape
        if (h, w, c) != (height, width, channels):
            raise InputError(
                f"{path}: image is {h}x{w} pixels with {c} channel(s), but the model takes "
                f"{height}x{width} with {channels} channel(s) (height x width); a folder's "
                "images must all be the model's size: compress an image of another size on "
                "its own (it is coded whole, in tiles)"
            )
        batch[i] = pixels_to_raw(image, low, high)
    return batch


def read_png_image(path: str, channels: int, low: float, high: float) -> np.ndarray:
    """One PNG of any size -> raw ``(C, H, W)``; another channel count names the file (an
    opaque alpha channel is dropped: an RGBA screenshot codes as RGB)."""
    image = drop_opaque_alpha(read_png(path), channels)
    c = image.shape[2]
    if c != channels:
        alpha = " (its alpha channel is not opaque)" if c == channels + 1 else ""
        raise InputError(
            f"{path}: image has {c} channel(s){alpha}, but the model takes {channels}; "
            "convert it"
        )
    return pixels_to_raw(image, low, high)


def read_reference_pixels(path: str) -> np.ndarray:
    """PNG reference images as 8-bit ``(N, H, W, C)`` (16-bit files scaled down)."""
    images = []
    for file in png_files(path):
        image = read_png(file)
        if image.dtype == np.uint16:
            image = np.rint(image / 257.0).astype(np.uint8)
        images.append(image)
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        raise InputError(f"{path}: reference images differ in size ({sorted(shapes)})")
    return np.stack(images)


def image_names(count: int) -> list[str]:
    """Output names in frame order: ``image_00000.png`` ... (wider past 100,000 images)."""
    digits = max(5, len(str(max(count - 1, 0))))
    return [f"image_{i:0{digits}d}.png" for i in range(count)]


class PngFolderWriter:
    """Write PNGs into a temporary folder; on success it replaces ``path`` in one rename.

    An existing ``path`` is replaced only with ``force`` and only when it is a folder
    holding nothing but ``.png`` files (an earlier output), so ``--force`` never
    deletes unrelated files.
    """

    def __init__(self, path: str, *, force: bool) -> None:
        if path == "-":
            raise InputError("an image stream decodes to a folder of PNGs or a .npy, not stdout")
        self.target = Path(path)
        if self.target.suffix.lower() in FILE_SUFFIXES:  # out.wav must not become a folder
            raise InputError(
                f"{path}: an image stream decodes to a folder of PNGs or a .npy batch, "
                f"and {self.target.suffix} names a file; name a folder"
            )
        _check_replaceable(self.target, force)
        self._out = AtomicOutput(self.target, directory=True)
        self.tmp = self._out.temp
        self.names: list[str] = []

    def write_all(self, pixels: np.ndarray) -> None:
        """Write 8-bit images ``(N, H, W, C)`` as ``image_00000.png`` ... into the temp folder."""
        self.names = image_names(pixels.shape[0])
        for name, image in zip(self.names, pixels, strict=True):
            write_png(self.tmp / name, image)

    def __enter__(self) -> PngFolderWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._out.__exit__(exc_type, exc, tb)


def _check_replaceable(target: Path, force: bool) -> None:
    """Refuse to replace anything but (with ``force``) a folder of ``.png`` files."""
    if not target.exists():
        return
    if not force:
        raise InputError(f"{target}: already exists; pass --force to replace it")
    if not target.is_dir():
        raise InputError(f"{target}: is a file; an image stream decodes to a folder")
    other = next((p for p in target.iterdir() if p.suffix.lower() != ".png"), None)
    if other is not None:
        raise InputError(
            f"{target}: holds {other.name}, which is not a .png; --force only replaces a "
            "folder of PNGs, remove it yourself or choose another folder"
        )
