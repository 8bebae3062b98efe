"""Options shared by several ``edgeae`` commands, declared once (the runtime's are in clitools).

``data_options`` is how every command that reads a data source picks an array
and cuts a signal into windows; the bounds keep a typo (``--window 1e9``) from
becoming a memory error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["MAX_WINDOW", "data_options", "key_option", "recorded_source"]

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


def recorded_source(manifest: Any, model: Path | str, *, option: str) -> str:
    """The data a model was trained on, as its manifest records it, for commands whose data
    option was left out: a built-in, or a file or folder still found at that path (as given
    to ``edgeae train``: ``ecg.npy?rate=125``, ``sensorlog:log.csv``, ``logmel:clips/``).
    Raises the export package's CalibrationError naming ``option`` otherwise."""
    from edgeae.data.sources import BUILTIN_PREFIX, source_path
    from edgeae_export.errors import CalibrationError

    source = manifest.provenance.source
    path = source_path(source) if source else None
    if source.startswith(BUILTIN_PREFIX) or (path is not None and path.exists()):
        return source
    raise CalibrationError(
        f"{Path(model).name}: give {option} FILE or builtin:NAME (the model was trained on "
        f"{source or 'unrecorded data'}, which is not a built-in dataset nor a file here)"
    )
