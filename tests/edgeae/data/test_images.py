"""Image sources in other formats than PNG: JPEG, WebP, BMP, TIFF through Pillow.

PNG stays read by the project's reader (tests/edgeae/data/test_png.py); the other
formats need the optional ``edgeae[images]`` extra (Pillow), so this file skips
without it, except the test of the error a user gets when Pillow is missing.
"""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pytest

from edgeae.data import load_source, write_png
from edgeae.data.files import read_image
from edgeae.errors import DataError


def _pixels(h: int, w: int, c: int, seed: int = 0) -> np.ndarray:
    """A smooth image (JPEG keeps it close), ``(h, w, c)`` uint8."""
    y, x = np.mgrid[0:h, 0:w]
    planes = [(100 + 60 * np.sin(x / 5 + k + seed) + 40 * np.cos(y / 7 - k)) for k in range(c)]
    return np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)


def _save(path: Path, pixels: np.ndarray, mode: str | None = None, **kw) -> None:
    pil = pytest.importorskip("PIL.Image")
    im = pil.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    if mode is not None:
        im = im.convert(mode)
    im.save(path, **kw)


def test_colour_jpeg_is_rgb_and_grey_jpeg_one_channel(tmp_path: Path) -> None:
    rgb = _pixels(24, 32, 3)
    _save(tmp_path / "c.jpg", rgb, quality=95)
    out = read_image(tmp_path / "c.jpg")
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb).mean() < 3  # JPEG at q95: close, not equal
    _save(tmp_path / "g.jpeg", _pixels(24, 32, 1), quality=95)
    assert read_image(tmp_path / "g.jpeg").shape == (24, 32, 1)
    ds = load_source(str(tmp_path / "c.jpg"))
    assert ds.layout == "NCHW" and ds.x.shape == (1, 3, 24, 32)


@pytest.mark.parametrize(("name", "kw"), [("a.bmp", {}), ("a.tif", {}), ("a.webp",
                                          {"lossless": True})])  # fmt: skip
def test_lossless_formats_read_exactly(tmp_path: Path, name: str, kw: dict) -> None:
    pil = pytest.importorskip("PIL.Image")
    if name.endswith(".webp") and "WEBP" not in pil.registered_extensions().values():
        pytest.skip("this Pillow has no WebP")
    rgb = _pixels(10, 12, 3)
    _save(tmp_path / name, rgb, **kw)
    np.testing.assert_array_equal(read_image(tmp_path / name), rgb)


def test_cmyk_and_palette_become_rgb_alpha_stays(tmp_path: Path) -> None:
    """CMYK (a colour JPEG from print) and palette images are colour: 3 channels; alpha is
    kept as a 4th channel, as the PNG reader keeps it."""
    rgb = _pixels(16, 16, 3)
    _save(tmp_path / "cmyk.jpg", rgb, mode="CMYK", quality=95)
    assert read_image(tmp_path / "cmyk.jpg").shape == (16, 16, 3)
    _save(tmp_path / "pal.bmp", rgb, mode="P")
    assert read_image(tmp_path / "pal.bmp").shape == (16, 16, 3)
    rgba = np.concatenate([rgb, np.full((16, 16, 1), 200, np.uint8)], -1)
    _save(tmp_path / "a.tif", rgba)
    np.testing.assert_array_equal(read_image(tmp_path / "a.tif"), rgba)


def test_a_folder_mixes_formats_and_crops_group_by_image(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", _pixels(40, 50, 3, seed=1))
    _save(tmp_path / "b.jpg", _pixels(33, 64, 3, seed=2), quality=90)
    _save(tmp_path / "c.webp", _pixels(48, 48, 3, seed=3), quality=90)
    (tmp_path / "notes.txt").write_text("not an image")
    ds = load_source(f"{tmp_path}?crop=16&per_image=4")
    assert ds.x.shape == (12, 3, 16, 16)
    assert ds.clip_names == ("a.png", "b.jpg", "c.webp")
    np.testing.assert_array_equal(np.asarray(ds.clips), np.repeat([0, 1, 2], 4))
    assert load_source(f"{tmp_path / 'b.jpg'}?crop=16&per_image=3").x.shape == (3, 3, 16, 16)
    # without crops the images must have one size: the error names the odd one
    with pytest.raises(DataError, match=r"b\.jpg: image is 33x64.*a\.png is 40x50"):
        load_source(str(tmp_path))


def test_grey_and_colour_in_one_source_name_the_file(tmp_path: Path) -> None:
    """No silent grey -> colour (or colour -> grey) conversion: the source refuses and
    names the image that differs from the first."""
    _save(tmp_path / "a.jpg", _pixels(20, 20, 3), quality=90)
    _save(tmp_path / "b.jpg", _pixels(20, 20, 1), quality=90)
    with pytest.raises(DataError, match=r"b\.jpg: image has 1 channel.*a\.jpg has 3"):
        load_source(f"{tmp_path}?crop=8")


def test_unreadable_and_unsupported_images_name_the_file(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(DataError, match=r"bad\.jpg: not a readable \.jpg image"):
        load_source(str(tmp_path / "bad.jpg"))
    pil = pytest.importorskip("PIL.Image")
    pil.fromarray(np.zeros((4, 4), np.float32)).save(tmp_path / "f.tif")
    with pytest.raises(DataError, match=r"f\.tif: Pillow reads it as mode 'F'"):
        read_image(tmp_path / "f.tif")


def test_missing_pillow_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")  # never opened
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(DataError, match=r"photo\.jpg: reading \.jpg images needs Pillow: "
                       r"pip install 'edgeae\[images\]'"):  # fmt: skip
        load_source(f"{tmp_path}?crop=2")


def test_an_opaque_alpha_among_rgb_is_dropped_a_real_one_refused(tmp_path: Path) -> None:
    """RGBA with alpha all 255 after an RGB first image loses nothing as RGB; a real alpha
    (or an RGBA first image, then RGB ones) is refused naming the file."""
    rgb = _pixels(20, 20, 3)
    rgba = np.concatenate([_pixels(20, 20, 3, seed=5), np.full((20, 20, 1), 255, np.uint8)], -1)
    write_png(tmp_path / "a.png", rgb)
    write_png(tmp_path / "b.png", rgba)
    ds = load_source(str(tmp_path))
    assert ds.x.shape == (2, 3, 20, 20)
    np.testing.assert_array_equal(ds.x[1], np.moveaxis(rgba[..., :3], -1, 0))
    assert load_source(f"{tmp_path}?crop=8&per_image=2").x.shape == (4, 3, 8, 8)
    rgba[3, 4, 3] = 0
    write_png(tmp_path / "b.png", rgba)
    with pytest.raises(DataError, match=r"b\.png: image has 4 channel.*a\.png has 3"):
        load_source(f"{tmp_path}?crop=8")


def test_sixteen_bit_and_one_bit_grey(tmp_path: Path) -> None:
    pil = pytest.importorskip("PIL.Image")
    deep = (np.arange(12 * 10, dtype=np.uint16).reshape(12, 10) * 500).astype(np.uint16)
    pil.fromarray(deep).save(tmp_path / "deep.tif")  # mode I;16
    out = read_image(tmp_path / "deep.tif")
    assert out.dtype == np.uint16 and out.shape == (12, 10, 1)
    np.testing.assert_array_equal(out[..., 0], deep)
    pil.fromarray(deep > 20000).save(tmp_path / "bits.bmp")  # mode 1
    bits = read_image(tmp_path / "bits.bmp")
    assert bits.dtype == np.uint8 and bits.shape == (12, 10, 1)
    assert set(np.unique(bits)) == {0, 255}
