"""One quantization pass with onnxruntime: dynamic int8, static int8 (QDQ) or fp16.

The options are resolved here (every "auto" filled from the CPU and the mode);
:mod:`edgeae_export.quantize` orchestrates passes, the budget and the gate.
Built on ``onnxruntime.quantization``: ``quant_pre_process`` first, then
``quantize_dynamic`` / ``quantize_static`` (QDQ format, calibrated through the
``CalibrationDataReader`` protocol) or ``onnxruntime.transformers.float16``
(float32 inputs and outputs kept, so the runtime feeds the same arrays).
int8 types and ``reduce_range`` default to what runs fastest here
(:mod:`edgeae_export.cpu`). ConvTranspose is kept in float for static
quantization by default: the CPU provider has no int8 kernel for it, so QDQ
around it costs accuracy and buys no speed. Optionally an accuracy budget
(:mod:`edgeae_export.budget`) keeps the most harmful nodes in float, and the
speed gate (:mod:`edgeae_export.speed`) refuses a model that is not faster.
The output keeps the manifest, updated with how it was quantized.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import (
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from edgeae_runtime.manifest import QuantizationSpec

from .calibration import DEFAULT_BATCH_SIZE, CalibrationSource, Transform
from .cpu import CpuInfo, default_quant_types
from .errors import CalibrationError, QuantizationError, QuantizationParameterError

__all__ = [
    "DEFAULT_FLOAT_OPS",
    "METHODS",
    "MODES",
    "QuantizeOptions",
    "default_float_ops",
    "drop_zero_bias_zero_points",
    "prepare_float",
    "quantize_proto",
    "replace_options",
    "resolve_exclusions",
    "resolve_options",
]

Mode = Literal["dynamic", "static", "fp16"]
MODES = ("dynamic", "static", "fp16")
METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "entropy": CalibrationMethod.Entropy,
    "percentile": CalibrationMethod.Percentile,
}
#: Op types kept in float by default in static mode on the CPU provider, and why.
DEFAULT_FLOAT_OPS = {
    "ConvTranspose": "no int8 kernel on the CPU provider: QDQ would cost accuracy, not time",
}
_TYPES = {"QInt8": QuantType.QInt8, "QUInt8": QuantType.QUInt8}


def default_float_ops(mode: str, present: Collection[str] | None = None) -> tuple[str, ...]:
    """The op types kept float unless the caller says otherwise (the one place this is decided).

    Static mode keeps :data:`DEFAULT_FLOAT_OPS`; with ``present`` (the model's op
    types) only those in the model are listed, so the manifest records what applied.
    """
    if mode != "static":
        return ()
    return tuple(op for op in DEFAULT_FLOAT_OPS if present is None or op in present)


@dataclass(frozen=True)
class QuantizeOptions:
    """Every choice one quantization run makes, resolved (no "auto" left)."""

    mode: Mode
    method: str = "minmax"
    per_channel: bool = True
    activation_type: str = "QInt8"
    weight_type: str = "QInt8"
    reduce_range: bool = False
    exclude_nodes: tuple[str, ...] = ()
    exclude_op_types: tuple[str, ...] = ()
    batch_size: int = DEFAULT_BATCH_SIZE
    cpu_reason: str = ""

    def spec(self, calibration_data: str | None, **budget: Any) -> QuantizationSpec:
        """The manifest's record of this run (mode "mixed" when the budget kept nodes float)."""
        int8 = self.mode != "fp16"
        mixed = bool(budget.pop("kept_float", ()))
        return QuantizationSpec(
            mode="mixed" if mixed else self.mode,
            weight_type=self.weight_type if int8 else "float16",
            activation_type=(
                self.activation_type
                if self.mode == "static"
                else "dynamic-uint8"
                if self.mode == "dynamic"
                else "float16"
            ),
            per_channel=self.per_channel if int8 else False,
            reduce_range=self.reduce_range if int8 else False,
            calibration_method=self.method if self.mode == "static" else None,
            calibration_data=calibration_data if self.mode == "static" else None,
            excluded_nodes=self.exclude_nodes,
            excluded_op_types=self.exclude_op_types,
            metric=budget.get("metric"),
            max_drop=budget.get("max_drop"),
            measured_drop=budget.get("measured_drop"),
        )


def resolve_options(
    mode: str,
    *,
    method: str = "minmax",
    per_channel: bool | None = None,
    activation_type: str | None = None,
    weight_type: str | None = None,
    reduce_range: bool | None = None,
    exclude_nodes: Sequence[str] = (),
    exclude_op_types: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    cpu: CpuInfo | None = None,
) -> QuantizeOptions:
    """Fill every "auto" choice from the CPU and the mode; reject unknown values by name."""
    if mode not in MODES:
        raise QuantizationParameterError(
            f"must be one of {', '.join(MODES)}, got {mode!r}", param="mode"
        )
    if method not in METHODS:
        raise QuantizationParameterError(
            f"must be one of {', '.join(METHODS)}, got {method!r}", param="method"
        )
    for name, value in (("activation_type", activation_type), ("weight_type", weight_type)):
        if value is not None and value not in _TYPES:
            raise QuantizationParameterError(f"must be QInt8 or QUInt8, got {value!r}", param=name)
    defaults = default_quant_types(cpu)
    if exclude_op_types is None:
        exclude_op_types = default_float_ops(mode)
    return QuantizeOptions(
        mode=mode,  # type: ignore[arg-type]
        method=method,
        # per-channel weight scales cost nothing at run time and help small convs.
        per_channel=(mode == "static") if per_channel is None else per_channel,
        activation_type=activation_type or defaults.activation_type,
        weight_type=weight_type or defaults.weight_type,
        reduce_range=defaults.reduce_range if reduce_range is None else reduce_range,
        exclude_nodes=tuple(exclude_nodes),
        exclude_op_types=tuple(exclude_op_types),
        batch_size=batch_size,
        cpu_reason=defaults.reason,
    )


def resolve_exclusions(
    model: onnx.ModelProto, names_or_ops: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split ``exclude`` values into node names and op types found in ``model``."""
    nodes = {n.name for n in model.graph.node}
    ops = {n.op_type for n in model.graph.node}
    by_name: list[str] = []
    by_op: list[str] = []
    for value in names_or_ops:
        if value in nodes:
            by_name.append(value)
        elif value in ops:
            by_op.append(value)
        else:
            shown = ", ".join(sorted(nodes)[:12]) + (" ..." if len(nodes) > 12 else "")
            raise QuantizationParameterError(
                f"{value}: no node or op type of that name in the model "
                f"(op types: {', '.join(sorted(ops))}; nodes: {shown})",
                param="exclude",
            )
    return tuple(by_name), tuple(by_op)


def prepare_float(model: onnx.ModelProto, workdir: Path) -> Path:
    """Run ``quant_pre_process`` (shape inference + optimization); returns the prepared file."""
    src, out = workdir / "float.onnx", workdir / "float.pre.onnx"
    onnx.save(model, src)
    try:
        quant_pre_process(str(src), str(out), skip_symbolic_shape=False)
    except Exception as exc:  # onnxruntime raises plain Exception subclasses here
        raise QuantizationError(f"pre-processing for quantization failed: {exc}") from None
    return out


def _excluded_node_names(model: onnx.ModelProto, opts: QuantizeOptions) -> list[str]:
    ops = set(opts.exclude_op_types)
    names = set(n.name for n in model.graph.node if n.op_type in ops and n.name)
    names |= set(opts.exclude_nodes)
    if opts.mode == "dynamic":
        # the dynamic quantizer first rewrites Gemm as MatMul + Add named "<gemm>_MatMul"
        # and then matches nodes_to_exclude against the new names
        gemms = {n.name for n in model.graph.node if n.op_type == "Gemm"}
        names |= {f"{n}_MatMul" for n in names & gemms}
    return sorted(names)


def quantize_proto(
    prepared: Path,
    opts: QuantizeOptions,
    *,
    calibration: CalibrationSource | None = None,
    input_name: str = "input",
    preprocessing: Any = None,
    transform: Transform | None = None,
) -> onnx.ModelProto:
    """Quantize the prepared float model once with ``opts``; the result is not written anywhere."""
    model = onnx.load(str(prepared))
    exclude = _excluded_node_names(model, opts)
    with tempfile.TemporaryDirectory(prefix="edgeae-quant-", dir=prepared.parent) as tmp:
        out = Path(tmp) / "quantized.onnx"
        try:
            if opts.mode == "dynamic":
                quantize_dynamic(
                    str(prepared),
                    str(out),
                    per_channel=opts.per_channel,
                    reduce_range=opts.reduce_range,
                    weight_type=_TYPES[opts.weight_type],
                    nodes_to_exclude=exclude,
                )
            elif opts.mode == "static":
                if calibration is None:
                    raise CalibrationError(
                        "static quantization needs calibration data", param="calibration"
                    )
                reader = calibration.reader(
                    input_name, preprocessing, batch_size=opts.batch_size, transform=transform
                )
                # No CalibMaxIntermediateOutputs: in onnxruntime 1.32 MinMax clears the
                # collected batches without merging their ranges, silently dropping data.
                # Memory is bounded by the calibration size instead.
                extra: dict[str, Any] = {}
                quantize_static(
                    str(prepared),
                    str(out),
                    reader,
                    quant_format=QuantFormat.QDQ,
                    per_channel=opts.per_channel,
                    reduce_range=opts.reduce_range,
                    activation_type=_TYPES[opts.activation_type],
                    weight_type=_TYPES[opts.weight_type],
                    nodes_to_exclude=exclude,
                    calibrate_method=METHODS[opts.method],
                    extra_options=extra,
                )
            else:
                return _to_fp16(model, exclude, opts.exclude_op_types)
        except QuantizationError:
            raise
        except Exception as exc:  # onnxruntime's quantizer raises bare Exception/ValueError
            raise QuantizationError(f"{opts.mode} quantization failed: {exc}") from None
        quantized = onnx.load(str(out))
        if opts.mode == "static":
            drop_zero_bias_zero_points(quantized)
        return quantized


def drop_zero_bias_zero_points(model: onnx.ModelProto) -> int:
    """Remove the all-zero int32 zero points of quantized biases (in place); returns bytes saved.

    ``DequantizeLinear``'s zero point is optional and defaults to 0, and an int32
    bias is always quantized symmetrically, so the 4 bytes per output channel say
    nothing; onnxruntime fuses the groups the same way (QLinearConv, QGemm) and
    the outputs are bit-identical.
    """
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    dropped: set[str] = set()
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or len(node.input) != 3:
            continue
        zp = inits.get(node.input[2])
        if zp is None or zp.data_type != onnx.TensorProto.INT32:
            continue
        if np.any(numpy_helper.to_array(zp)):
            continue
        dropped.add(zp.name)
        del node.input[2]
    still_used = {name for node in graph.node for name in node.input}
    gone = [t for t in graph.initializer if t.name in dropped and t.name not in still_used]
    for tensor in gone:
        graph.initializer.remove(tensor)
    return sum(t.ByteSize() for t in gone)


def _to_fp16(
    model: onnx.ModelProto, exclude_nodes: Sequence[str], exclude_ops: Sequence[str]
) -> onnx.ModelProto:
    """float32 -> float16 weights and compute, float32 inputs/outputs kept for the runtime."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    return convert_float_to_float16(
        model,
        keep_io_types=True,
        op_block_list=sorted(set(DEFAULT_OP_BLOCK_LIST) | set(exclude_ops)),
        node_block_list=list(exclude_nodes),
    )


def replace_options(opts: QuantizeOptions, **changes: Any) -> QuantizeOptions:
    """A copy of ``opts`` with some fields changed."""
    return dataclasses.replace(opts, **changes)
