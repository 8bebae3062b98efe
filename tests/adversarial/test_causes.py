"""Issue 10's causes at library level, one regression test each (named after the cause).

The CLI option causes (5-8, 15, 16, 18, 23) and the exit-code mapping live with the
command lines' tests; the command-line side of these causes is also in
``test_cli_table.py``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgeae_runtime import Manifest, Model, Preprocessing, SignalSpec
from edgeae_runtime.codec import StreamDecoder
from edgeae_runtime.codec import decoder as decoder_module
from edgeae_runtime.codec.parser import LOST_PER_FRAME, MAX_GAP
from edgeae_runtime.errors import (
    EdgeAEError,
    InputError,
    ManifestError,
    OutputError,
    ParameterError,
    StreamError,
)
from edgeae_runtime.manifest import LIMITS
from edgeae_runtime.npyfile import load_npy
from edgeae_runtime.pcm import read_wav_header
from tests.adversarial.fuzz import good_manifest
from tests.adversarial.garbage import with_manifest_text

RT = [sys.executable, "-c", "from edgeae_runtime.cli import main; main()"]


def _manifest_dict(path: Path) -> dict:
    model = onnx.load(str(path))
    return json.loads(next(p.value for p in model.metadata_props if p.key == "edgeae.manifest"))


def _lie(good: Path, tmp: Path, text: str) -> Path:
    return with_manifest_text(good, tmp / "lie.onnx", text)


# -- cause 1 ----------------------------------------------------------------------------------
def test_cause01_conceal_total_bounded(good: dict, streams: dict) -> None:
    dec = StreamDecoder(Model(good["decoder"]), conceal=True)
    with pytest.raises(StreamError, match="frames lost in all"):
        dec.push(streams["many_gaps"].read_bytes())
        dec.flush()


def test_cause01_gaps_decoded_incrementally(good: dict, monkeypatch) -> None:
    """One allowed gap of MAX_GAP frames is decoded in blocks, never as one batch."""
    from edgeae_runtime.codec.format import pack_end, pack_frame, parse_header
    from edgeae_runtime.codec.parser import StreamParser

    blob = good["stream"].read_bytes()
    _, pos = parse_header(blob)
    frame = next(e for e in StreamParser().feed(blob) if type(e).__name__ == "Frame")
    gap = MAX_GAP // 4
    stream = (
        blob[:pos]
        + pack_frame(0, frame.samples, frame.payload, flags=frame.flags)
        + pack_frame(gap, frame.samples, frame.payload, flags=frame.flags)
        + pack_end(gap + 1, (gap + 1) * frame.samples)
    )
    model = Model(good["decoder"])
    batches: list[int] = []
    real = model.decode

    def counting(z, **kw):
        batches.append(len(z))
        return real(z, **kw)

    monkeypatch.setattr(model, "decode", counting)
    dec = StreamDecoder(model, conceal=True)
    out = np.concatenate([dec.push(stream), dec.flush()], axis=1)
    assert dec.concealed == gap - 1
    assert out.shape[1] == (gap + 1) * frame.samples
    assert max(batches) <= decoder_module.DECODE_BLOCK
    assert gap <= LOST_PER_FRAME * 2 + MAX_GAP  # within the stream's concealment budget


# -- cause 2 ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("signal.window", 2**31, "manifest.signal.window"),
        ("signal.sample_rate", 10**12, "manifest.signal.sample_rate"),
        ("signal.channels", 10**6, "manifest.signal.channels"),
        ("item_shape", [1, 2**30], "manifest.item_shape"),
        ("item_shape", [4096, 4096, 4096], "manifest.item_shape"),
        ("latent_shape", [2**21], "manifest.latent_shape"),
        ("inputs.0.shape", [None, 1, 2**40], "manifest.inputs"),
        ("codec.scale", [1.0] * 70_000, "manifest.codec.scale"),
        ("arch_config", {"big": 10**20}, "manifest.arch_config.big"),
    ],
)
def test_cause02_every_manifest_size_field_bounded(path: str, value, field: str) -> None:
    d = good_manifest().to_dict()
    node, keys = d, path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    node[int(keys[-1]) if isinstance(node, list) else keys[-1]] = value
    with pytest.raises(ManifestError, match=field.replace(".", r"\.")):
        Manifest.from_dict(d)


def test_cause02_manifest_text_size_bounded() -> None:
    text = good_manifest().to_json()
    with pytest.raises(ManifestError, match="more than"):
        Manifest.from_json(text[:-1] + ',"arch":"' + "x" * LIMITS["json_bytes"] + '"}')


# -- cause 3 ----------------------------------------------------------------------------------
def test_cause03_item_shape_checked_against_graph(good: dict, models: dict, tmp_path) -> None:
    d = _manifest_dict(good["model"])  # a consistent manifest, for another graph
    d["item_shape"] = [1, 64]
    d["inputs"][0]["shape"] = [None, 1, 64]
    d["outputs"][0]["shape"] = [None, 1, 64]
    d["signal"]["window"] = 64
    lie = _lie(good["model"], tmp_path, json.dumps(d))
    with pytest.raises(ManifestError, match=r"manifest\.item_shape is \[1, 64\].*'input' takes"):
        Model(lie)
    from edgeae_export.onnx_io import load_onnx, read_manifest

    with pytest.raises(ManifestError, match=r"manifest\.item_shape is \[1, 64\]"):
        read_manifest(load_onnx(lie))  # the exporter's commands check the same way
    with pytest.raises(ManifestError, match=r"manifest\.item_shape"):
        Model(models["lie_item_shape_vs_graph"])
    with pytest.raises(ManifestError, match=r"manifest\.latent_shape"):
        Model(models["lie_latent_shape_vs_graph"])


# -- cause 4 ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pre", "field"),
    [
        (Preprocessing(scale=(math.nan,)), r"preprocessing\.scale"),
        (Preprocessing(scale=(0.0,)), r"preprocessing\.scale"),
        (Preprocessing(scale=(1e-300,)), r"preprocessing\.scale"),
        (Preprocessing(offset=(math.inf,)), r"preprocessing\.offset"),
        (Preprocessing(clip=(1.0, math.nan)), r"preprocessing\.clip"),
    ],
)
def test_cause04_preprocessing_finite_nonzero(pre: Preprocessing, field: str) -> None:
    with pytest.raises(ManifestError, match=field):
        good_manifest(preprocessing=pre)
    text = json.dumps({**good_manifest().to_dict(), "preprocessing": {
        "offset": list(pre.offset), "scale": list(pre.scale),
        "clip": list(pre.clip) if pre.clip else None, "value_range": None}})
    with pytest.raises(ManifestError, match=field):
        Manifest.from_json(text)


def test_cause04_denoise_with_nan_scale_is_refused_not_silent(models: dict) -> None:
    with pytest.raises(ManifestError, match=r"scale\[0\]: must be a finite number"):
        Model(models["lie_scale_nan"])


# -- causes 9 and 10 -----------------------------------------------------------------------------
def test_cause09_deeply_nested_manifest_clean_error(models: dict) -> None:
    with pytest.raises(ManifestError, match="nested deeper than"):
        Model(models["lie_deep_nesting"])
    with pytest.raises(ManifestError, match="nested deeper than"):
        Manifest.from_json("[" * 1_000_000)
    with pytest.raises(ManifestError, match="nested deeper than"):
        good_manifest(arch_config={"a": json.loads("[" * 100 + "]" * 100)})


def test_cause10_latent_shape_empty(models: dict) -> None:
    with pytest.raises(ManifestError, match=r"manifest\.latent_shape: needs 1 to 3 dimensions"):
        Model(models["lie_latent_shape_empty"])
    proc = subprocess.run([*RT, "info", "-m", str(models["lie_latent_shape_empty"])],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# -- cause 11 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("npy_token_error.npy", "corrupt header"),
        ("npy_huge_shape.npy", r"declares shape \(1000000000000,\)"),
        ("empty.npy", "empty file"),
        ("npy_truncated.npy", "truncated or corrupt"),
        ("random.npy", "not a .npy array"),
        ("npy_strings.npy", "must be numeric"),
    ],
)
def test_cause11_npy_readers_refuse_bad_files(data: dict, name: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        load_npy(data[name])
    with pytest.raises(InputError, match=match):
        load_npy(data[name], mmap=True)
    from edgeae.data.files import read_file
    from edgeae.errors import DataError

    with pytest.raises(DataError, match=match):
        read_file(data[name])


# -- causes 12-14 --------------------------------------------------------------------------------
def test_cause12_missing_output_folder_is_an_output_error(tmp_path: Path) -> None:
    from edgeae_runtime.audio import write_wav

    with pytest.raises(OutputError, match="does not exist"):
        write_wav(tmp_path / "nope" / "a.wav", np.zeros(10, np.float32), 16000)
    assert not (tmp_path / "nope").exists()


def test_cause13_output_is_an_existing_folder(tmp_path: Path) -> None:
    from edgeae_runtime.audio import write_wav

    (tmp_path / "a.wav").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_wav(tmp_path / "a.wav", np.zeros(10, np.float32), 16000)
    assert list((tmp_path / "a.wav").iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["denoise", "-m", "{model}", "{wav}", "-o", "-"],
        ["compress", "-m", "{encoder}", "{wav}", "-o", "-"],
        ["score", "-m", "{model}", "{wav}", "--json"],
        ["decompress", "-m", "{decoder}", "{stream}", "-o", "-"],
    ],
    ids=["denoise", "compress", "score-json", "decompress"],
)
def test_cause14_full_stdout_is_one_line_and_exit_4(good: dict, argv: list[str]) -> None:
    args = [a.format(**{k: str(v) for k, v in good.items()}) for a in argv]
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([*RT, *args], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=60, check=False)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.returncode == 4, proc.stderr


# -- cause 17 -----------------------------------------------------------------------------------
def test_cause17_quantizing_an_int8_or_fp16_model_is_refused(good: dict) -> None:
    from edgeae_export.errors import QuantizationError
    from edgeae_export.quantize import _refuse_quantized

    model = onnx.load(str(good["model"]))
    manifest = Manifest.from_json(json.dumps(_manifest_dict(good["model"])))
    _refuse_quantized(model, manifest, "model.onnx")  # float32: accepted
    for mode in ("dynamic", "static", "fp16", "mixed"):
        lying = manifest.replace(quantization=manifest.quantization.__class__(mode=mode))
        with pytest.raises(QuantizationError, match=f"already quantized.*{mode}"):
            _refuse_quantized(model, lying, "q.onnx")
    qdq = onnx.load(str(good["model"]))
    qdq.graph.node.append(onnx.helper.make_node("DequantizeLinear", ["a", "b"], ["c"]))
    with pytest.raises(QuantizationError, match="quantized ops DequantizeLinear"):
        _refuse_quantized(qdq, manifest, "q.onnx")  # a manifest that says float32 lies
    half = onnx.load(str(good["model"]))
    half.graph.initializer[0].data_type = onnx.TensorProto.FLOAT16
    with pytest.raises(QuantizationError, match="float16 tensors"):
        _refuse_quantized(half, manifest, "h.onnx")


# -- cause 19 -----------------------------------------------------------------------------------
def test_cause19_external_data_outside_the_model_folder(good: dict, tmp_path: Path) -> None:
    from edgeae_export.errors import ExportError
    from edgeae_export.inspect import inspect_model
    from edgeae_export.onnx_io import load_onnx

    model = onnx.load(str(good["model"]))
    tensor = model.graph.initializer[0]
    (tmp_path / "secret.bin").write_bytes(onnx.numpy_helper.to_array(tensor).tobytes())
    tensor.ClearField("raw_data")
    del tensor.float_data[:]
    tensor.data_location = onnx.TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../secret.bin"
    (tmp_path / "m").mkdir()
    onnx.save(model, str(tmp_path / "m" / "model.onnx"))
    for load in (load_onnx, inspect_model):
        with pytest.raises(ExportError, match="points outside the directory"):
            load(tmp_path / "m" / "model.onnx")
    with pytest.raises(EdgeAEError):
        Model(tmp_path / "m" / "model.onnx")


# -- cause 20 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["wav_fmt_4g.wav", "wav_list_4g.wav"])
def test_cause20_wav_chunk_sizes_checked_before_allocating(data: dict, name: str) -> None:
    code = (
        "import resource, sys\n"
        "from edgeae_runtime.pcm import read_wav_header\n"
        "from edgeae_runtime.errors import InputError\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "try:\n"
        "    read_wav_header(open(sys.argv[1], 'rb'), 'w')\n"
        "except InputError as e:\n"
        "    print('ok', e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(data[name])], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.stdout.startswith("ok") and "declares 4294967280 bytes" in proc.stdout, (
        proc.stdout + proc.stderr
    )
    import io

    blob = data[name].read_bytes()  # a pipe cannot be measured: skipped in bounded blocks
    with pytest.raises(InputError, match=r"file ends inside|fmt chunk of 4294967280"):
        read_wav_header(io.BytesIO(blob), "stdin")


# -- cause 21 -----------------------------------------------------------------------------------
def test_cause21_decompress_reference_checked_before_output(good: dict, tmp_path: Path) -> None:
    out = tmp_path / "o.wav"
    proc = subprocess.run(
        [*RT, "decompress", "-m", str(good["decoder"]), str(good["stream"]), "-o", str(out),
         "--reference", str(tmp_path / "missing.wav")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 3 and "missing.wav" in proc.stderr
    assert os.listdir(tmp_path) == []


# -- cause 22 (the atomic output itself: tests/runtime/test_atomic.py) ---------------------------
def test_cause22_sigterm_during_a_streamed_denoise_leaves_nothing(good: dict, tmp_path) -> None:
    import signal
    import time

    out = tmp_path / "out.wav"
    with subprocess.Popen([*RT, "denoise", "-m", str(good["model"]), "-", "-o", str(out)],
                          stdin=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        proc.stdin.write(b"\0" * 64000)  # raw s16le; the pipe stays open, the run goes on
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while not list(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p.name.startswith(".out.wav.edgeae-") for p in tmp_path.iterdir()] == [True]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    assert list(tmp_path.iterdir()) == []



# -- cause 24 -----------------------------------------------------------------------------------
def test_cause24_max_batch_named(good: dict) -> None:
    model = Model(good["model"])
    x = np.zeros((3, 1, 32), np.float32)
    for bad in (-1, 0, 1.5, True):
        with pytest.raises(ParameterError, match="max_batch: must be an integer >= 1"):
            model.reconstruct(x, max_batch=bad)
    with pytest.raises(EdgeAEError, match="max_batch"):
        Model(good["model"], max_batch=0)


def test_cause24_stream_push_of_arrays_named(good: dict) -> None:
    blob = good["stream"].read_bytes()
    ok = StreamDecoder(Model(good["decoder"]))
    y = ok.push(np.frombuffer(blob, np.uint8))  # 1-D uint8 is bytes
    assert y.shape[0] == 1
    for bad in (np.zeros((3, 3), np.uint8), np.zeros(4, np.float32), "abc", 5):
        with pytest.raises(ParameterError, match="data: stream bytes") as info:
            StreamDecoder(Model(good["decoder"])).push(bad)
        assert info.value.param == "data"


def test_cause24_float32_overflow_is_an_error_not_inf(good: dict) -> None:
    model = Model(good["model"])
    huge = np.full((2, 1, 32), np.finfo(np.float32).max, np.float32)
    with pytest.raises(InputError, match="overflowed to Inf/NaN"):
        model.reconstruct(huge)
    with pytest.raises(InputError, match="overflowed to Inf/NaN"):  # checked on the errors
        model.score(huge)
    y = model.reconstruct(huge / 1e30)  # a large but representable input still works
    assert np.isfinite(y).all()
    assert np.isfinite(model.score(huge / 1e30)).all()


def test_signal_spec_bounds_also_hold_for_python_manifests() -> None:
    with pytest.raises(ManifestError, match=r"signal\.window"):
        good_manifest(signal=SignalSpec(sample_rate=16000, channels=1, window=2**31, hop=16))


def test_cause22_killed_training_leaves_no_partial_run(tmp_path: Path) -> None:
    """A RUN.partial-PID folder is removed on SIGTERM, and by the next run once PID is gone."""
    from edgeae.train.rundir import RunDir
    from edgeae_runtime.atomic import live_temporaries

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f"run.partial-{int(dead.stdout)}"
    stale.mkdir()
    (stale / "checkpoint.pt").write_bytes(b"half")
    run = RunDir(tmp_path / "run", resume=False, force=False)
    partial = run.open()
    assert not stale.exists()
    assert str(partial) in live_temporaries()  # SIGTERM would remove it
    run.abort()
    assert live_temporaries() == [] and list(tmp_path.iterdir()) == []


def test_cause01_item_stream_concealment_bounded_in_values(tmp_path: Path, monkeypatch) -> None:
    """Item/image streams conceal whole items: the budget counts values, not frames."""
    from edgeae_runtime import CodecSpec
    from edgeae_runtime.codec import decode_item_stream
    from edgeae_runtime.codec import items as items_module
    from edgeae_runtime.codec.format import pack_end, pack_frame, parse_header
    from edgeae_runtime.codec.parser import StreamParser
    from tests.runtime.onnx_models import make_triplet

    _, encoder, decoder = make_triplet(tmp_path, kind="dense", features=16, latent=4,
                                       codec=CodecSpec(bits=8, scale=(0.05,), zero_point=(0,)))
    from edgeae_runtime.codec import compress_items

    blob = compress_items(Model(encoder), np.zeros((2, 16), np.float32), entropy=False)
    _, pos = parse_header(blob)
    frame = next(e for e in StreamParser().feed(blob) if type(e).__name__ == "Frame")
    forged = (blob[:pos] + pack_frame(0, frame.samples, frame.payload, flags=frame.flags)
              + pack_frame(5000, frame.samples, frame.payload, flags=frame.flags)
              + pack_end(5001, 5001))
    ok = decode_item_stream(Model(decoder), forged, conceal=True)  # 4999 x 16 values: fine
    assert ok.items.shape == (5001, 16) and len(ok.concealed) == 4999
    monkeypatch.setattr(items_module, "MAX_CONCEALED_VALUES", 10_000)
    with pytest.raises(StreamError, match="that can be concealed"):
        decode_item_stream(Model(decoder), forged, conceal=True)


def test_item_stream_total_decoded_values_bounded(tmp_path: Path, monkeypatch) -> None:
    """However well a batch compresses, one item stream decodes to a bounded array."""
    from edgeae_runtime import CodecSpec
    from edgeae_runtime.codec import compress_items, decode_item_stream
    from edgeae_runtime.codec import items as items_module
    from tests.runtime.onnx_models import make_triplet

    _, encoder, decoder = make_triplet(tmp_path, kind="dense", features=16, latent=4,
                                       codec=CodecSpec(bits=8, scale=(0.05,), zero_point=(0,)))
    blob = compress_items(Model(encoder), np.zeros((100, 16), np.float32), entropy=False)
    assert decode_item_stream(Model(decoder), blob).items.shape == (100, 16)
    monkeypatch.setattr(items_module, "MAX_DECODED_VALUES", 50 * 16)
    for conceal in (False, True):
        with pytest.raises(StreamError, match="one batch may hold"):
            decode_item_stream(Model(decoder), blob, conceal=conceal)
