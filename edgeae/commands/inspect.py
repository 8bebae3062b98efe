"""``edgeae inspect``: what an ONNX model holds, with or without an edgeae manifest.

A thin wrapper around :func:`edgeae_export.inspect.inspect_model`; it never
imports torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgeae_runtime.clitools import Command, json_option, legacy_argument, model_option
from edgeae_runtime.errors import ManifestError

__all__ = ["inspect_cmd"]


@click.command("inspect", cls=Command)
@model_option()
@legacy_argument("MODEL", into="model_path", flag="-m/--model")
@json_option
@click.option(
    "--no-nodes", is_flag=True, help="Leave out the per-node list of quantized and float nodes."
)
def inspect_cmd(model_path: str, as_json: bool, no_nodes: bool) -> None:
    """Describe -m MODEL.onnx: manifest, inputs/outputs, ops, parameters, size, quantized nodes.

    Works on any ONNX file; one without an edgeae manifest is described too
    ("no edgeae manifest"); an invalid manifest is described and the command then
    exits 3 with the reason on stderr. A node counts as quantized when it runs an int8
    kernel (QLinear*, ConvInteger, MatMulInteger), sits in a QDQ pair, or
    computes in fp16; weighted nodes (Conv, Gemm, MatMul...) that are none of
    these are listed as float.

    \b
    Examples:
      edgeae inspect -m models/digits/model.onnx
      edgeae inspect -m models/digits/model.int8.onnx --no-nodes
      edgeae inspect -m models/digits/encoder.onnx --json | jq .manifest.codec
    """
    from edgeae_export.inspect import format_inspection, inspect_model

    info = inspect_model(Path(model_path))
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        click.echo(format_inspection(info, nodes=not no_nodes))
    if info.get("manifest_error"):  # described above; a script still learns it is broken
        raise ManifestError(f"{Path(model_path).name}: {info['manifest_error']}")
