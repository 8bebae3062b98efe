"""The performance model of a graph: MACs per node, achieved GMAC/s, share of this CPU's peak.

Three measurements, taken in one run so their ratios mean something on a busy
machine:

- :func:`count_macs` counts multiply-accumulates per item from the ONNX graph
  (onnx shape inference at batch 1) for Conv (grouped/depthwise included),
  ConvTranspose, Gemm, MatMul and their quantized forms (QLinearConv,
  ConvInteger, QLinearMatMul, MatMulInteger, QGemm, a QDQ-wrapped float op);
- :func:`measure_peak` times a practical peak through onnxruntime, one thread:
  ``n x n x n`` uint8 x int8 MatMulInteger and fp32 MatMul built with
  ``onnx.helper`` (n = 256 and 1024: from cache and from memory);
- :func:`profile_nodes` reads onnxruntime's profiler trace (per-node kernel
  time) and maps the nodes onnxruntime runs (``conv0_token_1`` QLinearConv...)
  back to the graph's nodes.

:func:`performance_model` joins them: per node op, MACs, time share, GMAC/s,
and for the model MACs per item, GMAC/s and the share of the matching peak.
:func:`small_model_advice` is the one line that says why an int8 model is not
faster than float (QDQ overhead per MAC) and what to do instead.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime.manifest import input_shape_of
from edgeae_runtime.session import ORT_ERRORS, batch_shape, first_line, open_session

from .bench import measure_callable, measure_onnx
from .errors import ExportError

__all__ = [
    "INT8_EXECUTED_OPS",
    "MAC_OPS",
    "QDQ_INTENSITY_MIN",
    "NodeMacs",
    "NodeProfile",
    "NodeTime",
    "Peak",
    "PerfModel",
    "count_macs",
    "measure_peak",
    "parse_profile",
    "performance_model",
    "profile_nodes",
    "qdq_intensity",
    "small_model_advice",
]

#: Op types whose multiply-accumulates are counted (float, integer and QLinear forms).
MAC_OPS = frozenset(
    {
        "Conv",
        "FusedConv",
        "ConvInteger",
        "QLinearConv",
        "ConvTranspose",
        "Gemm",
        "FusedGemm",
        "QGemm",
        "MatMul",
        "FusedMatMul",
        "MatMulInteger",
        "QLinearMatMul",
        "DynamicQuantizeMatMul",
        "MatMulIntegerToFloat",
    }
)

#: Ops onnxruntime runs on 8-bit integers: their time counts against the int8 peak.
INT8_EXECUTED_OPS = frozenset(
    {
        "QLinearConv",
        "ConvInteger",
        "QGemm",
        "MatMulInteger",
        "QLinearMatMul",
        "DynamicQuantizeMatMul",
        "MatMulIntegerToFloat",
        "NhwcQLinearConv",
    }
)

_QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})

#: MACs per quantized activation value from which int8 QDQ beat fp32 here, every wider
#: layer too (3-layer conv1d sweep, 1 thread, batch 64, 3 interleaved rounds: 27 -> 0.71x,
#: 36 -> 1.9x; benchmarks/bench_perf_model.py, BENCHMARKS.md).
QDQ_INTENSITY_MIN = 36.0

# (input index of the data tensor, of the weight tensor) per op type.
_OPERANDS = {
    "Conv": (0, 1),
    "FusedConv": (0, 1),
    "ConvInteger": (0, 1),
    "QLinearConv": (0, 3),
    "ConvTranspose": (0, 1),
    "Gemm": (0, 1),
    "FusedGemm": (0, 1),
    "QGemm": (0, 3),
    "MatMul": (0, 1),
    "FusedMatMul": (0, 1),
    "MatMulInteger": (0, 1),
    "QLinearMatMul": (0, 3),
    "DynamicQuantizeMatMul": (0, 1),
    "MatMulIntegerToFloat": (0, 1),
}


@dataclass(frozen=True)
class NodeMacs:
    """One MAC-carrying node of the graph: multiply-accumulates per item (None: shapes unknown)."""

    name: str
    op: str
    macs: int | None
    int8: bool  # a quantized op, or a float op wrapped in DequantizeLinear (QDQ)


def _as_model(model: onnx.ModelProto | str | Path | bytes) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    where = "model" if isinstance(model, bytes) else str(model)
    try:
        if isinstance(model, bytes):
            return onnx.load_from_string(model)
        return onnx.load(str(model))
    except OSError as exc:
        raise ExportError(f"{where}: cannot read it ({exc})", param="model") from None
    except Exception as exc:  # protobuf's DecodeError and onnx's errors
        raise ExportError(
            f"{where}: not an ONNX model ({first_line(exc)})", param="model"
        ) from None


def _model_bytes(model: onnx.ModelProto | str | Path | bytes) -> bytes:
    if isinstance(model, bytes):
        return model
    if isinstance(model, onnx.ModelProto):
        return model.SerializeToString()
    return Path(model).read_bytes()


def _at_batch_one(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose graph inputs have a batch of 1 (the first axis, when symbolic) and one
    item of the manifest's size (an image model's spatial axes take any size: its MACs are
    counted per item, the size it was trained on)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inits = {i.name for i in m.graph.initializer}
    item = input_shape_of({p.key: p.value for p in m.metadata_props})
    for inp in m.graph.input:
        if inp.name in inits or not inp.type.HasField("tensor_type"):
            continue
        dims = inp.type.tensor_type.shape.dim
        size = (1, *item) if item is not None and len(item) + 1 == len(dims) else (1,)
        for dim, value in zip(dims, size, strict=False):
            if not dim.HasField("dim_value"):
                dim.Clear()
                dim.dim_value = value
    return m


def _shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...] | None]:
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception:  # an op shape inference does not know: keep what the file says
        inferred = model
    g = inferred.graph
    shapes: dict[str, tuple[int, ...] | None] = {}
    for vi in [*g.input, *g.value_info, *g.output]:
        if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
            continue
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = (
            tuple(int(d.dim_value) for d in dims)
            if all(d.HasField("dim_value") for d in dims)
            else None
        )
    for init in g.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes


def _attr(node: onnx.NodeProto, name: str, default: Any) -> Any:
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _node_macs(node: onnx.NodeProto, shapes: dict, out_shape: tuple[int, ...] | None) -> int | None:
    i_x, i_w = _OPERANDS[node.op_type]
    if len(node.input) <= max(i_x, i_w):
        return None
    x, w = shapes.get(node.input[i_x]), shapes.get(node.input[i_w])
    op = node.op_type
    if op in ("Conv", "FusedConv", "ConvInteger", "QLinearConv"):
        if w is None or out_shape is None or len(out_shape) < 2:
            return None
        # weight (M, C/group, *kernel): each output value costs C/group * prod(kernel) MACs
        return math.prod(out_shape[1:]) * math.prod(w[1:])
    if op == "ConvTranspose":
        if w is None or x is None or len(x) < 2:
            return None
        # weight (C, M/group, *kernel): each input value scatters into M/group * prod(kernel)
        return math.prod(x[1:]) * math.prod(w[1:])
    if op in ("Gemm", "FusedGemm", "QGemm"):
        if x is None or w is None or len(x) != 2 or len(w) != 2:
            return None
        # rows of A are items: K x N MACs per item
        k = x[0] if _attr(node, "transA", 0) else x[1]
        n = w[0] if _attr(node, "transB", 0) else w[1]
        return k * n
    # MatMul family: numpy semantics, out (items, ..., N), K from A's last axis
    if x is None or out_shape is None or not x:
        return None
    per_item = out_shape[1:] if len(out_shape) >= 2 else out_shape
    return math.prod(per_item) * x[-1]


def count_macs(model: onnx.ModelProto | str | Path | bytes) -> tuple[NodeMacs, ...]:
    """Multiply-accumulates per item of every MAC-carrying node, in graph order.

    Shapes come from onnx shape inference with a symbolic batch axis set to 1; the
    first axis is the item axis (Conv's N, Gemm's rows), so a file with a fixed batch
    counts per item too. A node whose shapes cannot be inferred has
    ``macs=None``. A float Conv/Gemm/MatMul whose data or weight comes from a
    DequantizeLinear is a QDQ node (``int8=True``).
    """
    m = _at_batch_one(_as_model(model))
    shapes = _shapes(m)
    producer = {o: n for n in m.graph.node for o in n.output}
    out: list[NodeMacs] = []
    for node in m.graph.node:
        if node.op_type not in MAC_OPS:
            continue
        i_x, i_w = _OPERANDS[node.op_type]
        int8 = node.op_type in INT8_EXECUTED_OPS or any(
            getattr(producer.get(node.input[i]), "op_type", "") == "DequantizeLinear"
            for i in (i_x, i_w)
            if i < len(node.input)
        )
        out_shape = shapes.get(node.output[0]) if node.output else None
        macs = _node_macs(node, shapes, out_shape)
        out.append(NodeMacs(node.name or node.output[0], node.op_type, macs, int8))
    return tuple(out)


def qdq_intensity(model: onnx.ModelProto | str | Path | bytes) -> float | None:
    """MACs per item divided by the activation values quantized per item (QuantizeLinear
    outputs that are not weights): the work int8 gets to amortize each quantize/dequantize.
    ``None`` when the graph has no quantized activation or no countable MACs."""
    m = _at_batch_one(_as_model(model))
    shapes = _shapes(m)
    inits = {i.name for i in m.graph.initializer}
    values = 0
    for node in m.graph.node:
        if node.op_type == "QuantizeLinear" and node.input and node.input[0] not in inits:
            s = shapes.get(node.output[0])
            if s is not None:
                values += math.prod(s)
    macs = sum(n.macs or 0 for n in count_macs(m))
    if values == 0 or macs == 0:
        return None
    return macs / values


# --- the practical peak ------------------------------------------------------------------


@dataclass(frozen=True)
class Peak:
    """The practical peak: the best GMAC/s of square GEMMs through onnxruntime on this CPU,
    int8 (uint8 x int8 MatMulInteger) and fp32 (MatMul), over the probed sizes ``sizes``.

    On this machine a 1024-cube GEMM runs from memory and a 256-cube one from cache
    (about 2x apart in int8), so both are probed and the best is the peak.
    """

    sizes: tuple[int, ...]
    threads: int
    int8_gmacs: float
    fp32_gmacs: float
    int8_by_size: tuple[float, ...]
    fp32_by_size: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _gemm_probe(n: int, int8: bool) -> tuple[bytes, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    if int8:
        b = rng.integers(-127, 128, size=(n, n), dtype=np.int8)
        nodes = [helper.make_node("MatMulInteger", ["a", "b", "a_zp", "b_zp"], ["y"], name="probe")]
        inits = [
            numpy_helper.from_array(b, "b"),
            numpy_helper.from_array(np.array(128, np.uint8), "a_zp"),
            numpy_helper.from_array(np.array(0, np.int8), "b_zp"),
        ]
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
        feed = {"a": rng.integers(0, 256, size=(n, n), dtype=np.uint8)}
    else:
        nodes = [helper.make_node("MatMul", ["a", "b"], ["y"], name="probe")]
        inits = [numpy_helper.from_array(rng.standard_normal((n, n)).astype(np.float32), "b")]
        a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
        feed = {"a": rng.standard_normal((n, n)).astype(np.float32)}
    graph = helper.make_graph(
        nodes,
        "gemm_probe",
        [helper.make_tensor_value_info("a", a_type, [n, n])],
        [helper.make_tensor_value_info("y", y_type, [n, n])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString(), feed


def measure_peak(
    sizes: Sequence[int] = (256, 1024), *, threads: int = 1, budget_s: float = 0.4
) -> Peak:
    """Time an ``n``-cube uint8 x int8 MatMulInteger and fp32 MatMul for each ``n`` in
    ``sizes`` (median, ``threads`` threads); the best rate of each type is the peak."""
    sizes = tuple(sizes)
    if not sizes or any(
        isinstance(n, bool) or not isinstance(n, int) or not 8 <= n <= 4096 for n in sizes
    ):
        raise ExportError(f"must be integers from 8 to 4096, got {sizes!r}", param="sizes")
    rates: dict[bool, list[float]] = {True: [], False: []}
    for n in sizes:
        for int8 in (True, False):
            data, feed = _gemm_probe(n, int8)
            sess = open_session(data, threads=threads)
            lat = measure_callable(lambda s=sess, f=feed: s.run(None, f), budget_s=budget_s)
            rates[int8].append(n**3 / (lat.median_us * 1e3))
    return Peak(
        sizes=sizes,
        threads=threads,
        int8_gmacs=max(rates[True]),
        fp32_gmacs=max(rates[False]),
        int8_by_size=tuple(rates[True]),
        fp32_by_size=tuple(rates[False]),
    )


# --- the profiler ------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeTime:
    """One node onnxruntime ran: its name there, the op it ran, mean µs per run."""

    name: str
    op: str
    us_per_run: float  # median over the runs
    runs: int
    inputs: tuple[str, ...] = ()  # tensors of the executed node (onnxruntime's optimized graph)
    outputs: tuple[str, ...] = ()


def parse_profile(
    events: Sequence[dict[str, Any]] | str | Path, *, skip_runs: int = 1
) -> tuple[NodeTime, ...]:
    """Per-node kernel time from an onnxruntime profile (the JSON list ``end_profiling``
    writes, or its path): each node's median over runs of its kernel time in that run.
    The first ``skip_runs`` runs (warm-up) are left out; a run is one ``model_run``
    event. Nodes are returned in execution order."""
    if isinstance(events, (str, Path)):
        try:
            events = json.loads(Path(events).read_text())
        except (OSError, ValueError) as exc:
            raise ExportError(
                f"{events}: not an onnxruntime profile ({exc})", param="profile"
            ) from None
    if not isinstance(events, list):
        raise ExportError("an onnxruntime profile is a JSON list of events", param="profile")
    runs = sorted(
        (float(e["ts"]), float(e["ts"]) + float(e.get("dur", 0)))
        for e in events
        if isinstance(e, dict) and e.get("name") == "model_run" and "ts" in e
    )
    kept = runs[skip_runs:] if len(runs) > skip_runs else runs
    if not kept:
        raise ExportError("the onnxruntime profile has no model run", param="profile")
    starts = [r[0] for r in kept]
    per_run: dict[str, list] = {}  # node -> [op, per-run µs list]
    for e in events:
        if not isinstance(e, dict) or e.get("cat") != "Node":
            continue
        name = str(e.get("name", ""))
        ts = float(e.get("ts", 0))
        if not name.endswith("_kernel_time") or ts < starts[0]:
            continue
        i = bisect.bisect_right(starts, ts) - 1
        if ts > kept[i][1]:
            continue  # between runs (not part of a kept model_run)
        node = name[: -len("_kernel_time")]
        op = str((e.get("args") or {}).get("op_name", "?"))
        entry = per_run.setdefault(node, [op, [0.0] * len(kept)])
        entry[1][i] += float(e.get("dur", 0))
    # the median run of each node: robust to a busy machine's outliers
    return tuple(
        NodeTime(n, op, float(np.median(us)), len(kept)) for n, (op, us) in per_run.items()
    )


def profile_nodes(
    model: onnx.ModelProto | str | Path | bytes,
    batch: int,
    *,
    runs: int = 10,
    threads: int = 1,
    seed: int = 0,
) -> tuple[NodeTime, ...]:
    """Run ``model`` ``runs + 1`` times on a random batch with the profiler on; per-node
    time of the last ``runs`` (the first is warm-up)."""
    data = _model_bytes(model)
    with tempfile.TemporaryDirectory(prefix="edgeae-profile-") as tmp:
        try:
            sess = open_session(data, threads=threads, profile_prefix=os.path.join(tmp, "p"))
        except ORT_ERRORS as exc:
            raise ExportError(
                f"onnxruntime cannot open the model: {first_line(exc)}", param="model"
            ) from None
        feed = {}
        rng = np.random.default_rng(seed)
        for inp in sess.get_inputs():  # one input: an autoencoder's graph
            feed[inp.name] = rng.standard_normal(batch_shape(sess, batch)).astype(np.float32)
        try:
            for _ in range(max(1, runs) + 1):
                sess.run(None, feed)
        except ORT_ERRORS as exc:
            raise ExportError(
                f"onnxruntime cannot run the model on a float32 batch: {first_line(exc)}",
                param="model",
            ) from None
        path = sess.end_profiling()
        times = parse_profile(path, skip_runs=1)
        named, unnamed = _executed_nodes(data, threads, tmp)
    out = []
    for t in times:
        io = named.get(t.name)
        if io is None and unnamed.get(t.op):
            io = unnamed[t.op].pop(0)  # the saved graph drops generated names: match in order
        out.append(dataclasses.replace(t, inputs=io[0], outputs=io[1]) if io else t)
    return tuple(out)


def _executed_nodes(data: bytes, threads: int, tmp: str) -> tuple[dict, dict]:
    """(name -> (inputs, outputs), op -> [(inputs, outputs) of unnamed nodes, in order]) of
    the graph onnxruntime runs (its saved optimized form)."""
    target = os.path.join(tmp, "optimized.onnx")
    try:
        open_session(data, threads=threads, optimized_path=target)
        graph = onnx.load(target).graph
    except (*ORT_ERRORS, OSError):  # some layouts cannot be saved: names alone then
        return {}, {}
    named: dict[str, tuple] = {}
    unnamed: dict[str, list] = {}
    for n in graph.node:
        io = (tuple(n.input), tuple(n.output))
        if n.name:
            named[n.name] = io
        else:
            unnamed.setdefault(n.op_type, []).append(io)
    return named, unnamed


_SUFFIX = re.compile(r"(_token_\d+|_nchwc|_nhwc|_fused.*|_Fused.*)$")


def _graph_node_for(run_name: str, names: Sequence[str]) -> str | None:
    """The graph node an executed node came from: the same name, or the name before
    onnxruntime's suffixes (``conv0_token_1``), or the longest graph name it starts with."""
    name_set = set(names)
    if run_name in name_set:
        return run_name
    stripped = run_name
    while True:
        s = _SUFFIX.sub("", stripped)
        if s == stripped:
            break
        stripped = s
    if stripped in name_set:
        return stripped
    prefixes = [n for n in names if n and run_name.startswith(n + "_")]
    return max(prefixes, key=len) if prefixes else None


def _covered_mac_nodes(
    t: NodeTime, producer: dict[str, onnx.NodeProto], mac_names: set[str]
) -> list[str]:
    """The graph's MAC nodes an executed (fused) node computes: walking back from its
    outputs through the original graph until its inputs, the MAC nodes passed."""
    stop = set(t.inputs)
    seen: set[str] = set()
    found: list[str] = []
    todo = [o for o in t.outputs if o in producer]
    while todo and len(seen) < 64:
        node = producer[todo.pop()]
        key = node.name or node.output[0]
        if key in seen:
            continue
        seen.add(key)
        if key in mac_names:
            found.append(key)
        todo.extend(i for i in node.input if i in producer and i not in stop)
    return found


# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeProfile:
    """One row of the performance table (a graph node, or an executed node with no MACs)."""

    name: str
    op: str  # the op onnxruntime ran (QLinearConv for a QDQ Conv)
    macs: int  # per item
    time_share: float  # of the summed node time
    kernel_us_per_item: float  # profiler kernel time (the profiler slows a run down)
    gmacs: float | None  # MACs / kernel time; None for nodes without MACs
    int8: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class PerfModel:
    """MACs, achieved GMAC/s and share of the practical peak of one model at one batch."""

    path: str
    batch: int
    macs_per_item: int
    us_per_item: float  # measured without the profiler (median call / batch)
    kernel_us_per_item: float  # the profiled run's summed node time per item
    gmacs: float
    precision: str  # "int8" when most MACs run on int8 kernels, else "fp32"
    peak: Peak
    share_of_peak: float  # gmacs / the peak of `precision`
    qdq_share: float  # time share of QuantizeLinear/DequantizeLinear nodes
    layout_share: float  # time share of Transpose / Reorder* nodes onnxruntime inserted
    nodes: tuple[NodeProfile, ...]  # by time, largest first
    unmapped_macs: int  # MACs of graph nodes the profile did not name (fused away)
    intensity: float | None  # MACs per quantized activation value (int8 models)
    advice: str | None  # why int8 does not pay here, for small QDQ models

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def performance_model(
    model: str | Path | bytes | onnx.ModelProto,
    *,
    batch: int = 256,
    threads: int = 1,
    budget_s: float = 0.5,
    runs: int = 10,
    peak: Peak | None = None,
) -> PerfModel:
    """Count MACs, time the model (median, profiler off), profile its nodes and set
    both against the practical peak (measured now unless ``peak`` is given)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ExportError(f"must be an integer >= 1, got {batch!r}", param="batch")
    proto = _as_model(model)
    data = proto.SerializeToString()
    path = str(model) if isinstance(model, (str, Path)) else "<model>"
    macs_nodes = count_macs(proto)
    total = sum(n.macs or 0 for n in macs_nodes)
    try:
        lat = measure_onnx(data, batch, threads=threads, budget_s=budget_s)
    except ORT_ERRORS as exc:
        raise ExportError(
            f"{path}: onnxruntime cannot run it: {first_line(exc)}", param="model"
        ) from None
    times = profile_nodes(data, batch, runs=runs, threads=threads)
    peak = peak if peak is not None else measure_peak(threads=threads, budget_s=budget_s)

    by_name = {n.name: n for n in macs_nodes}
    names = [n.name for n in proto.graph.node if n.name]
    total_us = sum(t.us_per_run for t in times) or 1e-9
    rows: dict[str, list] = {}
    producer = {o: n for n in proto.graph.node for o in n.output}
    for t in times:
        graph_name = _graph_node_for(t.name, names)
        if graph_name not in by_name and t.op in MAC_OPS | INT8_EXECUTED_OPS:
            covered = _covered_mac_nodes(t, producer, set(by_name))
            graph_name = covered[0] if len(covered) == 1 else graph_name
        key = graph_name if graph_name in by_name else t.name
        row = rows.setdefault(key, [t.op, 0.0])
        if t.op in MAC_OPS | INT8_EXECUTED_OPS and row[0] not in MAC_OPS | INT8_EXECUTED_OPS:
            row[0] = t.op  # a graph node run as several kernels is named by its MAC kernel
        row[1] += t.us_per_run
    nodes = []
    int8_macs = 0
    for key, (op, us) in rows.items():
        m = by_name.get(key)
        macs = (m.macs or 0) if m is not None else 0
        int8 = op in INT8_EXECUTED_OPS
        if int8:
            int8_macs += macs
        gm = macs * batch / (us * 1e3) if macs and us > 0 else None
        nodes.append(NodeProfile(key, op, macs, us / total_us, us / batch, gm, int8))
    nodes.sort(key=lambda r: -r.time_share)
    mapped = {r.name for r in nodes}
    unmapped = sum((n.macs or 0) for n in macs_nodes if n.name not in mapped)
    precision = "int8" if total and int8_macs * 2 >= total else "fp32"
    us_item = lat.median_us / batch
    gmacs = total / (us_item * 1e3) if us_item > 0 else 0.0
    ref = peak.int8_gmacs if precision == "int8" else peak.fp32_gmacs
    qdq = sum(r.time_share for r in nodes if r.op in _QDQ_OPS)
    layout = sum(r.time_share for r in nodes if r.op == "Transpose" or r.op.startswith("Reorder"))
    quantized = any(n.int8 for n in macs_nodes)
    intensity = qdq_intensity(proto) if quantized else None
    return PerfModel(
        path=path,
        batch=batch,
        macs_per_item=total,
        us_per_item=us_item,
        gmacs=gmacs,
        precision=precision,
        peak=peak,
        share_of_peak=gmacs / ref if ref > 0 else 0.0,
        qdq_share=qdq,
        layout_share=layout,
        kernel_us_per_item=total_us / batch,
        nodes=tuple(nodes),
        unmapped_macs=unmapped,
        intensity=intensity,
        advice=small_model_advice(proto, qdq_share=qdq) if quantized else None,
    )


def small_model_advice(
    model: onnx.ModelProto | str | Path | bytes, *, qdq_share: float | None = None
) -> str | None:
    """One line: why int8 QDQ does not pay on this graph and what to do instead, or
    ``None`` when nothing in the graph says so (enough MACs per quantized value and,
    if a profile was taken, quantize/dequantize under a fifth of the time).

    The rule is the one measured here: below :data:`QDQ_INTENSITY_MIN` MACs per
    quantized activation value int8 did not beat fp32 (BENCHMARKS.md).
    """
    proto = _as_model(model)
    if not proto.graph.node:
        return None
    macs = sum(n.macs or 0 for n in count_macs(proto))
    intensity = qdq_intensity(proto)
    why = []
    if intensity is not None and intensity < QDQ_INTENSITY_MIN:
        why.append(
            f"{intensity:.0f} MACs per quantized value (int8 paid off here from about "
            f"{QDQ_INTENSITY_MIN:.0f})"
        )
    if qdq_share is not None and qdq_share >= 0.2:
        why.append(f"quantize/dequantize take {100 * qdq_share:.0f}% of the time")
    if not why:
        return None
    return (
        f"int8 overhead per MAC is too high ({macs / 1e6:.2f} MMACs per item; "
        + "; ".join(why)
        + "): keep float compute with fp16 storage (mode `fp16`: half the size), batch "
        "more items per call, or train a wider-but-shallower recipe (more channels, fewer layers)"
    )
