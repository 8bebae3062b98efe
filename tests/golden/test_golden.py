"""The golden check passes here, and fails when an int8 output, a stream or a decoding differs.

The same check runs inside the arm64 rootfs in ``make test-arm``. Regenerate the expected
files only on purpose (new models, a deliberate format change), on x86:
``GENERATE_EXPECTED=1 .venv/bin/python -m pytest tests/golden``; review and commit them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.golden import golden
from tests.golden.golden import CASES, GOLDEN, INT8_MAX_FRACTION, check, main

BY_NAME = {c.name: c for c in CASES}


@pytest.fixture(scope="module", autouse=True)
def _regenerate_on_request() -> None:
    if os.environ.get("GENERATE_EXPECTED") == "1":
        only = os.environ.get("GENERATE_CASES")
        golden.generate(only=tuple(only.split(",")) if only else None)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A private copy of tests/golden to perturb."""
    dst = tmp_path / "golden"
    shutil.copytree(GOLDEN, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return dst


def _one(d: Path, name: str) -> golden.CaseResult:
    (result,) = check(d, (BY_NAME[name],))
    return result


def _step(d: Path, name: str) -> float:
    return float(json.loads((d / "expected" / "meta.json").read_text())["cases"][name]["step"])


def test_every_case_has_checked_in_files() -> None:
    meta = json.loads((GOLDEN / "expected" / "meta.json").read_text())
    assert set(meta["cases"]) == set(BY_NAME)
    assert meta["machine"] == "x86_64"
    total = sum(
        f.stat().st_size
        for f in GOLDEN.rglob("*")
        if f.is_file() and "__" not in f.name and "__pycache__" not in f.parts
    )
    assert total < 600_000  # small files only (v5 adaptive: past 500 kB, v6 images: 566 kB)
    kinds = {c.kind for c in CASES}
    assert kinds == {"float", "int8", "signal", "codec"}


def test_this_machine_matches_the_x86_outputs() -> None:
    results = check()
    assert [r.name for r in results if not r.ok] == [], "\n".join(r.line() for r in results)
    codec = [r for r in results if r.kind == "codec"]
    assert codec and all(r.extra["stream_identical"] for r in codec)


def test_int8_types_follow_the_model_names() -> None:
    from edgeae_runtime import Model

    for case in CASES:
        if case.kind == "int8":
            q = Model(GOLDEN / "models" / case.files[0]).manifest.quantization
            want = "QInt8" if ".s8s8." in case.files[0] else "QUInt8"
            assert (q.mode, q.activation_type, q.weight_type) == ("static", want, "QInt8")
            assert q.target == ("arm64" if want == "QInt8" else "x86")


@pytest.mark.parametrize("name", ["int8_s8s8_dense", "int8_u8s8_conv1d_encoder"])
def test_an_int8_output_two_steps_off_fails(copy: Path, name: str) -> None:
    f = copy / "expected" / f"{name}.npy"
    ref = np.load(f)
    assert _one(copy, name).ok
    bad = ref.copy()
    bad.flat[3] += 2 * _step(copy, name)
    np.save(f, bad)
    r = _one(copy, name)
    assert not r.ok and "2.00 step(s) worst" in r.detail


def test_one_int8_step_on_one_element_is_within_tolerance(copy: Path) -> None:
    name = "int8_s8s8_conv1d_encoder"
    f = copy / "expected" / f"{name}.npy"
    bad = np.load(f)
    bad.flat[5] += _step(copy, name)
    np.save(f, bad)
    assert _one(copy, name).ok


def test_one_step_on_too_many_elements_fails(copy: Path) -> None:
    name = "int8_u8s8_dense"
    f = copy / "expected" / f"{name}.npy"
    bad = np.load(f)
    n = int(bad.size * INT8_MAX_FRACTION) + 2
    bad.flat[:n] += _step(copy, name)
    np.save(f, bad)
    assert not _one(copy, name).ok


def test_a_float_output_off_by_1e4_fails(copy: Path) -> None:
    f = copy / "expected" / "float_conv1d.npy"
    bad = np.load(f)
    bad.flat[0] += 1e-4
    np.save(f, bad)
    assert not _one(copy, "float_conv1d").ok


def test_a_stream_that_differs_by_one_byte_fails(copy: Path) -> None:
    f = copy / "expected" / "codec_conv1d.eae"
    data = bytearray(f.read_bytes())
    data[-40] ^= 0x01  # a payload byte of the last frame (its CRC then fails too)
    f.write_bytes(bytes(data))
    r = _one(copy, "codec_conv1d")
    assert not r.ok


def test_a_stream_the_encoder_writes_differently_fails(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ARM would show if its encoder rounded one code the other way."""
    real = golden._run

    def flipped(case, d):
        got = real(case, d)
        s = bytearray(got["stream"])
        s[-40] ^= 0x01
        return {**got, "stream": bytes(s)}

    monkeypatch.setattr(golden, "_run", flipped)
    r = _one(copy, "codec_conv1d")
    assert not r.ok and "DIFFERS (1 byte(s))" in r.detail and not r.extra["stream_identical"]


def test_an_x86_stream_decoded_differently_fails(copy: Path) -> None:
    f = copy / "expected" / "codec_conv1d.decoded.npy"
    bad = np.load(f)
    bad.flat[100] += 1e-3
    np.save(f, bad)
    r = _one(copy, "codec_conv1d")
    assert not r.ok and "1 element(s) outside" in r.detail


def test_a_missing_expected_entry_fails(copy: Path) -> None:
    meta_path = copy / "expected" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["cases"]["float_dense"]
    meta_path.write_text(json.dumps(meta))
    assert not _one(copy, "float_dense").ok


def test_the_command_line_exit_code(copy: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    out = tmp_path / "r.json"
    assert main(["--golden", str(copy), "--json", str(out)], out=lines.append) == 0
    assert lines[-1] == f"golden check: {len(CASES)} of {len(CASES)} cases match"
    assert all(r["ok"] for r in json.loads(out.read_text())["results"])
    f = copy / "expected" / "int8_s8s8_dense.npy"
    np.save(f, np.load(f) + 1.0)
    g = copy / "expected" / "int8_speech_denoiser.npy"
    np.save(g, np.load(g) + 1.0)
    lines.clear()
    assert main(["--golden", str(copy), "--json", str(out)], out=lines.append) == 1
    assert any(line.strip().startswith("FAIL int8_s8s8_dense") for line in lines)
    failed = {r["name"] for r in json.loads(out.read_text())["results"] if not r["ok"]}
    assert failed == {"int8_s8s8_dense", "int8_speech_denoiser"}  # failures are JSON too


def test_the_signal_tolerance_is_an_snr_against_x86() -> None:
    """The kind the pretrained denoiser's samples are checked with (int8 inside, float out)."""
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(4000).astype(np.float32)
    floor = golden.SIGNAL_SNR_DB
    assert golden._signal_cmp(ref.copy(), ref, floor)[0]
    quiet = ref + ref.std() * 10 ** (-(floor + 10) / 20) * rng.standard_normal(4000)
    loud = ref + ref.std() * 10 ** (-(floor - 10) / 20) * rng.standard_normal(4000)
    assert golden._signal_cmp(quiet.astype(np.float32), ref, floor)[0]
    ok, _, detail = golden._signal_cmp(loud.astype(np.float32), ref, floor)
    assert not ok and "SNR vs x86" in detail
    assert not golden._signal_cmp(ref[:-1], ref, floor)[0]


def test_only_full_range_u8s8_gets_the_saturation_floor() -> None:
    """The golden int8 models have 7-bit weights: exact everywhere, never the lower floor."""
    for name in ("dense.u8s8.onnx", "conv1d_encoder.u8s8.onnx", "dense.s8s8.onnx"):
        assert not golden._saturates_here(GOLDEN / "models" / name)
    assert golden.SIGNAL_SNR_SATURATING_DB < golden.SIGNAL_SNR_DB


def test_the_shipped_denoiser_is_held_to_the_normal_floor() -> None:
    """The pretrained denoiser is quantized with 7-bit weights (reduce_range): its x86 output
    is exact on any x86 CPU, so the lower floor never applies to it."""
    from edgeae_runtime import Model

    path = golden._model_file(GOLDEN, "pkg:speech-denoiser")
    q = Model(path).manifest.quantization
    assert q is not None and q.activation_type == "QUInt8" and q.reduce_range
    assert not golden._saturates_here(path)


def test_a_changed_pretrained_model_fails_by_name_until_regenerated(copy: Path) -> None:
    meta_path = copy / "expected" / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert set(meta["cases"]["int8_speech_denoiser"]["sha256"]) == {"pkg:speech-denoiser"}
    meta["cases"]["int8_speech_denoiser"]["sha256"]["pkg:speech-denoiser"] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    r = _one(copy, "int8_speech_denoiser")
    assert (
        not r.ok and "pkg:speech-denoiser changed" in r.detail and "GENERATE_EXPECTED" in r.detail
    )


def test_the_denoiser_case_denoises() -> None:
    """The golden input is noisy and the stored x86 output is a real, different signal."""
    x = np.load(GOLDEN / "inputs" / "int8_speech_denoiser.npy")
    y = np.load(GOLDEN / "expected" / "int8_speech_denoiser.npy")
    assert x.shape == y.shape == (1, 8000)
    assert float(np.std(y)) > 0.01 and not np.allclose(x, y, atol=1e-3)


def test_the_entropy_cases_cover_rans_and_escapes() -> None:
    """The v2 golden streams are rANS-coded and some of their codes take the escape path."""
    from edgeae_runtime import Model
    from edgeae_runtime.codec import StreamParser
    from edgeae_runtime.codec.entropy import codec_tables
    from edgeae_runtime.codec.format import FRAME_ENTROPY

    for case in CASES:
        if not case.name.startswith("codec_") or "entropy" not in case.name:
            continue
        data = (GOLDEN / "expected" / f"{case.name}.eae").read_bytes()
        parser = StreamParser()
        events = parser.feed(data) + parser.finish()
        header = events[0]
        assert data[4] == int(case.name[-1]) and header.entropy_digest, case.name
        assert all(ev.flags == FRAME_ENTROPY for ev in events[1:-1]), case.name
        enc = Model(GOLDEN / "models" / case.files[0])
        x = np.load(GOLDEN / "inputs" / f"{case.name}.npy")
        if case.call == "codec":
            w = header.window
            x = x[0, : x.shape[1] // w * w].reshape(-1, 1, w)
        codes = np.rint(enc.encode(x) / enc.manifest.codec.scale[0])
        tables = codec_tables(enc.manifest.codec)
        sym = codes - tables.offset[0]
        assert np.any((sym < 0) | (sym >= tables.symbols - 1)), f"{case.name}: no escapes"


def test_grouping_windows_changes_the_bytes_not_the_samples() -> None:
    """The v3 stream (8 windows per frame) and the v2 one (1 per frame) of the same signal
    decode to the same samples; v3 spends fewer bytes."""
    exp = GOLDEN / "expected"
    v2 = np.load(exp / "codec_conv1d_entropy_v2.decoded.npy")
    v3 = np.load(exp / "codec_conv1d_entropy_v3.decoded.npy")
    assert np.array_equal(v2, v3)
    size = {v: (exp / f"codec_conv1d_entropy_{v}.eae").stat().st_size for v in ("v2", "v3")}
    assert size["v3"] < size["v2"]
