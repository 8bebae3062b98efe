"""Bad models, bad data in every reader, bad streams: only package errors, through the API.

The same garbage as the CLI table, at the Python API a device program uses:
``Model``, the signal readers (WAV, .npy, raw PCM on stdin), the PNG reader, the
host's data reader (npy, npz, csv, wav, png) and the stream decoder.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae_runtime import Model
from edgeae_runtime.audio import open_reader
from edgeae_runtime.cli import main as rt_main
from edgeae_runtime.codec import StreamDecoder
from edgeae_runtime.errors import EdgeAEError, InputError, StreamError
from edgeae_runtime.png import read_png
from tests.adversarial.garbage import LIES

BAD_MODEL_NAMES = (
    "random", "truncated", "empty", "text", "foreign_onnx", *(f"lie_{name}" for name in LIES)
)


@pytest.mark.parametrize("name", BAD_MODEL_NAMES)
def test_bad_model_is_a_package_error(models: dict, name: str) -> None:
    with pytest.raises(EdgeAEError) as info:
        Model(models[name])
    assert models[name].name in str(info.value) or "manifest" in str(info.value)


SIGNAL_FILES = (
    "empty.wav", "random.wav", "wav_fmt_4g.wav", "wav_list_4g.wav", "wav_no_fmt.wav",
    "wav_zero_channels.wav", "empty.npy", "random.npy", "npy_token_error.npy",
    "npy_huge_shape.npy", "npy_truncated.npy", "npy_strings.npy", "a_folder.wav",
)


@pytest.mark.parametrize("name", SIGNAL_FILES)
def test_signal_readers_refuse_bad_files(data: dict, name: str) -> None:
    with pytest.raises(InputError), open_reader(data[name]) as reader:
        reader.read_all()


@pytest.mark.parametrize(
    "name",
    ["npz_garbage.npz", "csv_text.csv", "csv_empty.csv", "png_garbage.png", "png_bomb.png",
     "npy_token_error.npy", "npy_huge_shape.npy", "empty.npy", "wav_fmt_4g.wav"],
)
def test_host_data_reader_refuses_bad_files(data: dict, name: str) -> None:
    from edgeae.data.files import read_file
    from edgeae.errors import DataError

    with pytest.raises(DataError):
        read_file(data[name])


@pytest.mark.parametrize("name", ["png_garbage.png", "png_bomb.png", "empty.wav"])
def test_png_reader_refuses_bad_files(data: dict, name: str) -> None:
    with pytest.raises(InputError):
        read_png(data[name])


@pytest.mark.parametrize(
    ("blob", "fmt", "channels"),
    [(b"\x01\x02\x03", "s16le", 1), (b"\x00" * 7, "f32le", 1), (b"\x00" * 12, "f32le", 2)],
)
def test_raw_pcm_on_stdin_with_stray_bytes(blob: bytes, fmt: str, channels: int) -> None:
    stdin = io.BytesIO(blob)
    with (
        pytest.raises(InputError, match="stray bytes"),
        open_reader("-", stdin=stdin, pcm_format=fmt, sample_rate=16000, channels=channels) as r,
    ):
        r.read_all()


def test_raw_pcm_on_stdin_through_the_cli(good: dict, tmp_path: Path) -> None:
    out = tmp_path / "o.wav"
    result = CliRunner().invoke(
        rt_main, ["denoise", "-m", str(good["model"]), "-", "-o", str(out)], input=b"\x01\x02\x03"
    )
    assert result.exit_code == 3, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["truncated", "header_only", "bit_flip", "doubled", "many_gaps"])
def test_bad_streams_strict_and_concealing(good: dict, streams: dict, name: str) -> None:
    blob = streams[name].read_bytes()
    strict = StreamDecoder(Model(good["decoder"]))
    with pytest.raises(StreamError):
        strict.push(blob)
        strict.flush()
    tolerant = StreamDecoder(Model(good["decoder"]), conceal=True)
    try:
        y = np.concatenate([tolerant.push(blob), tolerant.flush()], axis=1)
    except StreamError:
        assert name in ("header_only", "many_gaps", "doubled")  # nothing to conceal from
    else:
        assert np.isfinite(y).all()
