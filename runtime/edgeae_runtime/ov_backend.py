"""The optional OpenVINO path: the same ONNX file (float or int8 QDQ) run by OpenVINO's CPU plugin.

Never required: ``pip install edgeae-runtime[openvino]`` adds the ``openvino``
package, and ``Model(path, providers=["openvino"])`` (or
:func:`~edgeae_runtime.session.open_session` with that provider) runs the file
through it. BENCHMARKS.md ("Peers") says on which models it was faster here; it
is a recommendation, picked by measurement, never a default.

:class:`OpenVINOSession` has the part of onnxruntime's ``InferenceSession``
interface the runtime uses (``get_inputs``, ``get_outputs``, ``get_modelmeta``,
``run``). The graph's names, shapes and the edgeae manifest come from an
onnxruntime session opened with optimizations off (cheap, never run); the
computation from OpenVINO, compiled once per input shape (static shapes are
OpenVINO's fast case), one thread per ``threads``, f32 precision for the parts
of the graph that are not int8.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ParameterError
from .manifest import ExecutionAdvice

__all__ = [
    "OPENVINO",
    "OpenVINOSession",
    "compare_providers",
    "openvino_version",
    "providers_text",
    "recommendation",
]

#: The provider name that selects this path (``providers=["openvino"]``).
OPENVINO = "openvino"
_MAX_SHAPES = 8  # compiled models kept per session (one per input shape seen)


def openvino_version() -> str | None:
    """The installed openvino version, or None when the extra is not installed."""
    try:
        import openvino as ov
    except ImportError:
        return None
    return str(ov.get_version()) if hasattr(ov, "get_version") else str(ov.__version__)


class OpenVINOSession:
    """An onnxruntime-session look-alike whose ``run`` is OpenVINO's (see the module doc)."""

    def __init__(self, model: str | Path, *, threads: int = 1) -> None:
        try:
            import openvino as ov
        except ImportError:
            raise ParameterError(
                "the openvino provider needs the openvino package: "
                "pip install edgeae-runtime[openvino]",
                param="providers",
            ) from None
        if not isinstance(model, (str, Path)):
            raise ParameterError("the openvino provider opens model files, not bytes",
                                 param="model")
        from .session import open_session

        self._meta = open_session(model, threads=threads, optimization="disable")
        self._core = ov.Core()
        self._model = self._core.read_model(str(model))
        self._config = {
            "INFERENCE_NUM_THREADS": int(threads),
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32",
        }
        self._inputs = [i.name for i in self._meta.get_inputs()]
        self._outputs = [o.name for o in self._meta.get_outputs()]
        self._compiled: OrderedDict[tuple, Any] = OrderedDict()

    def get_inputs(self) -> Any:
        return self._meta.get_inputs()

    def get_outputs(self) -> Any:
        return self._meta.get_outputs()

    def get_modelmeta(self) -> Any:
        return self._meta.get_modelmeta()

    def get_providers(self) -> list[str]:
        return [OPENVINO]

    def _request(self, shapes: tuple) -> Any:
        req = self._compiled.get(shapes)
        if req is None:
            model = self._model.clone()
            model.reshape({model.input(i): list(s) for i, s in enumerate(shapes)})
            req = self._core.compile_model(model, "CPU", self._config).create_infer_request()
            self._compiled[shapes] = req
            if len(self._compiled) > _MAX_SHAPES:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(shapes)
        return req

    def run(
        self, output_names: Sequence[str] | None, feed: Mapping[str, np.ndarray]
    ) -> list[np.ndarray]:
        """Outputs ``output_names`` (None: all) for ``feed`` {input name: array}."""
        arrays = [np.ascontiguousarray(feed[name], dtype=np.float32) for name in self._inputs]
        req = self._request(tuple(a.shape for a in arrays))
        req.infer({i: a for i, a in enumerate(arrays)})
        names = list(output_names) if output_names else self._outputs
        return [np.array(req.get_output_tensor(self._outputs.index(n)).data) for n in names]


def compare_providers(
    path: str | Path,
    batches: Sequence[int],
    *,
    threads: int = 1,
    budget_s: float = 0.5,
    rounds: int = 3,
) -> list[dict[str, Any]]:
    """onnxruntime vs this path on one file: ``rounds`` interleaved rounds per batch
    (``budget_s`` split over them); OpenVINO is recommended only when its median
    per-round speed-up is above 1.1 (within 10 % the default stays: one dependency less).
    Needs the extra (:class:`ParameterError` naming ``openvino`` otherwise)."""
    if openvino_version() is None:
        raise ParameterError(
            "needs the openvino package: pip install edgeae-runtime[openvino]", param="openvino"
        )
    from .bench import batch_latency
    from .model import Model

    ort_model = Model(path, threads=threads)
    ov_model = Model(path, threads=threads, providers=[OPENVINO])
    rows = []
    for batch in batches:
        a, b = [], []
        for _ in range(rounds):
            a.append(batch_latency(ort_model, batch, budget_s=budget_s / rounds).median_us)
            b.append(batch_latency(ov_model, batch, budget_s=budget_s / rounds).median_us)
        speedup = float(np.median([x / y for x, y in zip(a, b, strict=True)]))
        rows.append(
            {
                "batch": int(batch),
                "threads": int(threads),
                "onnxruntime_us": float(np.median(a)),
                "openvino_us": float(np.median(b)),
                "openvino_speedup": speedup,
                "recommended": OPENVINO if speedup > 1.1 else "onnxruntime",
            }
        )
    return rows


def recommendation(
    rows: Sequence[Mapping[str, Any]], *, machine: str = "", measured: str = ""
) -> ExecutionAdvice:
    """The manifest record of :func:`compare_providers`' verdict at its largest batch (the
    batch the caller measures last is the one it asks about: pass ``--batch 1`` for a stream)."""
    if not rows:
        raise ParameterError("no measurement to record", param="batch")
    row = max(rows, key=lambda r: r["batch"])
    return ExecutionAdvice(
        provider=row["recommended"],
        batch=int(row["batch"]),
        threads=int(row["threads"]),
        speedup=round(float(row["openvino_speedup"]), 4),
        machine=machine,
        measured=measured,
    )


def providers_text(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> str:
    """One line per batch: both times, the speed-up, which to use."""
    name = Path(path).name
    return "\n".join(
        f"{name}: batch {r['batch']}: onnxruntime {r['onnxruntime_us']:.0f} µs, openvino "
        f"{r['openvino_us']:.0f} µs ({r['openvino_speedup']:.2f}x): use {r['recommended']}"
        + (' (Model(path, providers=["openvino"]))' if r["recommended"] == OPENVINO else "")
        for r in rows
    )
