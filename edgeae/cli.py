"""The ``edgeae`` command line: every stage of the toolkit under one roof.

Each command lives in its own module under ``edgeae.commands`` and is imported
only when used; the device commands (denoise, compress, ...) are the runtime's
own, mounted here rather than copied.
"""

from __future__ import annotations

import click

from edgeae import __version__
from edgeae_runtime.cli import main as runtime_main
from edgeae_runtime.clitools import CommandGroup

__all__ = ["main"]


@click.group(
    cls=CommandGroup,
    lazy={
        "data": "edgeae.commands.data:data",
        "train": "edgeae.commands.train:train",
        "export": "edgeae.commands.export:export",
        "quantize": "edgeae.commands.quantize:quantize",
        "inspect": "edgeae.commands.inspect:inspect_cmd",
        "compare": "edgeae.commands.compare:compare",
        "bench": "edgeae.commands.bench:bench",
        "demo": "edgeae.commands.demo:demo",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="edgeae")
def main() -> None:
    """Train autoencoders, export and quantize them to ONNX, and run them on devices.

    \b
    A first session:
      edgeae train builtin:digits -o runs/digits
      edgeae export runs/digits -o models/digits
      edgeae quantize -m models/digits/model.onnx -o models/digits/model.int8.onnx --max-drop 0.3
      edgeae compare models/digits/model.onnx models/digits/model.int8.onnx --data builtin:digits
    """


# The device-side commands (info, denoise, compress, decompress, score, encode)
# are the runtime's own; `bench` here has the runtime's signature and adds a
# fresh-process footprint probe and one table across models.
main.mount(runtime_main, skip=("bench",))
