"""Offline graph optimization with onnxruntime's own optimizer, kept portable.

onnxruntime saves the graph it would run when ``SessionOptions.optimized_model_filepath``
is set. edgeae uses the *basic* level only: constant folding, redundant node
elimination and Conv+Add/Mul/BatchNorm fusions, all in standard ONNX ops, so the
result still loads in any runtime and still quantizes. The extended and all
levels emit onnxruntime-only contrib ops tied to one build and CPU, which is
what onnxruntime's own docs advise against saving.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import onnx

from edgeae_runtime.session import ORT_ERRORS, first_line, open_session

from .errors import ExportError

__all__ = ["optimize_model"]


def optimize_model(model: onnx.ModelProto, *, name: str = "model") -> onnx.ModelProto:
    """``model`` after onnxruntime's basic offline optimizations (opset and IR kept)."""
    with tempfile.TemporaryDirectory(prefix="edgeae-opt-") as tmp:
        target = Path(tmp) / "optimized.onnx"
        try:
            open_session(model.SerializeToString(), optimization="basic", optimized_path=target)
        except ORT_ERRORS as exc:
            raise ExportError(
                f"{name}: onnxruntime cannot optimize the graph: {first_line(exc)}"
            ) from None
        optimized = onnx.load(str(target))
    optimized.ir_version = model.ir_version
    optimized.producer_name = model.producer_name
    optimized.producer_version = model.producer_version
    del optimized.metadata_props[:]
    return optimized
