"""The one onnxruntime session factory: every InferenceSession edgeae creates comes from here.

Options are the same everywhere so a latency measured by the exporter's speed
gate, ``edgeae compare``, ``edgeae-rt bench`` and the benchmarks means one thing:
``threads`` intra-op threads, one inter-op thread, sequential execution, the CPU
provider, warnings silenced. ``optimization`` and ``optimized_path`` serve the
exporter, which saves the graph onnxruntime would run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as _ort_state

from .errors import ParameterError

__all__ = ["ORT_ERRORS", "batch_shape", "first_line", "open_session", "session_options"]

#: What onnxruntime raises for a model or input it refuses (its classes derive from Exception).
ORT_ERRORS: tuple[type[BaseException], ...] = (
    *(c for c in vars(_ort_state).values() if isinstance(c, type) and issubclass(c, Exception)),
    RuntimeError,
    ValueError,
)

_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}
Optimization = Literal["disable", "basic", "extended", "all"]


def session_options(
    threads: int = 1,
    *,
    optimization: Optimization | None = None,
    optimized_path: str | Path | None = None,
    profile_prefix: str | Path | None = None,
) -> ort.SessionOptions:
    """The edgeae session options (see the module docstring); ``None`` keeps ORT's default level.

    ``profile_prefix`` turns on onnxruntime's profiler (a JSON trace named from the
    prefix, returned by ``session.end_profiling()``; the host's performance model).

    ``threads`` is 1 to this machine's core count: onnxruntime given 100000 threads
    crashes the process (a segfault, not an error).
    """
    cores = os.cpu_count() or 1
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= cores:
        raise ParameterError(
            f"must be an integer from 1 to {cores} (the CPU cores here), got {threads!r}",
            param="threads",
        )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    if optimization is not None:
        opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _LEVELS[optimization])
    if optimized_path is not None:
        opts.optimized_model_filepath = str(optimized_path)
    if profile_prefix is not None:
        opts.enable_profiling = True
        opts.profile_file_prefix = str(profile_prefix)
    return opts


def open_session(
    model: str | Path | bytes,
    *,
    threads: int = 1,
    providers: Sequence[str] | None = None,
    optimization: Optimization | None = None,
    optimized_path: str | Path | None = None,
    profile_prefix: str | Path | None = None,
) -> ort.InferenceSession:
    """An InferenceSession on a file or serialized model; ORT's errors pass through
    (:data:`ORT_ERRORS`: callers turn them into their package's error class).
    ``providers=["openvino"]``: the optional OpenVINO path (:mod:`.ov_backend`)."""
    if providers is not None and list(providers) == ["openvino"]:
        from .ov_backend import OpenVINOSession

        return OpenVINOSession(model, threads=threads)  # type: ignore[return-value]
    opts = session_options(
        threads,
        optimization=optimization,
        optimized_path=optimized_path,
        profile_prefix=profile_prefix,
    )
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(
        source, sess_options=opts, providers=list(providers or ["CPUExecutionProvider"])
    )


def first_line(exc: BaseException) -> str:
    """The first line of an onnxruntime error (its messages run to pages)."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def batch_shape(session: ort.InferenceSession, batch: int) -> list[int]:
    """The shape of a batch of ``batch`` items for the session's first input: the graph's
    dimensions, and where one is symbolic (an image model's spatial axes) the item's by
    the model's manifest (its latent's for a decoder), else 1. What a benchmark or a
    profile feeds the model."""
    from .manifest import input_shape_of

    dims = list(session.get_inputs()[0].shape[1:])
    item: tuple[int, ...] = ()
    if not all(isinstance(d, int) for d in dims):
        item = input_shape_of(session.get_modelmeta().custom_metadata_map) or ()
    if len(item) != len(dims):
        item = (1,) * len(dims)
    return [batch, *(d if isinstance(d, int) else i for d, i in zip(dims, item, strict=True))]
