"""The ``edgeae-rt`` command line: run an exported model on a device or in a shell pipe."""

from __future__ import annotations

import click

from . import __version__
from .clitools import CommandGroup

__all__ = ["main"]


@click.group(
    cls=CommandGroup,
    lazy={
        "info": "edgeae_runtime.commands.info:info",
        "denoise": "edgeae_runtime.commands.denoise:denoise",
        "score": "edgeae_runtime.commands.score:score",
        "encode": "edgeae_runtime.commands.encode:encode",
        "bench": "edgeae_runtime.commands.bench:bench",
        "compress": "edgeae_runtime.commands.compress:compress",
        "decompress": "edgeae_runtime.commands.decompress:decompress",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="edgeae-rt")
def main() -> None:
    """Run edgeae autoencoders: denoise, compress, score, encode."""
