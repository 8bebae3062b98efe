"""Bias zero points: the all-zero int32 ones are dropped, outputs and fused kernels unchanged."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeae_export import QuantizeRequest, quantize_model
from edgeae_export.onnx_io import load_onnx
from edgeae_export.quantizers import drop_zero_bias_zero_points
from edgeae_export.speed import float_layers

from .models import make_data


def _bias_dq(zero_point: np.ndarray) -> onnx.ModelProto:
    """y = DequantizeLinear(int32 bias, scale, zero_point): a lone quantized bias."""
    inits = [
        numpy_helper.from_array(np.array([5, -7, 300], dtype=np.int32), "b"),
        numpy_helper.from_array(np.array([0.5, 0.25, 0.125], dtype=np.float32), "s"),
        numpy_helper.from_array(zero_point.astype(np.int32), "zp"),
    ]
    node = helper.make_node("DequantizeLinear", ["b", "s", "zp"], ["y"], axis=0)
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])
    graph = helper.make_graph([node], "g", [], [out], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {})[0]


def test_zero_bias_zero_point_is_dropped_with_the_same_output() -> None:
    model = _bias_dq(np.zeros(3))
    before = _run(model)
    assert drop_zero_bias_zero_points(model) > 0
    assert list(model.graph.node[0].input) == ["b", "s"]
    assert "zp" not in {t.name for t in model.graph.initializer}
    np.testing.assert_array_equal(_run(model), before)


def test_nonzero_zero_point_is_kept() -> None:
    model = _bias_dq(np.array([0, 1, 0]))
    assert drop_zero_bias_zero_points(model) == 0
    assert list(model.graph.node[0].input) == ["b", "s", "zp"]


@pytest.mark.parametrize("kind", ["dense", "conv1d"])
def test_static_model_has_no_int32_zero_points_and_stays_fused(
    triplets, tmp_path, no_timing, kind
) -> None:
    r = quantize_model(
        QuantizeRequest(
            triplets[kind]["autoencoder"],
            tmp_path / "q.onnx",
            calibration=make_data(kind, 64),
            measure=no_timing,
        )
    )
    model = load_onnx(r.path)
    inits = {t.name: t for t in model.graph.initializer}
    biases = [
        n
        for n in model.graph.node
        if n.op_type == "DequantizeLinear"
        and inits.get(n.input[0]) is not None
        and inits[n.input[0]].data_type == TensorProto.INT32
    ]
    assert biases and all(len(n.input) == 2 for n in biases)
    assert not [t for t in inits.values() if t.data_type == TensorProto.INT32 and "zero" in t.name]
    assert float_layers(model) == ()  # still QLinearConv / QGemm everywhere
