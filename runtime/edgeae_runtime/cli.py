"""The ``edgeae-rt`` command line: run an exported model on a device or in a shell pipe."""

from __future__ import annotations

import click

from . import __version__
from .clitools import CommandGroup

__all__ = ["main"]


@click.group(
    cls=CommandGroup,
    lazy={
        "compress": "edgeae_runtime.commands.compress:compress",
        "decompress": "edgeae_runtime.commands.decompress:decompress",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="edgeae-rt")
def main() -> None:
    """Run edgeae autoencoders: denoise, compress, score, encode."""
