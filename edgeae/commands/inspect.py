"""``edgeae inspect``: what an ONNX model holds, with or without an edgeae manifest.

A thin wrapper around :func:`edgeae_export.inspect.inspect_model`; it never
imports torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["inspect_cmd"]


@click.command("inspect")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full description as JSON.")
@click.option(
    "--no-nodes", is_flag=True, help="Leave out the per-node list of quantized and float nodes."
)
def inspect_cmd(model: Path, as_json: bool, no_nodes: bool) -> None:
    """Describe MODEL.onnx: manifest, inputs/outputs, ops, parameters, size, quantized nodes.

    Works on any ONNX file; one without an edgeae manifest is described too
    ("no edgeae manifest"). A node counts as quantized when it runs an int8
    kernel (QLinear*, ConvInteger, MatMulInteger), sits in a QDQ pair, or
    computes in fp16; weighted nodes (Conv, Gemm, MatMul...) that are none of
    these are listed as float.

    \b
    Examples:
      edgeae inspect models/digits/model.onnx
      edgeae inspect models/digits/model.int8.onnx --no-nodes
      edgeae inspect models/digits/encoder.onnx --json | jq .manifest.codec
    """
    from edgeae_export.inspect import format_inspection, inspect_model

    info = inspect_model(model)
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        click.echo(format_inspection(info, nodes=not no_nodes))
