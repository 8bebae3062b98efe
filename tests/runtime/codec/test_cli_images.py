"""``edgeae-rt compress`` / ``decompress`` with folders of PNGs, and ``--force``.

The model is a lossless conv2d pair (space-to-depth Conv, depth-to-space
ConvTranspose) with a digits-like manifest (raw units 0..16, minmax
normalization), so the round trip loses only the 8-bit codes and 8-bit pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgeae_runtime.cli import main
from edgeae_runtime.manifest import Preprocessing
from edgeae_runtime.png import read_png, write_png

from .models import DIGITS_LIKE, PIXEL_SHAPE, make_pixel_pair

SHAPE = PIXEL_SHAPE

@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_pixel_pair(tmp_path_factory.mktemp("pixels"), DIGITS_LIKE)


def _pixels(seed: int, shape: tuple[int, int, int] = (6, 8, 3)) -> np.ndarray:
    """A smooth image plus noise, 8-bit (H, W, C) in 40..220 (codes then lose a little)."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    ramp = np.add.outer(np.arange(h) * 20, np.arange(w) * 12)[..., None] + 60 * np.arange(c)
    return np.clip(ramp + rng.integers(-30, 30, (h, w, c)), 40, 220).astype(np.uint8)


def _folder(tmp_path: Path, names: list[str]) -> tuple[Path, dict[str, np.ndarray]]:
    folder = tmp_path / "in"
    folder.mkdir()
    images = {}
    for i, name in enumerate(names):
        images[name] = _pixels(i)
        write_png(folder / name, images[name], filters=(i % 5,))
    (folder / "notes.txt").write_text("not an image")
    return folder, images


def _args(*args: object) -> list[str]:
    return [str(a) for a in args]


def test_folder_round_trip_in_name_order(runner, pair, tmp_path: Path) -> None:
    enc, dec = pair
    folder, images = _folder(tmp_path, ["b.png", "a.png", "c.PNG", "a10.png"])
    stream = tmp_path / "x.eae"
    r = runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream, "--json"))
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["files"] == ["a.png", "a10.png", "b.png", "c.PNG"]
    assert summary["images"] == 4 and summary["bytes"] == stream.stat().st_size
    out = tmp_path / "out"
    r = runner.invoke(
        main, _args("decompress", "-m", dec, stream, "-o", out, "--reference", folder, "--json")
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["pixel_range"] == [0.0, 16.0] and summary["concealed_images"] == []
    # 8-bit per-image codes are finer than the pixels (each image spans < 255 levels) and
    # the model is lossless, so every pixel comes back exactly.
    assert summary["psnr_db"] == float("inf")
    written = sorted(p.name for p in out.iterdir())
    assert written == [f"image_{i:05d}.png" for i in range(4)]
    for i, name in enumerate(["a.png", "a10.png", "b.png", "c.PNG"]):
        back = read_png(out / f"image_{i:05d}.png")
        assert back.dtype == np.uint8
        np.testing.assert_array_equal(back, images[name])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_without_json_one_line_for_a_person(runner, pair, tmp_path: Path) -> None:
    """Text mode says on stderr what was written, its bytes and the quality asked for."""
    enc, dec = pair
    folder, _ = _folder(tmp_path, ["a.png", "b.png"])
    stream, out = tmp_path / "x.eae", tmp_path / "out"
    r = runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream))
    size = stream.stat().st_size
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr == f"{folder} -> {stream}: 2 images, {size} bytes ({size / 2:.1f} per image)\n"
    args = _args("decompress", "-m", dec, stream, "-o", out, "--reference", folder)
    r = runner.invoke(main, args)
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr.endswith("; PSNR inf dB against the reference\n")


def test_four_bit_codes_psnr_band(runner, pair, tmp_path: Path) -> None:
    enc, dec = pair
    folder, _ = _folder(tmp_path, [f"{i}.png" for i in range(6)])
    stream, out = tmp_path / "x.eae", tmp_path / "out"
    r = runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream, "--bits", "4"))
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        main, _args("decompress", "-m", dec, stream, "-o", out, "--reference", folder, "--json")
    )
    assert r.exit_code == 0, r.output
    # 16 levels over a ~180-level span: a step of ~12 pixel levels, ~37 dB when uniform.
    assert 30.0 < json.loads(r.output)["psnr_db"] < 45.0


def test_sixteen_bit_png_maps_full_scale_like_eight_bit(runner, pair, tmp_path: Path) -> None:
    enc, _ = pair
    img = _pixels(3)
    write_png(tmp_path / "8.png", img)
    write_png(tmp_path / "16.png", img.astype(np.uint16) * 257)
    for name in ("8", "16"):
        r = runner.invoke(
            main,
            _args("compress", "-m", enc, tmp_path / f"{name}.png", "-o", tmp_path / f"{name}.eae"),
        )
        assert r.exit_code == 0, r.output
    assert (tmp_path / "8.eae").read_bytes() == (tmp_path / "16.eae").read_bytes()


def test_pixel_range_defaults_and_override(runner, tmp_path: Path) -> None:
    enc, dec = make_pixel_pair(tmp_path, Preprocessing())  # no range: raw = 8-bit pixels
    folder, images = _folder(tmp_path, ["a.png"])
    stream, out = tmp_path / "x.eae", tmp_path / "out"
    assert runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream)).exit_code == 0
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", out, "--json"))
    assert r.exit_code == 0 and json.loads(r.output)["pixel_range"] == [0.0, 255.0]
    assert np.abs(read_png(out / "image_00000.png").astype(int) - images["a.png"]).max() <= 2
    # Decoding with a range twice as wide halves every pixel (the map is linear).
    r = runner.invoke(
        main, _args("decompress", "-m", dec, stream, "-o", out, "--force", "--pixel-range", 0, 510)
    )
    assert r.exit_code == 0, r.output
    halved = read_png(out / "image_00000.png").astype(int)
    assert np.abs(halved - images["a.png"] / 2).max() <= 2
    y = tmp_path / "y.eae"
    r = runner.invoke(main, _args("compress", "-m", enc, folder, "-o", y, "--pixel-range", 5, 5))
    assert r.exit_code == 2 and "--pixel-range: 5..5" in r.output


@pytest.mark.parametrize(
    ("shape", "fragment"),
    [((5, 8, 3), "5x8 pixels with 3 channel"), ((6, 8, 1), "6x8 pixels with 1 channel")],
    ids=["size", "channels"],
)
def test_wrong_png_is_named_and_nothing_is_written(
    runner, pair, tmp_path: Path, shape: tuple[int, int, int], fragment: str
) -> None:
    enc, _ = pair
    folder, _ = _folder(tmp_path, ["a.png", "c.png"])
    write_png(folder / "b.png", _pixels(9, shape))
    stream = tmp_path / "x.eae"
    r = runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream))
    assert r.exit_code == 3
    assert r.output.count("\n") == 1
    assert "b.png" in r.output and fragment in r.output and "6x8 with 3 channel" in r.output
    assert not stream.exists() and not list(tmp_path.glob(".x.eae*"))


def test_empty_folder_and_bad_outputs(runner, pair, tmp_path: Path) -> None:
    enc, dec = pair
    (tmp_path / "empty").mkdir()
    r = runner.invoke(
        main, _args("compress", "-m", enc, tmp_path / "empty", "-o", tmp_path / "x.eae")
    )
    assert r.exit_code == 3 and "no .png images" in r.output
    folder, _ = _folder(tmp_path, ["a.png"])
    stream = tmp_path / "x.eae"
    assert runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream)).exit_code == 0
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", "-"))
    assert r.exit_code == 3 and "not stdout" in r.output
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", tmp_path / "one.png"))
    assert r.exit_code == 3 and "name a folder" in r.output


def test_npy_output_still_works(runner, pair, tmp_path: Path) -> None:
    enc, dec = pair
    folder, images = _folder(tmp_path, ["a.png", "b.png"])
    stream, out = tmp_path / "x.eae", tmp_path / "y.npy"
    assert runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream)).exit_code == 0
    assert runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", out)).exit_code == 0
    raw = np.load(out)
    assert raw.shape == (2, *SHAPE)
    expected = np.moveaxis(images["a.png"], -1, 0) / 255.0 * 16.0
    assert np.abs(raw[0] - expected).max() < 0.15


def test_force_for_files(runner, pair, tmp_path: Path) -> None:
    enc, dec = pair
    folder, _ = _folder(tmp_path, ["a.png"])
    stream = tmp_path / "x.eae"
    stream.write_bytes(b"keep me")
    r = runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream))
    assert r.exit_code == 2 and r.output.count("\n") == 1
    assert "already exists; use --force" in r.output and stream.read_bytes() == b"keep me"
    assert (
        runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream, "--force")).exit_code
        == 0
    )
    assert stream.read_bytes()[:4] == b"EAEC"
    npy = tmp_path / "y.npy"
    npy.write_bytes(b"old")
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", npy))
    assert r.exit_code == 2 and "--force" in r.output and npy.read_bytes() == b"old"
    assert (
        runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", npy, "--force")).exit_code
        == 0
    )
    assert np.load(npy).shape == (1, *SHAPE)


def test_force_for_folders_replaces_only_png_folders(runner, pair, tmp_path: Path) -> None:
    enc, dec = pair
    folder, _ = _folder(tmp_path, ["a.png", "b.png"])
    stream = tmp_path / "x.eae"
    assert runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream)).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    write_png(out / "stale.png", _pixels(0))
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", out))
    assert r.exit_code == 2 and "already exists; use --force" in r.output
    assert [p.name for p in out.iterdir()] == ["stale.png"]
    assert (
        runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", out, "--force")).exit_code
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["image_00000.png", "image_00001.png"]
    (out / "keep.txt").write_text("mine")
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", out, "--force"))
    assert r.exit_code == 3 and "keep.txt" in r.output and (out / "keep.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_corrupted_stream_leaves_no_folder_and_conceal_writes_one(
    runner, pair, tmp_path: Path
) -> None:
    enc, dec = pair
    folder, _ = _folder(tmp_path, ["a.png", "b.png", "c.png"])
    stream = tmp_path / "x.eae"
    r = runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream, "--no-entropy"))
    assert r.exit_code == 0, r.output
    data = bytearray(stream.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.eae"
    bad.write_bytes(bytes(data))
    out = tmp_path / "out"
    r = runner.invoke(main, _args("decompress", "-m", dec, bad, "-o", out))
    assert r.exit_code == 3 and "CRC32 mismatch" in r.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    r = runner.invoke(main, _args("decompress", "-m", dec, bad, "-o", out, "--conceal", "--json"))
    assert r.exit_code == 0, r.output
    lost = json.loads(r.output)["concealed_images"]
    assert len(lost) == 1 and len(list(out.iterdir())) == 3
    assert not read_png(out / f"image_{lost[0]:05d}.png").any()  # zeros -> the range's low end


@pytest.mark.parametrize("name", ["out.wav", "out.raw", "out.eae"])
def test_cause23_an_image_stream_to_a_file_name_is_refused(
    runner, pair, tmp_path: Path, name: str
) -> None:
    enc, dec = pair
    folder, _ = _folder(tmp_path, ["a.png"])
    stream = tmp_path / "x.eae"
    assert runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream)).exit_code == 0
    out = tmp_path / name
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", out))
    assert r.exit_code == 3 and "names a file; name a folder" in r.output
    assert not out.exists()


def test_one_png_of_any_size_round_trips_whole(runner, pair, tmp_path: Path) -> None:
    enc, dec = pair
    image = np.random.default_rng(7).integers(0, 17, (13, 21, 3)).astype(np.uint8) * 15
    write_png(tmp_path / "photo.png", image)
    stream, out = tmp_path / "photo.eae", tmp_path / "back.png"
    args = ("compress", "-m", enc, tmp_path / "photo.png", "-o", stream, "--json")
    r = runner.invoke(main, _args(*args))
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["image"] == [13, 21] and summary["tiles"] == 3 * 3
    assert summary["bits_per_pixel"] == pytest.approx(8 * stream.stat().st_size / (13 * 21))
    assert stream.read_bytes()[4] == 6
    args = ("decompress", "-m", dec, stream, "-o", out, "--reference", tmp_path / "photo.png")
    r = runner.invoke(main, _args(*args))
    assert r.exit_code == 0, r.output
    assert "one 13x21 image" in r.output and "bits per pixel" in r.output
    np.testing.assert_array_equal(read_png(out), image)  # lossless pair, 8-bit codes


def test_a_whole_image_decodes_to_one_file_only(runner, pair, tmp_path: Path) -> None:
    enc, dec = pair
    image = np.random.default_rng(8).random((3, 9, 17)).astype(np.float32) * 16
    np.save(tmp_path / "image.npy", image)
    stream = tmp_path / "x.eae"
    r = runner.invoke(main, _args("compress", "-m", enc, tmp_path / "image.npy", "-o", stream))
    assert r.exit_code == 0, r.output
    for name in ("folder", "out.wav"):
        r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", tmp_path / name))
        assert r.exit_code == 3 and "decodes to one .png or a .npy (C, H, W)" in r.output
        assert not (tmp_path / name).exists()
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", tmp_path / "o.npy"))
    assert r.exit_code == 0, r.output
    np.testing.assert_allclose(np.load(tmp_path / "o.npy"), image, atol=16 / 255)


def test_a_folder_of_other_sizes_is_still_refused(runner, pair, tmp_path: Path) -> None:
    enc, _ = pair
    folder = tmp_path / "photos"
    folder.mkdir()
    write_png(folder / "a.png", np.zeros((12, 12, 3), np.uint8))
    r = runner.invoke(main, _args("compress", "-m", enc, folder, "-o", tmp_path / "x.eae"))
    assert r.exit_code != 0 and "a.png: image is 12x12" in r.output
    assert "compress an image of another size on its own" in r.output
    assert not (tmp_path / "x.eae").exists()


def test_a_model_with_spatial_axes_codes_a_photo_as_one_latent_map(
    runner, tmp_path: Path
) -> None:
    enc, dec = make_pixel_pair(tmp_path, DIGITS_LIKE, any_size=True)
    image = np.random.default_rng(9).integers(0, 17, (31, 45, 3)).astype(np.uint8) * 15
    write_png(tmp_path / "photo.png", image)
    stream, out = tmp_path / "photo.eae", tmp_path / "back.png"
    r = runner.invoke(main, _args("compress", "-m", enc, tmp_path / "photo.png", "-o", stream))
    assert r.exit_code == 0, r.output
    from edgeae_runtime.codec.format import parse_header

    assert parse_header(stream.read_bytes())[0].latent_map
    r = runner.invoke(main, _args("decompress", "-m", dec, stream, "-o", out))
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(read_png(out), image)


def test_a_jpeg_input_or_reference_says_convert_it_to_png(runner, pair, tmp_path: Path) -> None:
    """The runtime reads PNG only (no Pillow on the device): a .jpg is refused with the
    conversion to run, never read as something else."""
    enc, dec = pair
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    stream = tmp_path / "x.eae"
    r = runner.invoke(main, _args("compress", "-m", enc, tmp_path / "photo.jpg", "-o", stream))
    assert r.exit_code == 3 and r.output.count("\n") == 1
    assert "photo.jpg" in r.output and "reads PNG images only, not .jpg" in r.output
    assert "convert it to PNG" in r.output and not stream.exists()
    folder, _ = _folder(tmp_path, ["a.png"])
    assert runner.invoke(main, _args("compress", "-m", enc, folder, "-o", stream)).exit_code == 0
    r = runner.invoke(
        main,
        _args("decompress", "-m", dec, stream, "-o", tmp_path / "out",
              "--reference", tmp_path / "photo.jpg"),
    )  # fmt: skip
    assert r.exit_code == 3 and "convert it to PNG" in r.output


def test_the_suggested_conversion_works_on_a_cmyk_jpeg(runner, pair, tmp_path: Path) -> None:
    """The command the refusal suggests, run as printed, turns a CMYK JPEG (from print:
    Pillow cannot save it as PNG as it is) into a PNG of the model's channels, and that
    PNG then compresses."""
    image_mod = pytest.importorskip("PIL.Image")
    import re
    import subprocess
    import sys

    enc, _ = pair
    rgb = np.asarray(_pixels(3, (SHAPE[1], SHAPE[2], 3)))
    image_mod.fromarray(rgb).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    r = runner.invoke(main, _args("compress", "-m", enc, tmp_path / "print.jpg", "-o",
                                  tmp_path / "x.eae"))  # fmt: skip
    assert r.exit_code == 3
    command = re.search(r'python -c "(.+?)"\)', r.output).group(1)
    assert ".convert('RGB')" in command  # the model is RGB (SHAPE)
    subprocess.run([sys.executable, "-c", command], cwd=tmp_path, check=True)
    assert read_png(tmp_path / "print.png").shape == (SHAPE[1], SHAPE[2], 3)
    r = runner.invoke(main, _args("compress", "-m", enc, tmp_path / "print.png", "-o",
                                  tmp_path / "x.eae"))  # fmt: skip
    assert r.exit_code == 0, r.output
    # a grey model is told to convert to grey ("L"), an RGBA one to RGBA
    from edgeae_runtime.commands._image_io import not_png_hint

    assert ".convert('L')" in not_png_hint("scan.jpg", 1)
    assert ".convert('RGBA')" in not_png_hint("logo.gif", 4)
    assert not_png_hint("photo.png", 3) == ""


def test_an_opaque_alpha_channel_is_dropped_a_real_one_refused(
    runner, pair, tmp_path: Path
) -> None:
    """An RGBA PNG whose alpha is all 255 (a screenshot, CompressAI's stmalo test photo) is
    an RGB image: compressed and used as --reference as one; a real alpha names itself."""
    enc, dec = pair
    rgb = np.random.default_rng(9).integers(0, 17, (13, 21, 3)).astype(np.uint8) * 15
    rgba = np.concatenate([rgb, np.full((13, 21, 1), 255, np.uint8)], axis=-1)
    write_png(tmp_path / "photo.png", rgba)
    stream, out = tmp_path / "photo.eae", tmp_path / "back.png"
    r = runner.invoke(main, _args("compress", "-m", enc, tmp_path / "photo.png", "-o", stream))
    assert r.exit_code == 0, r.output
    args = ("decompress", "-m", dec, stream, "-o", out, "--reference", tmp_path / "photo.png")
    r = runner.invoke(main, _args(*args, "--json"))
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["psnr_db"] == float("inf")
    np.testing.assert_array_equal(read_png(out), rgb)
    rgba[0, 0, 3] = 254
    write_png(tmp_path / "alpha.png", rgba)
    r = runner.invoke(main, _args("compress", "-m", enc, tmp_path / "alpha.png", "-o", stream,
                                  "--force"))  # fmt: skip
    assert r.exit_code == 3 and "alpha.png: image has 4 channel(s) (its alpha" in r.output
