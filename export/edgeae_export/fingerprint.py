"""Model fingerprints: a sha256 over an ONNX model's graph and weights.

The fingerprint of the full float model is the trained model's identity: the
exporter stores it in all three files (``provenance.fingerprint``) and compressed
streams refer to it. It hashes what computes (nodes, initializers, I/O, opsets),
never metadata, doc strings or the exporter's per-node debug annotations (stack
traces with file paths), so re-exporting the same weights gives the same value.
"""

from __future__ import annotations

import hashlib

import onnx

__all__ = ["model_fingerprint", "strip_annotations"]


def strip_annotations(graph: onnx.GraphProto) -> None:
    """Clear doc strings and per-node metadata (debug annotations) in place, with subgraphs.

    The exporter applies it to what it writes too: the annotations hold local file
    paths and stack traces, and they are what the fingerprint ignores.
    """
    graph.doc_string = ""
    del graph.metadata_props[:]
    for node in graph.node:
        node.doc_string = ""
        del node.metadata_props[:]
        for attr in node.attribute:
            if attr.HasField("g"):
                strip_annotations(attr.g)
            for sub in attr.graphs:
                strip_annotations(sub)


def model_fingerprint(model: onnx.ModelProto) -> str:
    """Hex sha256 of the model's graph (nodes, initializers, I/O), opsets and local functions.

    Model-level ``metadata_props`` (where the manifest lives) are not hashed, so the
    value is the same before and after the manifest is attached.
    """
    graph = onnx.GraphProto()
    graph.CopyFrom(model.graph)
    strip_annotations(graph)
    digest = hashlib.sha256()
    digest.update(graph.SerializeToString(deterministic=True))
    for opset in sorted(model.opset_import, key=lambda o: o.domain):
        digest.update(f"opset:{opset.domain}:{opset.version};".encode())
    for function in model.functions:
        digest.update(function.SerializeToString(deterministic=True))
    return digest.hexdigest()
