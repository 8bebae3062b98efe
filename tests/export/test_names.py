"""Short names at export: derived from the ops, shared by the three files, stable on re-export."""

from __future__ import annotations

import re
from pathlib import Path

import onnx
import pytest

from edgeae_export import export_autoencoder, load_onnx

from .tiny_models import ARCHS, examples, tiny

NODE = re.compile(r"^[a-z]+\d+$")
WEIGHT = re.compile(r"^[a-z]+\d+\.(w|b|\d+)$")
IO = {"input", "latent", "reconstruction"}


def _names(model: onnx.ModelProto) -> tuple[list[str], set[str], list[str]]:
    g = model.graph
    tensors = {t for n in g.node for t in (*n.input, *n.output) if t}
    return [n.name for n in g.node], tensors, sorted(t.name for t in g.initializer)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_names_are_short_shared_and_stable(tmp_path: Path, arch: str) -> None:
    model, info = tiny(arch)
    first = export_autoencoder(
        model, out_dir=tmp_path / "a", example_inputs=examples(info), info=info
    )
    again = export_autoencoder(
        model, out_dir=tmp_path / "b", example_inputs=examples(info, seed=9), info=info
    )
    graphs = {f.role: load_onnx(f.path) for f in first.files}
    nodes, tensors, weights = _names(graphs["autoencoder"])
    assert nodes and all(NODE.match(n) for n in nodes)
    assert len(set(nodes)) == len(nodes)
    assert weights and all(WEIGHT.match(w) for w in weights)
    assert all(NODE.match(t) or WEIGHT.match(t) or t in IO for t in tensors)
    for role in ("encoder", "decoder"):  # the halves are cut from the full graph: same names
        half_nodes, half_tensors, _ = _names(graphs[role])
        assert set(half_nodes) <= set(nodes) and half_tensors <= tensors
    for f, g in zip(first.files, again.files, strict=True):
        assert _names(load_onnx(f.path)) == _names(load_onnx(g.path))
