"""Per-node error for a comparison: the quantizer's own ranking (``node_error``), applied to A/B.

Only meaningful when B is a QDQ-quantized version of A (same tensor names); in
any other case the caller gets an empty list and a note saying why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from edgeae_runtime.errors import EdgeAEError
from edgeae_runtime.manifest import Preprocessing
from edgeae_runtime.preprocess import normalize

from ..node_error import NodeError
from ..node_error import node_errors as rank_node_errors

__all__ = ["is_qdq", "node_errors"]

#: Items fed through both models (every intermediate tensor of each is kept in memory).
NODE_ITEMS = 128
_BATCH = 64


def is_qdq(model: onnx.ModelProto) -> bool:
    """True when the graph holds QuantizeLinear/DequantizeLinear pairs (static QDQ int8)."""
    return any(n.op_type == "DequantizeLinear" for n in model.graph.node)


def node_errors(
    a_path: str | Path,
    b_path: str | Path,
    preprocessing: Preprocessing,
    x: np.ndarray,
    *,
    items: int = NODE_ITEMS,
) -> tuple[list[NodeError], str | None]:
    """``(nodes worst first, note)``: SQNR of each of A's activations in B, on raw items ``x``."""
    b = onnx.load(str(b_path), load_external_data=False)
    if not is_qdq(b):
        return [], (
            f"per-node error skipped: {Path(b_path).name} has no QDQ nodes "
            "(it is meaningful for a static int8 QDQ version of A)"
        )
    a = onnx.load(str(a_path))
    name = a.graph.input[0].name
    xn = normalize(x[:items], preprocessing)
    feeds = [{name: xn[i : i + _BATCH]} for i in range(0, xn.shape[0], _BATCH)]
    try:
        ranked = rank_node_errors(a, str(b_path), feeds)
    except (EdgeAEError, ValueError, KeyError, RuntimeError) as exc:
        return [], f"per-node error skipped: {exc}"
    if not ranked:
        return [], "per-node error: no quantizable node of A matched a tensor of B"
    return ranked, None
