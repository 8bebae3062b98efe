"""Each step of ``quantize_model`` alone: prepare, build, budget, recalibrate, speed gate, write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae_export import QuantizeRequest, SpeedGateError, Validation
from edgeae_export.onnx_io import load_onnx, read_manifest
from edgeae_export.quantize import (
    Built,
    build,
    fit_to_budget,
    prepare,
    recalibrate,
    speed_gate,
    write,
)
from edgeae_export.quantizers import DEFAULT_FLOAT_OPS, default_float_ops
from edgeae_export.speed import float_layers

from .models import make_data


def _request(src: Path, tmp_path: Path, **kwargs) -> QuantizeRequest:
    return QuantizeRequest(src, tmp_path / "q.onnx", **kwargs)


def test_request_takes_paths_as_strings_and_replaces_fields(tmp_path: Path) -> None:
    r = QuantizeRequest(str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx"))
    assert r.model_path == tmp_path / "a.onnx" and r.out_path == tmp_path / "b.onnx"
    slower = r.replace(allow_slower=True)
    assert slower.allow_slower and not r.allow_slower and slower.model_path == r.model_path


def test_default_float_ops_are_decided_once() -> None:
    assert default_float_ops("static") == tuple(DEFAULT_FLOAT_OPS)
    assert default_float_ops("static", {"Conv", "Relu"}) == ()
    assert default_float_ops("dynamic", {"ConvTranspose"}) == ()


def test_prepare_resolves_options_for_the_ops_present(triplets, tmp_path: Path) -> None:
    x = make_data("conv2d", 32)
    p = prepare(_request(triplets["conv2d"]["autoencoder"], tmp_path, calibration=x), tmp_path)
    assert p.path.is_file() and p.source is not None
    assert p.options.exclude_op_types == ("ConvTranspose",)
    assert any(w.startswith("ConvTranspose kept float") for w in p.warnings)
    xd = make_data("dense", 32)
    dense = prepare(_request(triplets["dense"]["autoencoder"], tmp_path, calibration=xd), tmp_path)
    assert dense.options.exclude_op_types == () and dense.warnings == ()
    explicit = prepare(
        _request(triplets["conv2d"]["autoencoder"], tmp_path, calibration=x, exclude=("Relu",),
                 exclude_op_types=()),
        tmp_path,
    )  # fmt: skip
    assert explicit.options.exclude_op_types == ("Relu",)
    assert not (tmp_path / "q.onnx").exists()  # preparing writes nothing at the output


def test_build_keeps_the_named_nodes_float(triplets, tmp_path: Path) -> None:
    x = make_data("dense", 64)
    p = prepare(_request(triplets["dense"]["autoencoder"], tmp_path, calibration=x), tmp_path)

    def quantized_inputs(model) -> set[str]:
        dq = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
        return {n.name for n in model.graph.node if n.op_type == "Gemm" and n.input[0] in dq}

    assert "enc_fc1" in quantized_inputs(build(p))
    assert "enc_fc1" not in quantized_inputs(build(p, ("enc_fc1",)))


def test_budget_without_max_drop_is_the_start_model(triplets, tmp_path: Path) -> None:
    x = make_data("dense", 64)
    req = _request(triplets["dense"]["autoencoder"], tmp_path, calibration=x)
    p = prepare(req, tmp_path)
    start = build(p)
    built = fit_to_budget(p, req, start)
    assert built.model is start and built.budget is None and built.options == p.options


def test_budget_records_the_kept_nodes_in_the_options(triplets, tmp_path: Path) -> None:
    x = make_data("dense", 256)
    req = _request(
        triplets["dense"]["autoencoder"], tmp_path, calibration=x, max_drop=0.0,
        validation=Validation(x[:128], name="val"),
    )  # fmt: skip
    p = prepare(req, tmp_path)
    built = fit_to_budget(p, req, build(p))
    assert built.budget is not None and built.budget.kept_float
    assert set(built.budget.kept_float) <= set(built.options.exclude_nodes)
    assert p.options.exclude_nodes == ()  # the prepared options are not changed


def test_recalibrate_moves_the_threshold_to_the_quantized_model(triplets, tmp_path: Path) -> None:
    x = make_data("dense", 128)
    src = triplets["anomaly"]["autoencoder"]
    with_val = _request(src, tmp_path, calibration=x, validation=Validation(x, name="val"))
    p = prepare(with_val, tmp_path)
    built = Built(build(p), p.options)
    manifest, notes = recalibrate(p, with_val, built)
    assert notes == () and manifest.anomaly is not None
    assert manifest.anomaly.threshold != p.manifest.anomaly.threshold
    assert "quantized model" in manifest.anomaly.calibrated_on
    kept, notes = recalibrate(p, _request(src, tmp_path, calibration=x), built)
    assert kept is p.manifest and "kept from the float model" in notes[0]
    trained_on = Validation(x, name="the calibration source", held_out=False)
    kept, notes = recalibrate(p, _request(src, tmp_path, calibration=x, validation=trained_on),
                              built)  # fmt: skip
    assert kept is p.manifest and "the calibration source is not held out" in notes[0]


def test_speed_gate_refuses_a_slower_model_and_reports_a_faster_one(
    triplets, tmp_path: Path, no_timing
) -> None:
    x = make_data("dense", 64)
    src = triplets["dense"]["autoencoder"]

    def slower(which: str, model: bytes, batch: int) -> float:
        return 100.0 if which == "float" else 150.0

    req = _request(src, tmp_path, calibration=x, measure=no_timing)
    p = prepare(req, tmp_path)
    built = Built(build(p), p.options)
    report, notes = speed_gate(p, req, built)
    assert report is not None and report.faster and notes == ()
    with pytest.raises(SpeedGateError):
        speed_gate(p, req.replace(measure=slower), built)
    report, notes = speed_gate(p, req.replace(measure=slower, allow_slower=True), built)
    assert report is not None and not report.faster and notes[0].startswith("SLOWER")
    off = prepare(req.replace(speed_gate=False), tmp_path)
    assert speed_gate(off, req, built)[0] is None
    assert float_layers(built.model) == ()  # the dense model fuses fully: no island warning


def test_write_records_the_run_and_keeps_the_fingerprint(triplets, tmp_path: Path) -> None:
    x = make_data("dense", 64)
    src = triplets["dense"]["autoencoder"]
    req = _request(src, tmp_path, calibration=x, calibration_name="cal")
    p = prepare(req, tmp_path)
    built = Built(build(p), p.options)
    r = write(p, req, built, p.manifest, None, ("a note",))
    m = read_manifest(load_onnx(r.path))
    assert m.quantization.mode == "static" and m.quantization.calibration_data == "cal"
    assert m.fingerprint == p.manifest.fingerprint
    assert m.provenance.file_fingerprint != p.manifest.provenance.file_fingerprint
    assert r.warnings == ("a note",) and r.quantized_bytes == r.path.stat().st_size
    assert np.isclose(r.size_ratio, r.quantized_bytes / src.stat().st_size)
