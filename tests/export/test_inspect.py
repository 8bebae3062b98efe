"""inspect_model: I/O, ops, parameters, manifest, and which nodes are quantized."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)

from edgeae_export import ExportError, write_onnx
from edgeae_export.inspect import format_inspection, inspect_model
from edgeae_export.manifest_build import ExportInfo, build_manifest
from edgeae_runtime.manifest import MANIFEST_KEY

from .tiny_models import gemm_model


class _Reader(CalibrationDataReader):
    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self._items = iter([{"input": rng.normal(size=(4, 6)).astype(np.float32)}] * 3)

    def get_next(self) -> dict | None:
        return next(self._items, None)


@pytest.fixture
def float_path(tmp_path: Path) -> Path:
    path = tmp_path / "float.onnx"
    onnx.save(gemm_model(), str(path))
    return path


@pytest.fixture(autouse=True)
def _quiet_quantizer() -> None:
    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's quantizer logs advice on root


def test_float_model_without_manifest(float_path: Path) -> None:
    info = inspect_model(float_path)
    assert info["manifest"] is None and info["manifest_error"] is None
    assert info["inputs"] == [{"name": "input", "shape": ["batch", 6], "dtype": "float32"}]
    assert [o["name"] for o in info["outputs"]] == ["reconstruction", "latent"]
    assert info["op_counts"] == {"Gemm": 2, "Relu": 1}
    assert info["parameters"] == 6 * 3 * 2
    assert info["initializer_bytes"] == 6 * 3 * 2 * 4
    assert info["size_bytes"] == float_path.stat().st_size
    q = info["quantization"]
    assert q["summary"] == "float32"
    assert q["quantized_nodes"] == []
    assert [n["name"] for n in q["float_nodes"]] == ["enc_gemm", "dec_gemm"]
    text = format_inspection(info)
    assert "no edgeae manifest" in text
    assert "input" in text and "[batch, 6]" in text
    json.dumps(info)  # JSON-ready


def test_manifest_is_shown(tmp_path: Path) -> None:
    manifest = build_manifest(
        ExportInfo(arch="dense", layout="NF", item_shape=(6,), latent_shape=(3,)),
        role="encoder",
        fingerprint="ab" * 32,
        file_fingerprint="cd" * 32,
        parity=None,
        codec=None,
    )
    path = write_onnx(gemm_model(), tmp_path / "m.onnx", manifest)
    info = inspect_model(path)
    assert info["manifest"] == manifest.to_dict()
    assert info["quantization"]["manifest"]["mode"] == "float32"
    text = format_inspection(info)
    assert "manifest: encoder of arch dense, layout NF" in text
    assert "provenance.fingerprint" in text and "ab" * 32 in text


def test_invalid_manifest_is_reported_not_fatal(tmp_path: Path) -> None:
    model = gemm_model()
    model.metadata_props.add(key=MANIFEST_KEY, value="{not json")
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    info = inspect_model(path)
    assert info["manifest"] is None
    assert "not valid JSON" in info["manifest_error"]
    assert "manifest: INVALID" in format_inspection(info)


def test_static_qdq_nodes_are_quantized(float_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "qdq.onnx"
    quantize_static(
        str(float_path),
        str(out),
        _Reader(),
        quant_format=QuantFormat.QDQ,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QInt8,
        nodes_to_exclude=["dec_gemm"],
    )
    q = inspect_model(out)["quantization"]
    assert {n["name"]: n["how"] for n in q["quantized_nodes"]}["enc_gemm"] == "QDQ"
    assert [n["name"] for n in q["float_nodes"]] == ["dec_gemm"]
    assert q["summary"] == "QDQ, 1 weighted node(s) kept float"


def test_dynamic_integer_nodes_are_quantized(float_path: Path, tmp_path: Path) -> None:
    model = gemm_model()
    for node in model.graph.node:  # dynamic quantization targets MatMul, not Gemm
        if node.op_type == "Gemm":
            node.op_type = "MatMul"
    src = tmp_path / "matmul.onnx"
    onnx.save(model, str(src))
    out = tmp_path / "dyn.onnx"
    quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8)
    info = inspect_model(out)
    q = info["quantization"]
    assert {n["op_type"] for n in q["quantized_nodes"]} == {"MatMulInteger"}
    assert q["float_nodes"] == []
    assert q["summary"] == "int8 kernel"
    assert info["initializer_dtypes"]["int8"] >= 2  # weights (and their zero points)


def test_fp16_nodes_are_reported(tmp_path: Path) -> None:
    model = gemm_model()
    for init in model.graph.initializer:
        arr = onnx.numpy_helper.to_array(init).astype(np.float16)
        init.CopyFrom(onnx.numpy_helper.from_array(arr, init.name))
    for value in [*model.graph.input, *model.graph.output]:
        value.type.tensor_type.elem_type = onnx.TensorProto.FLOAT16
    path = tmp_path / "fp16.onnx"
    onnx.save(model, str(path))
    info = inspect_model(path)
    assert {n["how"] for n in info["quantization"]["quantized_nodes"]} == {"fp16"}
    assert info["initializer_dtypes"] == {"float16": 2}
    assert info["initializer_bytes"] == 6 * 3 * 2 * 2


def test_not_onnx_is_an_export_error(tmp_path: Path) -> None:
    path = tmp_path / "x.onnx"
    path.write_text("not a model")
    with pytest.raises(ExportError, match=r"x\.onnx: not an ONNX model"):
        inspect_model(path)
