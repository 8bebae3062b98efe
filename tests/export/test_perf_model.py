"""The performance model: exact MAC counts on known shapes, the profile parser on a real
profiled session, the table's assembly, the small-model line (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeae_export.errors import ExportError
from edgeae_export.perf_model import (
    QDQ_INTENSITY_MIN,
    Peak,
    count_macs,
    parse_profile,
    performance_model,
    profile_nodes,
    qdq_intensity,
    small_model_advice,
)
from edgeae_export.speed import suggestions_for

RNG = np.random.default_rng(0)


def _model(nodes, inputs, outputs, inits, opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def _f(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _w(name: str, shape) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32), name)


def _single(op: str, x_shape, w_shape, **attrs) -> onnx.ModelProto:
    node = helper.make_node(op, ["x", "w"], ["y"], name="n", **attrs)
    return _model([node], [_f("x", ["batch", *x_shape])], [_f("y", None)], [_w("w", w_shape)])


@pytest.mark.parametrize(
    ("op", "x_shape", "w_shape", "attrs", "macs"),
    [
        # conv1d: out (8, 16), each value 4 channels x 3 taps
        ("Conv", (4, 16), (8, 4, 3), {"pads": [1, 1]}, 8 * 16 * 4 * 3),
        # conv2d, stride 2: out (6, 4, 4), each 3 x 3 x 3
        ("Conv", (3, 8, 8), (6, 3, 3, 3), {"pads": [1, 1, 1, 1], "strides": [2, 2]}, 6 * 16 * 27),
        # depthwise: group 8, out (8, 8), each 1 channel x 3 taps
        ("Conv", (8, 10), (8, 1, 3), {"group": 8}, 8 * 8 * 3),
        # grouped: 2 groups of 4 input channels, out (4, 8)
        ("Conv", (8, 10), (4, 4, 3), {"group": 2}, 4 * 8 * 4 * 3),
        # ConvTranspose stride 2: every input value (4 x 8) scatters into 2 x 3 outputs
        ("ConvTranspose", (4, 8), (4, 2, 3), {"strides": [2]}, 4 * 8 * 2 * 3),
        # ConvTranspose 2d, grouped: weight (C=4, M/g=3, 2, 2), input 4 x 5 x 5
        ("ConvTranspose", (4, 5, 5), (4, 3, 2, 2), {"strides": [2, 2], "group": 2}, 4 * 25 * 12),
        ("Gemm", (16,), (8, 16), {"transB": 1}, 16 * 8),
        ("Gemm", (16,), (16, 8), {}, 16 * 8),
        ("MatMul", (5, 16), (16, 7), {}, 5 * 7 * 16),
        ("MatMul", (16,), (16, 7), {}, 7 * 16),
    ],
)
def test_float_mac_counts_are_exact(op, x_shape, w_shape, attrs, macs) -> None:
    (node,) = count_macs(_single(op, x_shape, w_shape, **attrs))
    assert (node.name, node.op, node.macs, node.int8) == ("n", op, macs, False)


@pytest.mark.parametrize(
    ("op", "x_shape", "w_shape", "macs"),
    [("Conv", (32, 4, 16), (8, 4, 3), 8 * 14 * 4 * 3), ("Gemm", (32, 16), (16, 8), 16 * 8),
     ("MatMul", (32, 5, 16), (16, 7), 5 * 7 * 16)],
)  # fmt: skip
def test_a_fixed_batch_in_the_file_still_counts_per_item(op, x_shape, w_shape, macs) -> None:
    node = helper.make_node(op, ["x", "w"], ["y"], name="n")
    m = _model([node], [_f("x", list(x_shape))], [_f("y", None)], [_w("w", w_shape)])
    assert count_macs(m)[0].macs == macs


def _u8(name: str, value: int = 128) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(value, np.uint8), name)


def _s(name: str) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(0.02, np.float32), name)


def _i8w(name: str, shape) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.integers(-127, 128, size=shape, dtype=np.int8), name)


def _qdq_conv(channels: int, out_channels: int, length: int, k: int = 3) -> onnx.ModelProto:
    """Q -> DQ -> Conv(DQ(w)) -> Q -> DQ: a QDQ conv1d as the quantizer writes it."""
    zp_w = numpy_helper.from_array(np.array(0, np.int8), "w_zp")
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="x_Q"),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="x_DQ"),
        helper.make_node("DequantizeLinear", ["wq", "ws", "w_zp"], ["wd"], name="w_DQ"),
        helper.make_node("Conv", ["xd", "wd"], ["y0"], name="conv", pads=[1, 1]),
        helper.make_node("QuantizeLinear", ["y0", "ys", "yz"], ["yq"], name="y_Q"),
        helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"], name="y_DQ"),
    ]
    inits = [
        _s("xs"),
        _u8("xz"),
        _i8w("wq", (out_channels, channels, k)),
        _s("ws"),
        zp_w,
        _s("ys"),
        _u8("yz"),
    ]
    return _model(nodes, [_f("x", ["batch", channels, length])], [_f("y", None)], inits, opset=13)


def test_qdq_conv_counts_as_int8_with_the_float_count() -> None:
    (node,) = count_macs(_qdq_conv(4, 8, 16))
    assert (node.name, node.op, node.macs, node.int8) == ("conv", "Conv", 8 * 16 * 4 * 3, True)


def test_qlinear_and_integer_ops_are_counted() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.UINT8, ["batch", 4, 16])
    nodes = [
        helper.make_node(
            "QLinearConv",
            ["x", "s", "z", "w", "s", "wz", "s", "z"],
            ["c"],
            name="qconv",
            pads=[1, 1],
        ),
        helper.make_node("ConvInteger", ["x", "w", "z", "wz"], ["ci"], name="iconv"),
        helper.make_node("Reshape", ["c", "shape"], ["flat"], name="flat"),
        helper.make_node(
            "QLinearMatMul", ["flat", "s", "z", "m", "s", "wz", "s", "z"], ["qm"], name="qmm"
        ),
        helper.make_node("MatMulInteger", ["flat", "m", "z", "wz"], ["mi"], name="imm"),
    ]
    inits = [
        _s("s"),
        _u8("z"),
        numpy_helper.from_array(np.array(0, np.int8), "wz"),
        _i8w("w", (8, 4, 3)),
        _i8w("m", (128, 10)),
        numpy_helper.from_array(np.array([-1, 128], np.int64), "shape"),
    ]
    outs = [helper.make_tensor_value_info(n, TensorProto.UINT8, None) for n in ("qm",)]
    outs += [helper.make_tensor_value_info(n, TensorProto.INT32, None) for n in ("ci", "mi")]
    m = _model(nodes, [x], outs, inits, opset=13)
    got = {n.name: (n.op, n.macs, n.int8) for n in count_macs(m)}
    assert got == {
        "qconv": ("QLinearConv", 8 * 16 * 4 * 3, True),
        "iconv": ("ConvInteger", 8 * 14 * 4 * 3, True),
        "qmm": ("QLinearMatMul", 128 * 10, True),
        "imm": ("MatMulInteger", 128 * 10, True),
    }


def test_unknown_shapes_give_none_not_a_guess() -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="n")
    m = _model([node], [_f("x", ["batch", 4, "length"])], [_f("y", None)], [_w("w", (8, 4, 3))])
    assert count_macs(m)[0].macs is None


def test_bad_model_is_an_export_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ExportError) as info:
        count_macs(bad)
    assert info.value.param == "model"


def test_qdq_intensity_is_macs_per_quantized_value() -> None:
    # quantized values per item: x (4 x 16) and y (8 x 16); MACs 8 * 16 * 12
    assert qdq_intensity(_qdq_conv(4, 8, 16)) == pytest.approx(8 * 16 * 12 / (64 + 128))
    assert qdq_intensity(_single("Conv", (4, 16), (8, 4, 3))) is None


# --- the profiler ---------------------------------------------------------------------------


def _events() -> list[dict]:
    def run(ts: float, dur: float) -> dict:
        return {"cat": "Session", "name": "model_run", "ts": ts, "dur": dur}

    def kernel(name: str, op: str, ts: float, dur: float) -> dict:
        return {"cat": "Node", "name": f"{name}_kernel_time", "ts": ts, "dur": dur,
                "args": {"op_name": op}}  # fmt: skip

    return [
        run(0, 100), kernel("conv_token_1", "QLinearConv", 10, 90),  # warm-up, left out
        run(200, 50), kernel("conv_token_1", "QLinearConv", 210, 20),
        {"cat": "Node", "name": "conv_token_1_fence_before", "ts": 209, "dur": 5},
        kernel("x_Q", "QuantizeLinear", 205, 4),
        run(300, 50), kernel("conv_token_1", "QLinearConv", 310, 30),
        kernel("x_Q", "QuantizeLinear", 305, 6),
        run(400, 50), kernel("conv_token_1", "QLinearConv", 410, 22),
        kernel("x_Q", "QuantizeLinear", 405, 8),
    ]  # fmt: skip


def test_parse_profile_medians_kernel_time_and_skips_warmup(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(_events()))
    times = {t.name: (t.op, t.us_per_run, t.runs) for t in parse_profile(path)}
    assert times == {"conv_token_1": ("QLinearConv", 22.0, 3), "x_Q": ("QuantizeLinear", 6.0, 3)}


def test_parse_profile_refuses_a_file_without_runs(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no model run"):
        parse_profile([{"cat": "Node", "name": "a_kernel_time", "ts": 0, "dur": 1}])
    (tmp_path / "p.json").write_text("{")
    with pytest.raises(ExportError) as info:
        parse_profile(tmp_path / "p.json")
    assert info.value.param == "profile"


def _two_layer() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["h"], name="conv_a", pads=[1, 1]),
        helper.make_node("Relu", ["h"], ["r"], name="relu_a"),
        helper.make_node("Conv", ["r", "w2"], ["y"], name="conv_b", pads=[1, 1]),
    ]
    inits = [_w("w1", (8, 4, 3)), _w("w2", (4, 8, 3))]
    return _model(nodes, [_f("x", ["batch", 4, 16])], [_f("y", None)], inits)


def test_profile_nodes_on_a_real_session_names_the_graph_nodes() -> None:
    times = profile_nodes(_two_layer().SerializeToString(), 4, runs=3)
    assert all(t.runs == 3 and t.us_per_run >= 0 for t in times)
    names = {t.name for t in times}
    # Conv + Relu run fused; the executed node keeps the Conv's name (or a suffixed form)
    assert any(n.startswith("conv_a") for n in names), names
    assert any(n.startswith("conv_b") for n in names), names


def test_performance_model_maps_profile_rows_to_mac_counts() -> None:
    peak = Peak((8,), 1, int8_gmacs=100.0, fp32_gmacs=50.0, int8_by_size=(100.0,),
                fp32_by_size=(50.0,))  # fmt: skip
    pm = performance_model(_two_layer(), batch=8, budget_s=0.01, runs=2, peak=peak)
    assert pm.macs_per_item == 8 * 16 * 12 + 4 * 16 * 24
    macs = {n.name: n.macs for n in pm.nodes}
    assert macs["conv_a"] == 8 * 16 * 12 and macs["conv_b"] == 4 * 16 * 24
    assert pm.unmapped_macs == 0 and pm.precision == "fp32" and pm.advice is None
    assert sum(n.time_share for n in pm.nodes) == pytest.approx(1.0)
    assert pm.peak is peak and json.dumps(pm.to_dict())


# --- int8 on small models -----------------------------------------------------------------------


def test_small_qdq_model_gets_the_one_line_why_and_what_instead() -> None:
    narrow = _qdq_conv(2, 2, 64)  # 6 MACs per quantized value
    line = small_model_advice(narrow)
    assert line is not None and "per quantized value" in line
    assert all(word in line for word in ("fp16", "batch", "wider-but-shallower"))
    assert "\n" not in line
    wide = _qdq_conv(64, 64, 64)  # 96 MACs per quantized value
    assert qdq_intensity(wide) > QDQ_INTENSITY_MIN and small_model_advice(wide) is None
    assert "quantize/dequantize take 40%" in small_model_advice(wide, qdq_share=0.4)
    assert small_model_advice(_single("Conv", (4, 16), (8, 4, 3))) is None


def test_speed_gate_refusal_carries_the_small_model_line() -> None:
    from edgeae_export.errors import SpeedGateError
    from edgeae_export.speed import check_speed

    narrow = _qdq_conv(2, 2, 64)
    tips = suggestions_for(narrow, "static")
    assert tips[-1].startswith("int8 overhead per MAC")
    with pytest.raises(SpeedGateError, match=r"int8 overhead per MAC.*fp16"):
        check_speed(narrow, narrow, mode="static", measure=lambda w, _m, b: 1.0 + (w != "float"))


def test_unnamed_fused_nodes_map_back_through_their_tensors() -> None:
    m = _two_layer()
    for node in m.graph.node:
        node.name = ""  # torch-style files: onnxruntime invents names, the saved graph drops them
    peak = Peak((8,), 1, int8_gmacs=100.0, fp32_gmacs=50.0, int8_by_size=(100.0,),
                fp32_by_size=(50.0,))  # fmt: skip
    pm = performance_model(m, batch=4, budget_s=0.01, runs=2, peak=peak)
    assert pm.unmapped_macs == 0
    assert {n.name: n.macs for n in pm.nodes if n.macs} == {"h": 8 * 16 * 12, "y": 4 * 16 * 24}
