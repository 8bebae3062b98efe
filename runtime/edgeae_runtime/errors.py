"""The runtime's exceptions: one small hierarchy, each with a message a user can act on.

Every error the package raises for bad input derives from :class:`EdgeAEError`,
so device software can catch one class, and the CLI can turn any of them into
one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

__all__ = [
    "EdgeAEError",
    "InputError",
    "ManifestError",
    "ModelError",
    "OutputError",
    "StreamError",
]


class EdgeAEError(Exception):
    """Root of every edgeae error; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1

    def format_message(self) -> str:
        """The one line the CLI prints."""
        return str(self)


class ManifestError(EdgeAEError):
    """A model manifest is missing, malformed, or lacks a field an operation needs."""


class ModelError(EdgeAEError):
    """A model file cannot be loaded or is not an autoencoder this package can run."""


class InputError(EdgeAEError):
    """Input data has the wrong shape, dtype, sample rate, format, or non-finite values."""


class StreamError(EdgeAEError):
    """A compressed stream is corrupted, truncated, or was made by another model."""


class OutputError(EdgeAEError):
    """An output cannot be written: missing folder, a folder in the way, disk full, broken pipe.

    An I/O failure, not bad input: the CLI exits 4 for it.
    """

    exit_code = 4
