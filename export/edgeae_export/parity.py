"""Running ONNX models in onnxruntime and measuring how far they are from a reference.

The export's parity gate: each exported file is run on real validation items
and its outputs are compared with torch's; above the tolerance the export is
refused with a :class:`~edgeae_export.errors.ParityError`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
import onnxruntime as ort

from edgeae_runtime.session import ORT_ERRORS, first_line, open_session

from .errors import ExportError, ParityError

__all__ = ["ORT_ERRORS", "check_parity", "max_abs_error", "onnx_session", "run_onnx"]


#: Items per onnxruntime call when running a whole validation set.
CHUNK = 256


def onnx_session(model: onnx.ModelProto, *, name: str, threads: int = 1) -> ort.InferenceSession:
    """A CPU InferenceSession on an in-memory model; a model ORT refuses raises ExportError."""
    try:
        return open_session(model.SerializeToString(), threads=threads)
    except ORT_ERRORS as exc:
        raise ExportError(f"{name}: onnxruntime cannot load the model: {first_line(exc)}") from None


def run_onnx(
    session: ort.InferenceSession, feed_name: str, x: np.ndarray, *, chunk: int = CHUNK
) -> dict[str, np.ndarray]:
    """Run ``session`` on ``x`` in chunks along the batch axis; outputs by name, concatenated."""
    names = [o.name for o in session.get_outputs()]
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for start in range(0, len(x), chunk):
        batch = np.ascontiguousarray(x[start : start + chunk], dtype=np.float32)
        for n, value in zip(names, session.run(names, {feed_name: batch}), strict=True):
            parts[n].append(value)
    return {n: np.concatenate(v) for n, v in parts.items()}


def max_abs_error(actual: np.ndarray, expected: np.ndarray, *, what: str) -> float:
    """Largest absolute difference; a shape mismatch or non-finite value raises ParityError."""
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ParityError(f"{what}: onnxruntime output has shape {a.shape}, torch {e.shape}")
    if not np.isfinite(a).all():
        raise ParityError(f"{what}: onnxruntime output contains NaN or infinite values")
    return float(np.max(np.abs(a - e))) if a.size else 0.0


def check_parity(errors: Mapping[str, float], *, tolerance: float, samples: int) -> None:
    """Raise ParityError naming the worst output when any error exceeds ``tolerance``."""
    worst = max(errors, key=lambda k: errors[k])
    if errors[worst] > tolerance:
        raise ParityError(
            f"parity: {worst} differs from torch by {errors[worst]:.3g} (max abs error over "
            f"{samples} validation items), above the tolerance {tolerance:.3g}; nothing was "
            "written. Check the model for ops that export differently, or accept the "
            "difference with a larger `tolerance`"
        )
