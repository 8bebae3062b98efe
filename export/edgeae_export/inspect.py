"""What is inside an ONNX model: manifest, I/O, ops, parameters, and which nodes are quantized.

:func:`inspect_model` works on any ONNX file, with or without an edgeae
manifest (it says so when there is none), and returns a JSON-ready dict;
:func:`format_inspection` renders it for a terminal. A node counts as quantized
when it runs an integer kernel (``QLinear*``, ``ConvInteger``, ``MatMulInteger``...),
when it sits in a QDQ pair (reads ``DequantizeLinear`` outputs), or as fp16
when it computes in float16. Nodes with weights (Conv, ConvTranspose, Gemm, MatMul)
that are none of these are listed as having stayed float; other float nodes
(activations, the scale arithmetic of dynamic quantization) are only counted.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx.helper
import onnx.shape_inference

from edgeae_runtime.errors import ManifestError
from edgeae_runtime.manifest import MANIFEST_KEY

from .onnx_io import load_onnx, read_manifest

__all__ = ["format_inspection", "inspect_model"]

#: Nodes that move data between integer and float domains rather than compute.
_PLUMBING = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "Cast", "Constant"}
#: Ops whose weights quantization is for: the ones worth listing when they stay float.
_WEIGHTED = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
_INTEGER_OPS = {
    "ConvInteger",
    "MatMulInteger",
    "MatMulIntegerToFloat",
    "DynamicQuantizeMatMul",
    "QGemm",
    "QAttention",
    "DynamicQuantizeLSTM",
}


def _dtype(elem_type: int) -> str:
    return onnx.helper.tensor_dtype_to_np_dtype(elem_type).name if elem_type else "unknown"


def _value_spec(value: onnx.ValueInfoProto) -> dict[str, Any]:
    tensor = value.type.tensor_type
    shape: list[int | str | None] = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value"):
            shape.append(dim.dim_value)
        else:
            shape.append(dim.dim_param or None)
    return {"name": value.name, "shape": shape, "dtype": _dtype(tensor.elem_type)}


def _value_types(model: onnx.ModelProto) -> dict[str, int]:
    """Element type of every tensor shape inference can type (best effort)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except (onnx.shape_inference.InferenceError, RuntimeError):
        inferred = model
    graph = inferred.graph
    types = {t.name: t.data_type for t in graph.initializer}
    for v in [*graph.input, *graph.value_info, *graph.output]:
        types[v.name] = v.type.tensor_type.elem_type
    return types


def _in_qdq_pair(
    node: onnx.NodeProto, dq_outputs: set[str], q_inputs: set[str], constants: set[str]
) -> bool:
    """True when ``node`` reads dequantized values and (for weightless ops) is requantized.

    A weighted op counts when its input and weight both come from DequantizeLinear; any
    other op when all its non-constant inputs do and an output feeds QuantizeLinear.
    """
    if node.op_type in _WEIGHTED:
        return len(node.input) >= 2 and all(i in dq_outputs for i in node.input[:2])
    activations = [i for i in node.input if i and i not in constants]
    return (
        bool(activations)
        and all(i in dq_outputs for i in activations)
        and any(o in q_inputs for o in node.output)
    )


def _classify(
    model: onnx.ModelProto,
) -> tuple[list[dict[str, str]], list[dict[str, str]], int]:
    """(quantized nodes with how, float weighted nodes, count of other float nodes)."""
    graph = model.graph
    dq_outputs = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    q_inputs = {n.input[0] for n in graph.node if n.op_type == "QuantizeLinear"}
    constants = {t.name for t in graph.initializer}
    constants |= {o for n in graph.node if n.op_type == "Constant" for o in n.output}
    types = _value_types(model)
    quantized, floating, other_float = [], [], 0
    for node in graph.node:
        if node.op_type in _PLUMBING:
            continue
        entry = {"name": node.name, "op_type": node.op_type}
        if node.op_type.startswith("QLinear") or node.op_type in _INTEGER_OPS:
            quantized.append({**entry, "how": "int8 kernel"})
        elif _in_qdq_pair(node, dq_outputs, q_inputs, constants):
            # onnxruntime's CPU provider has no int8 ConvTranspose: it runs DQ -> float -> Q.
            how = "QDQ, runs float on CPU" if node.op_type == "ConvTranspose" else "QDQ"
            quantized.append({**entry, "how": how})
        elif node.output and types.get(node.output[0]) == onnx.TensorProto.FLOAT16:
            quantized.append({**entry, "how": "fp16"})
        elif node.op_type in _WEIGHTED:
            floating.append(entry)
        else:
            other_float += 1
    return quantized, floating, other_float


def _summary(quantized: list[dict[str, str]], floating: list[dict[str, str]]) -> str:
    hows = {q["how"].split(",")[0] for q in quantized}
    if not quantized:
        return "float32"
    kind = "+".join(sorted(hows))
    return f"{kind}, {len(floating)} weighted node(s) kept float" if floating else kind


def inspect_model(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A JSON-ready description of the ONNX file at ``path`` (ExportError if it is not one)."""
    p = Path(path)
    model = load_onnx(p)
    graph = model.graph
    init_names = {t.name for t in graph.initializer}
    manifest_dict: dict[str, Any] | None = None
    manifest_error: str | None = None
    try:
        manifest = read_manifest(model)
        manifest_dict = manifest.to_dict() if manifest is not None else None
    except ManifestError as exc:
        manifest_error = str(exc)
    params = sum(int(np.prod(t.dims)) for t in graph.initializer)
    init_bytes = sum(
        int(np.prod(t.dims)) * onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
        for t in graph.initializer
    )
    quantized, floating, other_float = _classify(model)
    return {
        "path": str(p),
        "size_bytes": p.stat().st_size,
        "ir_version": model.ir_version,
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "manifest": manifest_dict,
        "manifest_error": manifest_error,
        "inputs": [_value_spec(v) for v in graph.input if v.name not in init_names],
        "outputs": [_value_spec(v) for v in graph.output],
        "nodes": len(graph.node),
        "op_counts": dict(Counter(n.op_type for n in graph.node).most_common()),
        "parameters": params,
        "initializer_bytes": init_bytes,
        "initializer_dtypes": dict(Counter(_dtype(t.data_type) for t in graph.initializer)),
        "quantization": {
            "summary": _summary(quantized, floating),
            "quantized_nodes": quantized,
            "float_nodes": floating,
            "other_float_nodes": other_float,
            "manifest": manifest_dict.get("quantization") if manifest_dict else None,
        },
    }


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} GB"


def _flatten(prefix: str, value: Any, lines: list[str]) -> None:
    """``a.b.c: value`` lines for the text view; empty values are left out, long lists cut."""
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, sub, lines)
    elif value is None or value == [] or value == "":
        return
    elif isinstance(value, list) and len(value) > 6:
        head = ", ".join(_scalar(v) for v in value[:4])
        lines.append(f"  {prefix}: [{head}, ... ({len(value)} values)]")
    elif isinstance(value, list):
        lines.append(f"  {prefix}: [{', '.join(_scalar(v) for v in value)}]")
    else:
        lines.append(f"  {prefix}: {_scalar(value)}")


def _scalar(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else json.dumps(value)


def _shape(spec: dict[str, Any]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in spec["shape"]) + "]"


def format_inspection(info: dict[str, Any], *, nodes: bool = True) -> str:
    """Human-readable text of :func:`inspect_model`'s result."""
    opsets = ", ".join(f"{d} {v}" for d, v in info["opsets"].items())
    lines = [
        f"{info['path']}: {_size(info['size_bytes'])}, IR {info['ir_version']}, "
        f"opset {opsets}, producer {info['producer'] or '?'}"
    ]
    if info["manifest_error"]:
        lines.append(f"manifest: INVALID ({info['manifest_error']})")
    elif info["manifest"] is None:
        lines.append(
            f"manifest: no edgeae manifest (metadata key {MANIFEST_KEY!r}); commands that "
            "need its fields will ask for them by name"
        )
    else:
        m = info["manifest"]
        lines.append(f"manifest: {m['role']} of arch {m['arch']}, layout {m['layout']}")
        skip = ("inputs", "outputs", "role", "arch", "layout")
        _flatten("", {k: v for k, v in m.items() if k not in skip}, lines)
    width = max(len(s["name"]) for s in [*info["inputs"], *info["outputs"]])
    for title in ("inputs", "outputs"):
        lines.append(f"{title}:")
        lines += [f"  {s['name']:<{width}}  {s['dtype']:<8} {_shape(s)}" for s in info[title]]
    dtypes = ", ".join(f"{d} x{n}" for d, n in info["initializer_dtypes"].items()) or "none"
    lines.append(
        f"parameters: {info['parameters']:,} ({_size(info['initializer_bytes'])} of "
        f"initializers: {dtypes})"
    )
    ops = ", ".join(f"{op} {n}" for op, n in info["op_counts"].items())
    lines.append(f"ops ({info['nodes']} nodes): {ops}")
    q = info["quantization"]
    lines.append(
        f"quantization: {q['summary']}; {len(q['quantized_nodes'])} quantized node(s), "
        f"{len(q['float_nodes'])} weighted and {q['other_float_nodes']} other float node(s)"
    )
    if nodes:
        for entry in q["quantized_nodes"]:
            lines.append(f"  quantized  {entry['op_type']:<16} {entry['name']} ({entry['how']})")
        for entry in q["float_nodes"]:
            lines.append(f"  float      {entry['op_type']:<16} {entry['name']}")
    return "\n".join(lines)
