"""torch -> ONNX for autoencoders: the full model, then its encoder and decoder halves.

Exporter: torch's dynamo-based ``torch.onnx.export(..., dynamo=True)`` (needs
onnxscript). It is the exporter torch maintains; the TorchScript one
(``dynamo=False``) is deprecated since torch 2.9 and prints its own warnings.

Opset: 17 by default. The dynamo exporter emits opset 18 natively; for a lower
request the graph is converted down with ``onnx.version_converter`` and the
result is checked. Opset 17 is what onnxruntime's quantizer
(``quant_pre_process``, per-channel QDQ, both need >= 13) and older device
builds of onnxruntime (>= 1.12) and OpenVINO all handle; the IR version is
lowered to the oldest one the opset allows for the same reason. Opsets below 14
are refused: static QDQ per-channel quantization needs 13, and onnx's converter
has no 14 -> 13 adapter for Relu, so 14 is the lowest reachable.

Names: the exporter's node, tensor and weight names (``node_conv1d_4``,
``ae.encoder.8.weight``) are replaced by short ones derived from the op
(``conv4``, ``conv4.w``; a tensor takes its producer's name). The quantizer
builds every Q/DQ node, scale and zero-point name from them, so in an int8 file
they are about a tenth of the bytes; renaming here (not after quantizing) keeps
the float and quantized models' names equal, which ``exclude`` and
``edgeae compare`` rely on. Graph inputs and outputs keep their contract names.

Speed: torch's exporter rebuilds its table of ATen -> ONNX functions (torchlib: ~500
functions, each parsed from its Python source) on every call, most of an autoencoder
export's time. :func:`_shared_registry` builds it once per opset per process and hands
the same table to each export (nothing edgeae passes modifies it), so the second and
later exports of a process (the demo, tests, benchmarks) skip that work.

torch is imported inside the functions, never at module import.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import onnx
import onnx.helper
import onnx.inliner
import onnx.utils
import onnx.version_converter

from .errors import ExportError, ExportParameterError
from .fingerprint import strip_annotations
from .manifest_build import INPUT_NAME, LATENT_NAME, RECONSTRUCTION_NAME

__all__ = [
    "DEFAULT_OPSET",
    "MIN_OPSET",
    "NATIVE_OPSET",
    "exported_opset",
    "shorten_names",
    "split_autoencoder",
    "torch_to_onnx",
]

DEFAULT_OPSET = 17
MIN_OPSET = 14
#: The lowest opset torch's dynamo exporter emits directly.
NATIVE_OPSET = 18
_BATCH = "batch"


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's known chatter (torch.onnx log lines, pytree FutureWarnings)."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "onnxscript")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


_REGISTRIES: dict[Any, Any] = {}


@contextlib.contextmanager
def _shared_registry() -> Iterator[None]:
    """While exporting, torchlib's registry is built once per opset and reused (see the
    module docstring). The registry is rebuilt by ``ONNXRegistry.from_torchlib`` inside
    ``torch.onnx.export``, which has no parameter to pass one in: the classmethod is
    wrapped for the duration of the call. Without that internal (another torch), each
    export builds its own, as before."""
    try:
        from torch.onnx._internal.exporter import _registration
    except ImportError:  # pragma: no cover - another torch layout: nothing to share
        yield
        return
    cls = getattr(_registration, "ONNXRegistry", None)
    original = getattr(cls, "from_torchlib", None) if cls is not None else None
    if original is None:  # pragma: no cover
        yield
        return
    build = original.__func__

    def cached(klass: Any, opset_version: Any = None, **kwargs: Any) -> Any:
        if kwargs:  # a signature we do not know: no sharing
            return build(klass, opset_version, **kwargs)
        args = () if opset_version is None else (opset_version,)
        key = (klass, *args)
        if key not in _REGISTRIES:
            _REGISTRIES[key] = build(klass, *args)
        return _REGISTRIES[key]

    cls.from_torchlib = classmethod(cached)
    try:
        yield
    finally:
        cls.from_torchlib = original


def _wrappers(module: Any) -> dict[str, Any]:
    """torch modules exposing the three graphs of an autoencoder with encode()/decode()."""
    import torch

    class Full(torch.nn.Module):
        def __init__(self, ae: Any) -> None:
            super().__init__()
            self.ae = ae

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            z = self.ae.encode(x)
            return self.ae.decode(z), z

    class Encoder(Full):
        def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
            return self.ae.encode(x)

    class Decoder(Full):
        def forward(self, z: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
            return self.ae.decode(z)

    return {"autoencoder": Full(module), "encoder": Encoder(module), "decoder": Decoder(module)}


_IO = {
    "autoencoder": ([INPUT_NAME], [RECONSTRUCTION_NAME, LATENT_NAME]),
    "encoder": ([INPUT_NAME], [LATENT_NAME]),
    "decoder": ([LATENT_NAME], [RECONSTRUCTION_NAME]),
}


def torch_to_onnx(
    module: Any,
    example: np.ndarray,
    *,
    role: str = "autoencoder",
    opset: int = DEFAULT_OPSET,
    spatial: bool = False,
) -> onnx.ModelProto:
    """Export one graph of an autoencoder (``role``) with a dynamic batch axis, and with
    ``spatial`` (4-D images) dynamic height and width too: a fully convolutional image model
    then codes a whole image in one run (docs/stream-format.md, "Version 6").

    ``module`` has ``encode`` and ``decode``; ``example`` is a float32 batch of at
    least two items of the graph's input (items for the full model and encoder,
    latents for the decoder). Failures raise ExportError with torch's first line.
    """
    import torch

    if opset < MIN_OPSET:
        raise ExportParameterError(
            f"{opset}: edgeae needs opset >= {MIN_OPSET} (int8 QDQ quantization needs "
            f"13, the down-conversion reaches {MIN_OPSET}); the default is {DEFAULT_OPSET}",
            param="opset",
        )
    wrapper = _wrappers(module)[role].eval()
    inputs, outputs = _IO[role]
    x = torch.from_numpy(np.ascontiguousarray(example, dtype=np.float32))
    try:
        with _quiet_exporter(), _shared_registry(), torch.no_grad():
            program = torch.onnx.export(
                wrapper,
                (x,),
                dynamo=True,
                opset_version=max(opset, NATIVE_OPSET),
                input_names=inputs,
                output_names=outputs,
                dynamic_shapes=(_dynamic_axes(x.ndim, spatial),),
                verbose=False,
                report=False,
            )
    # The exporter raises many unrelated types (torch._dynamo, onnxscript, ...): wrap them all.
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"torch -> ONNX export of the {role} failed: {first}") from exc
    model = program.model_proto
    if model.functions:
        model = onnx.inliner.inline_local_functions(model)
    strip_annotations(model.graph)
    model.doc_string = ""
    shorten_names(model)
    if opset < NATIVE_OPSET:
        model = _convert_opset(model, opset)
    _lower_ir_version(model)
    return model


def _dynamic_axes(rank: int, spatial: bool) -> dict[int, Any]:
    """The batch axis, and with ``spatial`` the height and width of a 4-D input."""
    import torch

    axes = {0: torch.export.Dim(_BATCH)}
    if spatial and rank == 4:
        axes.update({2: torch.export.Dim("height"), 3: torch.export.Dim("width")})
    return axes


_WEIGHT_SLOTS = {1: "w", 2: "b"}


def shorten_names(model: onnx.ModelProto) -> None:
    """Rename nodes, tensors and initializers in place to short, deterministic names.

    Nodes become ``<op><k>`` (``conv0``, ``gemm2``, ``resize1``; k counts per op type in
    graph order), a node's outputs take its name (``conv0``, ``conv0.1`` for a second
    output), initializers ``<consumer>.w`` / ``.b`` / ``.<slot>`` after their first
    consumer. Graph inputs and outputs keep their names. Graphs with subgraphs are left
    as they are.
    """
    graph = model.graph
    if any(
        a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
        for n in graph.node
        for a in n.attribute
    ):
        return
    keep = {v.name for v in (*graph.input, *graph.output)}
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for node in graph.node:
        op = node.op_type.lower()
        node.name = f"{op}{counts.get(op, 0)}"
        counts[op] = counts.get(op, 0) + 1
        for i, out in enumerate(node.output):
            if out and out not in keep:
                names[out] = node.name if i == 0 else f"{node.name}.{i}"
    weights = {t.name for t in graph.initializer}
    for node in graph.node:
        for slot, name in enumerate(node.input):
            if name in weights and name not in names and name not in keep:
                names[name] = f"{node.name}.{_WEIGHT_SLOTS.get(slot, slot)}"
    for node in graph.node:
        node.input[:] = [names.get(n, n) for n in node.input]
        node.output[:] = [names.get(n, n) for n in node.output]
    for tensor in graph.initializer:
        tensor.name = names.get(tensor.name, tensor.name)
    for info in graph.value_info:
        info.name = names.get(info.name, info.name)


def _convert_opset(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """Convert the default-domain opset down to ``opset`` or raise ExportError saying which."""
    try:
        converted = onnx.version_converter.convert_version(model, opset)
    except (RuntimeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        first = first.split("failed: ", 1)[-1]  # drop onnx's C++ source location
        raise ExportError(
            f"{opset}: cannot convert the exported graph from opset {NATIVE_OPSET} "
            f"({first}); use opset {DEFAULT_OPSET} or {NATIVE_OPSET}",
            param="opset",
        ) from None
    return converted


def _lower_ir_version(model: onnx.ModelProto) -> None:
    """Set the oldest IR version that supports the model's opsets (older runtimes load it)."""
    known = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if len(known) != len(model.opset_import):
        return  # a custom domain: keep what the exporter chose
    model.ir_version = onnx.helper.find_min_ir_version_for(list(known))


def split_autoencoder(full: onnx.ModelProto) -> tuple[onnx.ModelProto, onnx.ModelProto] | None:
    """Cut the full model at its ``latent`` output into encoder and decoder graphs.

    The halves share the full model's exact weights and ops. Returns None when the
    decoder part depends on anything but the latent (then export the halves from
    torch instead).
    """
    extractor = onnx.utils.Extractor(full)
    encoder = extractor.extract_model([INPUT_NAME], [LATENT_NAME])
    try:
        decoder = extractor.extract_model([LATENT_NAME], [RECONSTRUCTION_NAME])
    except (KeyError, ValueError):
        return None
    produced = {o for n in decoder.graph.node for o in n.output} | {LATENT_NAME}
    produced |= {i.name for i in decoder.graph.initializer}
    needed = {i for n in decoder.graph.node for i in n.input if i}
    if not needed <= produced or [i.name for i in decoder.graph.input] != [LATENT_NAME]:
        return None
    for half in (encoder, decoder):
        half.ir_version = full.ir_version
        half.producer_name, half.producer_version = full.producer_name, full.producer_version
        del half.graph.value_info[:]
    return encoder, decoder


def exported_opset(model: onnx.ModelProto) -> int:
    """The default-domain (``ai.onnx``) opset of ``model``."""
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
