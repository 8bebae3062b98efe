"""Options shared by several ``edgeae`` commands, declared once (the runtime's are in clitools).

``data_options`` is how every command that reads a data source picks an array
and cuts a signal into windows; the bounds keep a typo (``--window 1e9``) from
becoming a memory error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["MAX_WINDOW", "data_options", "key_option"]

F = TypeVar("F", bound=Callable[..., Any])

#: Largest window (and hop) in samples: about 65 s at 16 kHz.
MAX_WINDOW = 1 << 20

key_option = click.option("--key", default=None, help="Array name inside an .npz file.")


def data_options(func: F) -> F:
    """--key/--window/--hop: which array of an .npz, and how a signal is cut into windows."""
    for opt in reversed(
        [
            key_option,
            click.option(
                "--window",
                type=click.IntRange(1, MAX_WINDOW),
                default=None,
                help="Window length in samples, for signals.",
            ),
            click.option(
                "--hop",
                type=click.IntRange(1, MAX_WINDOW),
                default=None,
                help="Hop between windows in samples [default: window/2].",
            ),
        ]
    ):
        func = opt(func)
    return func
