"""The runtime's PNG codec: every colour type and row filter, Pillow agreement, bad files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime.errors import InputError, OutputError
from edgeae_runtime.png import read_png, write_png


def _image(h: int, w: int, c: int, dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top + 1, (h, w, c)).astype(dtype)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_every_filter_round_trips(tmp_path: Path, channels: int, dtype: type) -> None:
    img = _image(9, 7, channels, dtype)
    path = tmp_path / "a.png"
    write_png(path, img, filters=(0, 1, 2, 3, 4))
    out = read_png(path)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, img)


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    c=st.integers(1, 4),
    filters=st.lists(st.integers(0, 4), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
    wide=st.booleans(),
)
def test_round_trip_law(
    tmp_path_factory: pytest.TempPathFactory,
    h: int,
    w: int,
    c: int,
    filters: list[int],
    seed: int,
    wide: bool,
) -> None:
    img = _image(h, w, c, np.uint16 if wide else np.uint8, seed)
    path = tmp_path_factory.mktemp("law") / "x.png"
    write_png(path, img, filters=filters)
    np.testing.assert_array_equal(read_png(path), img)


def test_two_dimensional_image_reads_back_with_one_channel(tmp_path: Path) -> None:
    img = _image(4, 5, 1)[..., 0]
    write_png(tmp_path / "g.png", img)
    assert read_png(tmp_path / "g.png").shape == (4, 5, 1)


def test_palette_png_expands_to_rgb(tmp_path: Path) -> None:
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 128, 255]], dtype=np.uint8)
    index = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    path = tmp_path / "p.png"
    write_png(path, index, palette=palette, filters=(4, 3))
    np.testing.assert_array_equal(read_png(path), palette[index])


def test_decoder_agrees_with_pillow(tmp_path: Path) -> None:
    image_mod = pytest.importorskip("PIL.Image")
    rgb = _image(13, 11, 3, seed=1)
    image_mod.fromarray(rgb).save(tmp_path / "rgb.png", optimize=True)
    np.testing.assert_array_equal(read_png(tmp_path / "rgb.png"), rgb)
    gray = _image(5, 6, 1, seed=2)[..., 0]
    image_mod.fromarray(gray).convert("P").save(tmp_path / "pal.png")
    expected = np.asarray(image_mod.open(tmp_path / "pal.png").convert("RGB"))
    np.testing.assert_array_equal(read_png(tmp_path / "pal.png"), expected)


def test_writer_refuses_what_png_cannot_hold_and_leaves_no_file(tmp_path: Path) -> None:
    for bad in (np.zeros((2, 2, 5), np.uint8), np.zeros((2, 2), np.float32)):
        with pytest.raises(InputError, match=r"out\.png: cannot write image"):
            write_png(tmp_path / "out.png", bad)
    with pytest.raises(InputError, match="palette image"):
        write_png(tmp_path / "out.png", np.zeros((2, 2, 3), np.uint8), palette=np.zeros((1, 3)))
    assert list(tmp_path.iterdir()) == []


def test_writer_into_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_png(tmp_path / "missing" / "a.png", np.zeros((2, 2), np.uint8))


def _corrupt_crc(blob: bytes) -> bytes:
    return blob[:30] + bytes([blob[30] ^ 0xFF]) + blob[31:]


def _bad_zlib(blob: bytes) -> bytes:
    payload = b"not zlib data"
    chunk = struct.pack(">I", len(payload)) + b"IDAT" + payload
    chunk += struct.pack(">I", zlib.crc32(b"IDAT" + payload))
    return blob[:33] + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda b: b"GIF89a" + b[6:], "not a PNG"),
        (_corrupt_crc, "CRC mismatch"),
        (lambda b: b[:40], "truncated"),
        (_bad_zlib, "corrupted PNG image data"),
        (lambda b: b[:8], "valid IHDR"),
    ],
    ids=["signature", "crc", "truncated", "zlib", "no-ihdr"],
)
def test_corrupted_png_is_an_input_error_naming_the_file(
    tmp_path: Path, mutate, fragment: str
) -> None:
    write_png(tmp_path / "ok.png", _image(8, 8, 1))
    (tmp_path / "bad.png").write_bytes(mutate((tmp_path / "ok.png").read_bytes()))
    with pytest.raises(InputError, match=fragment) as info:
        read_png(tmp_path / "bad.png")
    assert "bad.png" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"none\.png: no such file"):
        read_png(tmp_path / "none.png")


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_files_raise_only_input_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.png"
    write_png(path, _image(5, 4, 3, seed=7), filters=(0, 1, 2, 3, 4))
    blob = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    path.write_bytes(bytes(blob[:cut]))
    try:
        out = read_png(path)
    except InputError:
        return
    assert out.ndim == 3 and out.dtype in (np.uint8, np.uint16)
