"""The runtime's exceptions: one small hierarchy, each with a message a user can act on.

Every error the package raises for bad input derives from :class:`EdgeAEError`,
so device software can catch one class, and the CLI can turn any of them into
one line on stderr and a documented exit code.

An error about one argument names it, like click's ``BadParameter``:
``ParameterError("must be finite, got nan", param="threshold")`` reads
``threshold: must be finite, got nan`` from Python, and the command line prints
the flag instead (``--threshold: must be finite, got nan``). A message that points
at another argument writes its name in backticks (``use `force` to overwrite it``);
the command line replaces it with the flag too. So the library never spells a
command-line flag, and each command line names its own.

Exit codes live in one table, :data:`EXIT_CODES`, keyed by the *kind* of failure
(each package's classes derive from one of these kinds):

====  ==========================================================================
0     success (and ``compare`` PASS)
1     a verdict failed (:class:`VerdictError`: compare FAIL, a quantization
      budget or speed gate not met, export parity above the tolerance)
2     usage error: a bad option or argument value (:class:`ParameterError`)
3     bad input data or model (:class:`InputError`, :class:`ModelError`,
      :class:`ManifestError`, :class:`StreamError`, and any other EdgeAEError)
4     I/O failure: disk full, permission denied, broken pipe (:class:`OutputError`)
====  ==========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CODES",
    "EXIT_IO",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VERDICT",
    "EdgeAEError",
    "InputError",
    "ManifestError",
    "ModelError",
    "OutputError",
    "ParameterError",
    "StreamError",
    "VerdictError",
    "exit_code_of",
]

EXIT_OK = 0
EXIT_VERDICT = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_IO = 4

_MENTION = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


class EdgeAEError(Exception):
    """Root of every edgeae error.

    ``param`` names the argument (of the function that raised, or of the
    request it was given) the error is about, or is ``None``.
    """

    def __init__(self, message: str = "", *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def __reduce__(self) -> tuple[Any, ...]:  # keyword-only ``param`` survives pickling
        return (_rebuild, (type(self), self.message, self.param))

    def __str__(self) -> str:
        return self.format_message()

    @property
    def exit_code(self) -> int:
        """What the command line exits with for this error (see :data:`EXIT_CODES`)."""
        return exit_code_of(self)

    def format_message(self, flag: Callable[[str], str | None] | None = None) -> str:
        """The one line to show; ``flag`` maps an argument name to how a caller spells it.

        Without ``flag`` (or where it returns ``None``) the argument keeps its
        Python name: ``param`` as a ``name:`` prefix, mentions in backticks.
        """

        def mention(match: re.Match[str]) -> str:
            name = match.group(1)
            return (flag(name) if flag else None) or match.group(0)

        text = _MENTION.sub(mention, self.message)
        if self.param:
            text = f"{(flag(self.param) if flag else None) or self.param}: {text}"
        return text


def _rebuild(cls: type[EdgeAEError], message: str, param: str | None) -> EdgeAEError:
    return cls(message, param=param)


class ParameterError(EdgeAEError):
    """An argument has a bad value: out of range, not finite, unknown, or contradicting another."""


class VerdictError(EdgeAEError):
    """A check ran and failed its criterion (a budget, a speed gate, a parity tolerance)."""


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


#: The one place that maps a kind of failure to an exit code (first match along the MRO).
EXIT_CODES: dict[type[BaseException], int] = {
    VerdictError: EXIT_VERDICT,
    ParameterError: EXIT_USAGE,
    OutputError: EXIT_IO,
    InputError: EXIT_BAD_INPUT,
    ManifestError: EXIT_BAD_INPUT,
    ModelError: EXIT_BAD_INPUT,
    StreamError: EXIT_BAD_INPUT,
    EdgeAEError: EXIT_BAD_INPUT,
    OSError: EXIT_IO,  # disk full, permission denied, broken pipe, /dev/full
    MemoryError: EXIT_BAD_INPUT,  # an input that asks for more memory than there is
}


def exit_code_of(exc: BaseException) -> int:
    """The documented exit code for ``exc``: the first of its classes in :data:`EXIT_CODES`.

    A package class can derive from two kinds (``class ParityError(ExportError,
    VerdictError)``); the order of its bases decides, as for any method lookup.
    Anything else (a bug) is 3, so a script never mistakes it for a verdict.
    """
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_BAD_INPUT
