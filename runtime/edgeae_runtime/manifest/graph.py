"""The manifest against an ONNX graph's inputs and outputs (:func:`check_graph`, on load).

A manifest is checked on its own when it is built (:mod:`.checks`); a model file is then
checked against the graph it describes, so a mismatch is a ManifestError naming the
manifest's field instead of an onnxruntime error on the first run.
"""

from collections.abc import Sequence
from typing import Any

from ..errors import ManifestError
from .checks import _agrees
from .schema import Manifest


def check_graph(
    m: Manifest,
    inputs: Sequence[tuple[str, Sequence[Any]]],
    outputs: Sequence[tuple[str, Sequence[Any]]],
    *,
    name: str = "model",
) -> None:
    """Check ``m`` against a graph's ``(name, shape)`` inputs and outputs, on load.

    The input named by ``manifest.inputs[0]`` must take ``(N, *item_shape)``
    (``latent_shape`` for a decoder) and the reconstruction/latent outputs must
    give ``item_shape``/``latent_shape`` wherever the graph states a dimension;
    a mismatch is a ManifestError naming the field instead of an onnxruntime
    error on the first run.
    """
    graph_in = dict((n, tuple(s)) for n, s in inputs)
    graph_out = dict((n, tuple(s)) for n, s in outputs)
    item, latent = tuple(m.item_shape), tuple(m.latent_shape)
    in_name = m.inputs[0].name
    if in_name not in graph_in:
        raise ManifestError(
            f"{name}: manifest.inputs[0].name is {in_name!r}, the graph's inputs are "
            f"{sorted(graph_in)}"
        )
    for i, t in enumerate(m.outputs):
        if t.name not in graph_out:
            raise ManifestError(
                f"{name}: manifest.outputs[{i}].name is {t.name!r}, the graph's outputs are "
                f"{sorted(graph_out)}"
            )
    want, what = (latent, "latent_shape") if m.role == "decoder" else (item, "item_shape")
    dims = graph_in.get(in_name)
    if dims is not None and dims and not _agrees(dims[1:], want):
        raise ManifestError(
            f"{name}: manifest.{what} is {list(want)} but the graph's input {in_name!r} takes "
            f"{_dims_text(dims)}"
        )
    names = [t.name for t in m.outputs]
    for out_name, (shape, field_) in _output_roles(m, names, item, latent).items():
        dims = graph_out.get(out_name)
        if dims is not None and dims and not _agrees(dims[1:], shape):
            raise ManifestError(
                f"{name}: manifest.{field_} is {list(shape)} but the graph's output "
                f"{out_name!r} gives {_dims_text(dims)}"
            )


def _output_roles(
    m: Manifest, names: list[str], item: tuple[int, ...], latent: tuple[int, ...]
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Which named outputs are the reconstruction and the latent (as Model binds them)."""
    roles: dict[str, tuple[tuple[int, ...], str]] = {}
    if m.spectral is not None:  # a mask output has its own shape
        return roles
    if m.role in ("autoencoder", "decoder"):
        recon = "reconstruction" if "reconstruction" in names else names[0]
        roles[recon] = (item, "item_shape")
        others = [n for n in names if n != recon]
        if m.role == "autoencoder" and others:
            roles["latent" if "latent" in others else others[0]] = (latent, "latent_shape")
    else:
        roles["latent" if "latent" in names else names[0]] = (latent, "latent_shape")
    return roles


def _dims_text(dims: tuple[Any, ...]) -> str:
    return "(" + ", ".join("N" if not isinstance(d, int) or d <= 0 else str(d) for d in dims) + ")"
