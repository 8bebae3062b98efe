"""The speed gate: a quantized model is only written if it is faster than the float one here.

The gate times both models on this CPU (one thread, batch 1 and a large
batch, median of repeats after warm-up) and refuses, with a
:class:`SpeedGateError` that says what to change, when the quantized model is
not faster at the large batch. Timing is injectable (``measure``) so the
refusal path is tested without a clock.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import onnx

from edgeae_runtime.errors import EdgeAEError
from edgeae_runtime.session import open_session

from .bench import measure_onnx
from .errors import SpeedGateError
from .perf_model import small_model_advice

__all__ = [
    "FLOAT_LAYER_OPS",
    "Measure",
    "SpeedReport",
    "check_speed",
    "float_layers",
    "suggestions_for",
]

#: ``measure(which, model_bytes, batch) -> median microseconds``; ``which`` is
#: ``"float"`` or ``"quantized"``.
Measure = Callable[[str, bytes, int], float]


@dataclass(frozen=True)
class SpeedReport:
    """Median µs per call of both models at each batch size, and the verdict."""

    batches: tuple[int, ...]
    float_us: tuple[float, ...]
    quantized_us: tuple[float, ...]
    faster: bool
    suggestions: tuple[str, ...] = ()

    def speedup(self, batch: int) -> float:
        """float time / quantized time at ``batch`` (> 1 means the quantized model is faster)."""
        i = self.batches.index(batch)
        return self.float_us[i] / max(self.quantized_us[i], 1e-9)

    def float_faster(self) -> tuple[int, ...]:
        """The batches at which the float model ran more than 10 % faster (beyond this
        machine's round-to-round spread): calls of that size should run the float file."""
        return tuple(b for b in self.batches if self.speedup(b) < 1 / 1.1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with speed-ups per batch."""
        out = asdict(self)
        out["speedup"] = {str(b): round(self.speedup(b), 3) for b in self.batches}
        out["float_faster"] = list(self.float_faster())
        return out


#: Weighted op types that, left in onnxruntime's optimized graph, run in float.
FLOAT_LAYER_OPS = frozenset(
    {"Conv", "FusedConv", "ConvTranspose", "Gemm", "FusedGemm", "MatMul", "FusedMatMul"}
)


def float_layers(model: onnx.ModelProto) -> tuple[str, ...]:
    """Names of the weighted layers that still run in float once onnxruntime has optimized
    ``model`` on this CPU (QDQ groups it could not fuse into QLinearConv/QGemm/...).

    Reads the graph onnxruntime actually runs (extended level, CPU provider), so it
    catches float islands the QDQ file does not show, e.g. a Conv next to a quantized
    tensor with two consumers.
    """
    with tempfile.TemporaryDirectory(prefix="edgeae-optimized-") as tmp:
        target = os.path.join(tmp, "optimized.onnx")
        open_session(model.SerializeToString(), optimization="extended", optimized_path=target)
        optimized = onnx.load(target)
    return tuple(n.name for n in optimized.graph.node if n.op_type in FLOAT_LAYER_OPS)


def _default_measure(which: str, model: bytes, batch: int) -> float:
    return measure_onnx(model, batch, threads=1, budget_s=0.3).median_us


def suggestions_for(model: onnx.ModelProto, mode: str) -> tuple[str, ...]:
    """What to change when a quantized graph is not faster, read from its op types."""
    ops = {n.op_type for n in model.graph.node}
    tips: list[str] = []
    if "ConvTranspose" in ops:
        tips.append(
            "ConvTranspose stays float on the CPU provider (no int8 kernel): "
            "train with an upsample+conv decoder instead"
        )
    if "ConvInteger" in ops or (mode == "dynamic" and "Conv" in ops):
        tips.append("dynamic quantization of Conv makes ConvInteger, often slower: use static mode")
    if mode == "fp16":
        tips.append("the CPU provider has few fp16 kernels, so fp16 saves size, not time, on a CPU")
    try:
        advice = small_model_advice(model) if mode != "fp16" else None
    except EdgeAEError:  # a graph shape inference cannot read: keep the general tip
        advice = None
    tips.append(
        advice
        or "int8 pays off on wide layers: small models are dominated by quantize/dequantize "
        "overhead; widen the model or keep float"
    )
    return tuple(tips)


def _gate_tips(tips: tuple[str, ...]) -> tuple[str, ...]:
    """The first tip, and the small-model line (why int8 does not pay) when it is another."""
    small = [t for t in tips[1:] if t.startswith("int8 overhead per MAC")]
    return (tips[0], *small[:1])


def check_speed(
    float_model: onnx.ModelProto,
    quantized_model: onnx.ModelProto,
    *,
    mode: str,
    batches: Sequence[int] = (1, 256),
    allow_slower: bool = False,
    measure: Measure | None = None,
) -> SpeedReport:
    """Time both models; raise :class:`SpeedGateError` if the quantized one is not faster.

    The verdict is taken at the largest batch. ``allow_slower`` returns the
    report instead of raising (the caller still prints the warning).
    """
    measure = _default_measure if measure is None else measure
    fbytes, qbytes = float_model.SerializeToString(), quantized_model.SerializeToString()
    batches = tuple(sorted(set(int(b) for b in batches)))
    f_us = tuple(float(measure("float", fbytes, b)) for b in batches)
    q_us = tuple(float(measure("quantized", qbytes, b)) for b in batches)
    faster = q_us[-1] < f_us[-1]
    tips = () if faster else suggestions_for(quantized_model, mode)
    report = SpeedReport(batches, f_us, q_us, faster, tips)
    if not faster and not allow_slower:
        big = batches[-1]
        raise SpeedGateError(
            f"the {mode} model is not faster than float on this CPU at batch {big} "
            f"({q_us[-1]:.0f} µs vs {f_us[-1]:.0f} µs, speed-up {report.speedup(big):.2f}x); "
            f"not written. {'. '.join(_gate_tips(tips))}. Use `allow_slower` to write it anyway"
        )
    return report
