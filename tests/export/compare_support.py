"""Test support for the comparison: a QDQ int8 copy of a tiny float model, and a way to break it.

The float models come from ``tests/export/quantize/models.py`` (every node named).
Quantization here calls onnxruntime directly, so these tests do not depend on the
quantizer's own choices; :func:`break_activation` coarsens one activation's
quantization scale, the deliberate fault the per-node report must find.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_static,
)

from edgeae_runtime import Manifest
from edgeae_runtime.manifest import MANIFEST_KEY, QuantizationSpec
from edgeae_runtime.model import Model
from edgeae_runtime.preprocess import normalize

__all__ = ["break_activation", "copy_codec", "labeled_data", "quantize_qdq"]


class _Reader(CalibrationDataReader):
    def __init__(self, name: str, xn: np.ndarray) -> None:
        self._it = iter([{name: xn[i : i + 32]} for i in range(0, xn.shape[0], 32)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def quantize_qdq(src: Path, dst: Path, data: np.ndarray) -> Path:
    """Static QDQ int8 (S8S8, per tensor) of ``src`` calibrated on raw ``data``, manifest kept."""
    manifest = Model(src).manifest
    name = manifest.inputs[0].name
    reader = _Reader(name, normalize(data, manifest.preprocessing))
    quantize_static(
        str(src),
        str(dst),
        reader,
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
    )
    q = manifest.replace(
        quantization=QuantizationSpec(mode="static", weight_type="int8", activation_type="int8")
    )
    _set_manifest(dst, q)
    return dst


def _set_manifest(path: Path, manifest: Manifest) -> None:
    model = onnx.load(str(path))
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, {MANIFEST_KEY: manifest.to_json()})
    onnx.save(model, str(path))


def break_activation(qdq_path: Path, tensor: str, factor: float = 64.0) -> None:
    """Multiply the quantization scale of activation ``tensor`` by ``factor`` (coarse steps)."""
    model = onnx.load(str(qdq_path))
    inits = {t.name: t for t in model.graph.initializer}
    q = next(n for n in model.graph.node if n.op_type == "QuantizeLinear" and n.input[0] == tensor)
    scale = inits[q.input[1]]
    scale.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(scale) * factor, scale.name))
    onnx.save(model, str(qdq_path))


def copy_codec(directory: Path, tag: str) -> None:
    """Give ``model.<tag>.onnx`` its codec pair (a copy of the float one) for the codec lookup."""
    for role in ("encoder", "decoder"):
        shutil.copy(directory / f"{role}.onnx", directory / f"{role}.{tag}.onnx")


def labeled_data(
    x: np.ndarray, fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Corrupt a ``fraction`` of the items (random spikes) and label them 1."""
    rng = np.random.default_rng(seed)
    x = x.copy()
    labels = np.zeros(x.shape[0], dtype=np.int64)
    bad = rng.choice(x.shape[0], int(fraction * x.shape[0]), replace=False)
    x[bad] += rng.normal(0, 1.5, size=x[bad].shape).astype(np.float32)
    labels[bad] = 1
    return x, labels
