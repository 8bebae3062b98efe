"""The host package's exceptions, all rooted in the runtime's ``EdgeAEError``.

One root for every package means the CLI turns any of them into one line and
an exit code; the kind each derives from decides the code
(:data:`edgeae_runtime.errors.EXIT_CODES`).
"""

from __future__ import annotations

from edgeae_runtime.errors import EdgeAEError, InputError, ParameterError

__all__ = ["CheckpointError", "ConfigError", "DataError", "TrainError"]


class DataError(InputError):
    """A data source is missing, unreadable, or has the wrong shape or values."""


class ConfigError(ParameterError):
    """A model or training configuration is invalid (unknown arch, bad sizes...)."""


class CheckpointError(InputError):
    """A checkpoint is missing, corrupted, or from an incompatible version."""


class TrainError(EdgeAEError):
    """Training cannot proceed (e.g. the loss became NaN)."""
