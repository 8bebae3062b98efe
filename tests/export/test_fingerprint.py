"""model_fingerprint: hashes what computes, ignores metadata and annotations."""

from __future__ import annotations

import numpy as np
import onnx
import onnx.numpy_helper
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_export import model_fingerprint

from .tiny_models import gemm_model

BASE = model_fingerprint(gemm_model())

text = st.text(max_size=20)


@settings(max_examples=30, deadline=None)
@given(key=text, value=text, doc=text, node_doc=text)
def test_metadata_and_doc_strings_do_not_change_it(
    key: str, value: str, doc: str, node_doc: str
) -> None:
    model = gemm_model()
    model.metadata_props.add(key=key, value=value)
    model.doc_string = doc
    model.graph.doc_string = doc
    model.graph.node[0].doc_string = node_doc
    model.graph.node[1].metadata_props.add(key="pkg.torch.onnx.stack_trace", value=value)
    assert model_fingerprint(model) == BASE


@settings(max_examples=30, deadline=None)
@given(index=st.integers(0, 17), delta=st.floats(1e-6, 1.0) | st.floats(-1.0, -1e-6))
def test_any_weight_change_changes_it(index: int, delta: float) -> None:
    model = gemm_model()
    w = onnx.numpy_helper.to_array(model.graph.initializer[0]).copy()
    w.reshape(-1)[index] += np.float32(delta)
    if np.array_equal(w, onnx.numpy_helper.to_array(model.graph.initializer[0])):
        return  # delta below float32 resolution at this value: nothing changed
    model.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(w, "w1"))
    assert model_fingerprint(model) != BASE


def test_opset_and_graph_changes_change_it() -> None:
    model = gemm_model()
    model.opset_import[0].version = 18
    assert model_fingerprint(model) != BASE
    model = gemm_model()
    model.graph.node[1].op_type = "Sigmoid"
    assert model_fingerprint(model) != BASE


def test_it_is_a_sha256_hex_digest() -> None:
    assert len(BASE) == 64 and int(BASE, 16) >= 0
    assert model_fingerprint(gemm_model()) == BASE
