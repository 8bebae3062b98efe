"""Per-node quantization error: which nodes of a QDQ model lose the most accuracy.

onnxruntime's ``qdq_loss_debug`` collects every intermediate tensor of the
float and the QDQ model on the same inputs and gives, per tensor, the SQNR
(signal-to-quantization-noise ratio, dB) between them. This module turns that
into a ranking of *nodes*: a node's harm is how much SQNR it loses between its
activation inputs and its output (its own weights and output quantization),
so the accuracy budget can keep the most harmful nodes in float. ``edgeae
compare`` reuses it for its per-node report.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization.qdq_loss_debug import (
    collect_activations,
    compute_activation_error,
    create_activation_matching,
    modify_model_output_intermediate_tensors,
)

from .errors import QuantizationError

__all__ = ["QUANTIZABLE_OPS", "NodeError", "node_errors", "rank_nodes"]

#: Op types whose quantization can cost accuracy (and which exclusion can fix).
QUANTIZABLE_OPS = frozenset(
    {
        "Conv",
        "ConvTranspose",
        "Gemm",
        "MatMul",
        "Add",
        "Mul",
        "Sigmoid",
        "Resize",
        "Concat",
        "AveragePool",
        "MaxPool",
        "GlobalAveragePool",
        "LeakyRelu",
        "Gather",
        "Softmax",
    }
)

#: Ops whose output QDQ onnxruntime folds into the producer's (measured after them).
_PASS_THROUGH = frozenset({"Relu", "Clip", "LeakyRelu", "Reshape", "Flatten", "Squeeze"})
_CAP = 60.0  # dB: treat anything above as exact, so inf never enters arithmetic


@dataclass(frozen=True)
class NodeError:
    """One node's quantization error: SQNR (dB) of its output vs float, and its own loss."""

    name: str
    op_type: str
    output: str
    sqnr_db: float  # float output vs QDQ output, accumulated from the graph input
    input_sqnr_db: float  # the same for its worst activation input
    harm_db: float  # input_sqnr_db - sqnr_db: the SQNR this node itself loses

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "op_type": self.op_type,
            "output": self.output,
            "sqnr_db": round(self.sqnr_db, 3),
            "input_sqnr_db": round(self.input_sqnr_db, 3),
            "harm_db": round(self.harm_db, 3),
        }


def _finite(value: float) -> float:
    return _CAP if not math.isfinite(value) or value > _CAP else float(value)


def node_errors(
    float_model: onnx.ModelProto | str | Path,
    qdq_model: onnx.ModelProto | str | Path,
    feeds: Iterable[Mapping[str, np.ndarray]],
) -> list[NodeError]:
    """Rank the float model's quantizable nodes by the SQNR they lose in ``qdq_model``.

    ``feeds`` are model-space input dicts (a few batches are enough; every
    intermediate tensor of every batch is kept in memory). Most harmful first.
    """
    feeds = [dict(f) for f in feeds]
    if not feeds:
        raise QuantizationError("per-node error: no input data to compare the models on")
    with tempfile.TemporaryDirectory(prefix="edgeae-node-error-") as tmp:
        paths = []
        for tag, model in (("float", float_model), ("qdq", qdq_model)):
            src = Path(tmp) / f"{tag}.onnx"
            if isinstance(model, onnx.ModelProto):
                onnx.save(model, src)
            else:
                src = Path(model)
            aug = Path(tmp) / f"{tag}.aug.onnx"
            modify_model_output_intermediate_tensors(str(src), str(aug))
            paths.append(aug)
        float_acts = collect_activations(str(paths[0]), iter(feeds))
        qdq_acts = collect_activations(str(paths[1]), iter(feeds))
    matching = create_activation_matching(qdq_acts, float_acts)
    errors = {
        name: _finite(err["xmodel_err"])
        for name, err in compute_activation_error(matching).items()
        if "xmodel_err" in err
    }
    graph = float_model if isinstance(float_model, onnx.ModelProto) else onnx.load(str(float_model))
    return rank_nodes(graph, errors)


def rank_nodes(model: onnx.ModelProto, tensor_sqnr: Mapping[str, float]) -> list[NodeError]:
    """Turn per-tensor SQNR into per-node harm on ``model``'s quantizable nodes, worst first."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for t in node.input:
            consumers.setdefault(t, []).append(node)

    def measured(tensor: str) -> str | None:
        """``tensor`` or, through a removable activation (Relu...), where it was measured."""
        for _ in range(4):
            if tensor in tensor_sqnr:
                return tensor
            nxt = consumers.get(tensor, [])
            if len(nxt) != 1 or nxt[0].op_type not in _PASS_THROUGH:
                return None
            tensor = nxt[0].output[0]
        return None

    out: list[NodeError] = []
    for node in model.graph.node:
        if node.op_type not in QUANTIZABLE_OPS or not node.name:
            continue
        outputs = [m for m in (measured(t) for t in node.output) if m is not None]
        if not outputs:
            # never measured (e.g. kept float): rank last, so exhausting the list is exact
            out.append(NodeError(node.name, node.op_type, node.output[0], _CAP, _CAP, 0.0))
            continue
        sqnr = min(tensor_sqnr[t] for t in outputs)
        ins = [tensor_sqnr[t] for t in node.input if t in tensor_sqnr]
        in_sqnr = min(ins) if ins else _CAP
        out.append(
            NodeError(node.name, node.op_type, outputs[0], sqnr, in_sqnr, max(0.0, in_sqnr - sqnr))
        )
    out.sort(key=lambda e: (-e.harm_db, e.sqnr_db, e.name))
    return out
