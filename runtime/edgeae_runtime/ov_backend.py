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

__all__ = ["OPENVINO", "OpenVINOSession", "openvino_version"]

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
