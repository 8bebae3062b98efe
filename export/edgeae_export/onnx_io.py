"""Reading, checking and atomically writing ONNX files that carry an edgeae manifest.

Every tool that reads or writes a model goes through here, so the errors are the
same everywhere (the file is named, the fix is said) and no command ever leaves
a half-written file: outputs are written to a temporary name in the target
directory and renamed into place, all of a set or none.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from edgeae_runtime.atomic import AtomicOutput
from edgeae_runtime.errors import ManifestError
from edgeae_runtime.manifest import MANIFEST_KEY, Manifest, check_graph

from .errors import ExistsError, ExportError

__all__ = [
    "check_onnx",
    "load_onnx",
    "read_manifest",
    "require_manifest",
    "rewrite_manifest",
    "with_manifest",
    "write_onnx",
    "write_onnx_files",
]


def load_onnx(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Load an ONNX model; a missing file, a directory or a non-ONNX file raises ExportError."""
    p = Path(path)
    if not p.exists():
        raise ExportError(f"{p}: no such file")
    if p.is_dir():
        raise ExportError(f"{p}: is a directory, expected an .onnx file")
    try:
        model = onnx.load(str(p))
    except onnx.checker.ValidationError as exc:  # e.g. external data outside the model folder
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else "invalid"
        raise ExportError(f"{p}: refused ({first})") from None
    except (DecodeError, ValueError, RuntimeError, OSError) as exc:
        raise ExportError(f"{p}: not an ONNX model ({type(exc).__name__}: {exc})") from None
    # Random bytes sometimes parse as an (almost empty) protobuf message.
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise ExportError(f"{p}: not an ONNX model (no graph or no IR version)")
    return model


def read_manifest(model: onnx.ModelProto, *, where: str | None = None) -> Manifest | None:
    """The model's edgeae manifest, or None when it has none.

    A manifest that is present but invalid raises ManifestError naming the bad
    field (prefixed by ``where``, e.g. the file name, when given).
    """
    for prop in model.metadata_props:
        if prop.key == MANIFEST_KEY:
            try:
                manifest = Manifest.from_json(prop.value)
                check_graph(manifest, *_graph_io(model), name="model")
            except ManifestError as exc:
                text = str(exc).removeprefix("model: ")
                if where is None:
                    raise ManifestError(text) from None
                raise ManifestError(f"{where}: {text}") from None
            return manifest
    return None


def _graph_io(model: onnx.ModelProto) -> tuple[list, list]:
    """The graph's ``(name, dims)`` inputs (initializers excluded) and outputs."""

    def dims(value: onnx.ValueInfoProto) -> list[int | None]:
        shape = value.type.tensor_type.shape
        return [d.dim_value if d.HasField("dim_value") else None for d in shape.dim]

    weights = {t.name for t in model.graph.initializer}
    inputs = [(v.name, dims(v)) for v in model.graph.input if v.name not in weights]
    return inputs, [(v.name, dims(v)) for v in model.graph.output]


def require_manifest(model: onnx.ModelProto, *, where: str, needed: str) -> Manifest:
    """The model's manifest, or a ManifestError saying which fields the caller must supply.

    ``needed`` names what the operation needs, e.g. ``"item_shape and layout"``.
    """
    manifest = read_manifest(model, where=where)
    if manifest is None:
        raise ManifestError(
            f"{where}: no edgeae manifest (metadata key {MANIFEST_KEY!r}); this needs "
            f"{needed}: export the model with `edgeae export` or pass them explicitly"
        )
    return manifest


def with_manifest(model: onnx.ModelProto, manifest: Manifest) -> onnx.ModelProto:
    """A copy of ``model`` whose metadata holds ``manifest`` under MANIFEST_KEY (replacing any)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    kept = [p for p in out.metadata_props if p.key != MANIFEST_KEY]
    del out.metadata_props[:]
    for prop in kept:
        out.metadata_props.add(key=prop.key, value=prop.value)
    out.metadata_props.add(key=MANIFEST_KEY, value=manifest.to_json())
    return out


def rewrite_manifest(path: str | os.PathLike[str], manifest: Manifest) -> Path:
    """Replace the manifest of the model file at ``path`` in place (atomically); the graph
    and weights are untouched, and ``manifest`` must still describe them."""
    model = load_onnx(path)
    check_graph(manifest, *_graph_io(model), name=Path(path).name)
    return write_onnx(model, path, manifest, force=True)


def check_onnx(model: onnx.ModelProto, *, name: str) -> None:
    """Run onnx's full checker and strict shape inference; failures raise ExportError."""
    try:
        onnx.checker.check_model(model, full_check=True)
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"{name}: the ONNX checker refused the model: {first}") from None


def _check_target(path: Path, *, force: bool) -> None:
    """Refuse a target in a missing directory, a directory, or an existing file without force."""
    parent = path.parent
    if not parent.is_dir():
        raise ExportError(f"{path}: output directory {parent} does not exist; create it first")
    if path.is_dir():
        raise ExportError(f"{path}: is a directory, expected a file name")
    if path.exists() and not force:
        raise ExistsError(f"{path}: already exists; use `force` to overwrite it")


def write_onnx(
    model: onnx.ModelProto,
    path: str | os.PathLike[str],
    manifest: Manifest | None,
    *,
    force: bool = False,
) -> Path:
    """Write ``model`` (with ``manifest`` attached when given) atomically; return the path."""
    return write_onnx_files([(model, path, manifest)], force=force)[0]


def write_onnx_files(
    items: Sequence[tuple[onnx.ModelProto, str | os.PathLike[str], Manifest | None]],
    *,
    force: bool = False,
) -> list[Path]:
    """Write several models all-or-nothing: every target is checked, then written to a temp
    name, then renamed into place; on any failure no temp file is left behind.
    """
    targets = [Path(p) for _, p, _ in items]
    if len(set(targets)) != len(targets):
        raise ExportError(f"output paths must differ, got {[str(t) for t in targets]}")
    for target in targets:
        _check_target(target, force=force)
    outputs: list[AtomicOutput] = []
    current = targets[0]
    try:
        for (model, _, manifest), target in zip(items, targets, strict=True):
            current = target
            data = (with_manifest(model, manifest) if manifest else model).SerializeToString()
            outputs.append(AtomicOutput(target))
            outputs[-1].write(data)
        for out in outputs:
            current = out.path
            out.commit()
    except OSError as exc:
        raise ExportError(f"{current}: cannot write ({exc.strerror or exc})") from exc
    finally:
        for out in outputs:
            out.abort()
    return targets
