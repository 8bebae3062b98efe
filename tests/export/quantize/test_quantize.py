"""Each mode on tiny dense / conv1d / conv2d models: smaller, close to float, manifest recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgeae_export import QuantizeRequest, quantize_model
from edgeae_export.fingerprint import model_fingerprint
from edgeae_export.onnx_io import load_onnx, read_manifest
from edgeae_runtime.metrics import psnr
from edgeae_runtime.model import Model

from .models import make_data

KINDS = ("dense", "conv1d", "conv2d")


def _ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["dynamic", "static", "fp16"])
def test_modes_close_to_float_and_recorded(triplets, tmp_path, no_timing, kind, mode) -> None:
    src = triplets[kind]["autoencoder"]
    x = make_data(kind, 128)
    r = quantize_model(
        QuantizeRequest(src, tmp_path / "q.onnx", mode=mode, calibration=x, measure=no_timing)
    )
    ref = Model(src).reconstruct(x)
    got = Model(r.path).reconstruct(x)
    # quantized vs float output: PSNR over the data range well above the model's own error
    assert psnr(ref, got, data_range=4.0) > {"fp16": 50, "static": 30, "dynamic": 30}[mode]
    m = read_manifest(load_onnx(r.path))
    before = read_manifest(load_onnx(src))
    assert m is not None and before is not None
    assert m.quantization.mode == mode
    assert m.provenance.fingerprint == before.provenance.fingerprint
    assert m.provenance.file_fingerprint == model_fingerprint(load_onnx(r.path))
    assert m.provenance.file_fingerprint != before.provenance.file_fingerprint
    assert m.item_shape == before.item_shape and m.preprocessing == before.preprocessing
    if mode == "static":
        assert m.quantization.activation_type in ("QInt8", "QUInt8")
        assert m.quantization.calibration_method == "minmax"
        assert m.quantization.per_channel
        assert {"QuantizeLinear", "DequantizeLinear"} <= _ops(r.path)
    if mode == "fp16":
        assert m.quantization.weight_type == "float16"


@pytest.mark.parametrize("mode", ["dynamic", "static", "fp16"])
def test_dense_output_is_smaller(triplets, tmp_path, no_timing, mode) -> None:
    r = quantize_model(
        QuantizeRequest(
            triplets["dense"]["autoencoder"],
            tmp_path / "q.onnx",
            mode=mode,
            calibration=make_data("dense", 64),
            measure=no_timing,
        )
    )
    assert r.quantized_bytes < r.float_bytes
    # tiny model: graph and manifest overhead weigh as much as the weights, so check those
    float_w = _weight_bytes(triplets["dense"]["autoencoder"])
    assert _weight_bytes(r.path) < {"fp16": 0.55, "static": 0.35, "dynamic": 0.35}[mode] * float_w


def _weight_bytes(path: Path) -> int:
    return sum(
        len(t.raw_data) or 4 * len(t.float_data) for t in onnx.load(str(path)).graph.initializer
    )


def test_convtranspose_stays_float_by_default(triplets, tmp_path, no_timing) -> None:
    r = quantize_model(
        QuantizeRequest(
            triplets["conv2d"]["autoencoder"],
            tmp_path / "q.onnx",
            calibration=make_data("conv2d", 64),
            measure=no_timing,
        )
    )
    assert "ConvTranspose" in r.manifest.quantization.excluded_op_types
    assert any("ConvTranspose kept float" in w for w in r.warnings)
    model = onnx.load(str(r.path))
    convt = next(n for n in model.graph.node if n.op_type == "ConvTranspose")
    producers = {o: n.op_type for n in model.graph.node for o in n.output}
    assert producers.get(convt.input[1]) != "DequantizeLinear"  # float weights, float compute


def test_exclude_by_name_and_op_type(triplets, tmp_path, no_timing) -> None:
    r = quantize_model(
        QuantizeRequest(
            triplets["conv1d"]["autoencoder"],
            tmp_path / "q.onnx",
            calibration=make_data("conv1d", 64),
            exclude=("enc_conv1", "Resize"),
            measure=no_timing,
        )
    )
    q = r.manifest.quantization
    assert q.excluded_nodes == ("enc_conv1",)
    assert "Resize" in q.excluded_op_types
    model = onnx.load(str(r.path))
    node = next(n for n in model.graph.node if n.name == "enc_conv1")
    assert node.op_type == "Conv"
    producers = {o: n.op_type for n in model.graph.node for o in n.output}
    assert producers.get(node.input[1]) != "DequantizeLinear"  # float weights


def test_dynamic_conv_warns_about_convinteger(triplets, tmp_path, no_timing) -> None:
    r = quantize_model(
        QuantizeRequest(
            triplets["conv1d"]["autoencoder"],
            tmp_path / "q.onnx",
            mode="dynamic",
            measure=no_timing,
        )
    )
    assert any("ConvInteger" in w for w in r.warnings)


def test_encoder_and_decoder(triplets, tmp_path, no_timing) -> None:
    files = triplets["conv1d"]
    x = make_data("conv1d", 64)
    enc = quantize_model(
        QuantizeRequest(files["encoder"], tmp_path / "e.onnx", calibration=x, measure=no_timing)
    )
    # the decoder calibrates on latents made by the float encoder beside it
    dec = quantize_model(
        QuantizeRequest(files["decoder"], tmp_path / "d.onnx", calibration=x, measure=no_timing)
    )
    z = Model(files["encoder"]).encode(x)
    ref = Model(files["decoder"]).decode(z)
    got = Model(dec.path).decode(Model(enc.path).encode(x))
    assert psnr(ref, got, data_range=4.0) > 25
    assert dec.manifest.role == "decoder" and dec.manifest.quantization.mode == "static"
    # latents given directly work too
    direct = quantize_model(
        QuantizeRequest(files["decoder"], tmp_path / "d2.onnx", calibration=z, measure=no_timing)
    )
    assert np.isfinite(Model(direct.path).decode(z)).all()


def test_calibration_methods(triplets, tmp_path, no_timing) -> None:
    for method in ("entropy", "percentile"):
        r = quantize_model(
            QuantizeRequest(
                triplets["dense"]["autoencoder"],
                tmp_path / f"{method}.onnx",
                calibration=make_data("dense", 70),
                method=method,
                per_channel=False,
                measure=no_timing,
            )
        )
        assert r.manifest.quantization.calibration_method == method
        assert not r.manifest.quantization.per_channel
