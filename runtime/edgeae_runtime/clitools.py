"""Shared plumbing for the ``edgeae-rt`` and ``edgeae`` command lines: one grammar, one way to fail.

:class:`CommandGroup` loads each sub-command's module only when it is used (so
``edgeae-rt --help`` never imports torch, and a device pays only for the
command it runs) and turns every failure into one line on stderr and a
documented exit code (:data:`~edgeae_runtime.errors.EXIT_CODES`), never a
traceback. An :class:`~edgeae_runtime.errors.EdgeAEError` that names a
parameter is printed with the command's flag for it (``param="max_drop"`` ->
``--max-drop``), so the libraries never spell a flag.

:class:`Command` (every command's class) adds the grammar's transition rules:
old spellings of a flag stay accepted for one release as hidden aliases and
print one deprecation line, and an old positional form (``denoise IN OUT``)
is folded into its option (``-o/--output``) the same way.

The options shared by several commands are declared once, below, as
decorators (``threads_option``, ``output_option``...); ``tests`` walk every
command's ``--help`` of both CLIs and check that each shared option reads the
same everywhere.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from .errors import EXIT_BAD_INPUT, EXIT_IO, EdgeAEError, exit_code_of

__all__ = [
    "EXIT_CODES_HELP",
    "AliasOption",
    "BoundedFloat",
    "Command",
    "CommandGroup",
    "IntList",
    "LegacyArgument",
    "ThreadCount",
    "batch_option",
    "bench_options",
    "chunk_ms_option",
    "flag_namer",
    "force_option",
    "json_option",
    "legacy_argument",
    "library_names",
    "max_drop_option",
    "model_option",
    "no_memory_option",
    "output_option",
    "threads_option",
]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (compare: PASS)
  1  verdict failed (compare FAIL, quantize budget or speed gate not met)
  2  usage error (a bad option or argument value)
  3  bad input data or model
  4  I/O failure (disk full, permission denied, broken pipe)"""

#: Upper bound of --threads: more threads than cores only fight over them.
CPU_COUNT = max(1, os.cpu_count() or 1)
_CORES = f"this machine has {CPU_COUNT} CPU cores"
#: Upper bound of a batch size: beyond this the batch is a memory bug, not a benchmark.
MAX_BATCH = 16384
#: Upper bound of --chunk-ms: one minute of signal per read.
MAX_CHUNK_MS = 60_000.0


# ---------------------------------------------------------------------------
# parameter types: bounded and finite
# ---------------------------------------------------------------------------


class BoundedFloat(click.ParamType):
    """A finite float within ``[low, high]`` (``low`` excluded when ``low_open``).

    click's ``FloatRange`` lets ``nan`` through (every comparison with it is
    false); this type refuses every non-finite value first.
    """

    name = "float"

    def __init__(
        self,
        low: float | None,
        high: float | None,
        *,
        low_open: bool = False,
        high_open: bool = False,
    ) -> None:
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float) and math.isfinite(value):
            number = value
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number", param, ctx)
        too_low = self.low is not None and (
            number <= self.low if self.low_open else number < self.low
        )
        too_high = self.high is not None and (
            number >= self.high if self.high_open else number > self.high
        )
        if too_low or too_high:
            self.fail(f"{value} is not in {self._range()}", param, ctx)
        return number

    def _range(self) -> str:
        low = "" if self.low is None else f"{self.low:g}{'<' if self.low_open else '<='}"
        high = "" if self.high is None else f"{'<' if self.high_open else '<='}{self.high:g}"
        return f"the range {low}x{high}"

    def __repr__(self) -> str:
        return f"BoundedFloat({self._range()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoundedFloat) and repr(self) == repr(other)

    __hash__ = click.ParamType.__hash__


class ThreadCount(click.IntRange):
    """Threads: 1 to this machine's core count (100000 threads segfault onnxruntime)."""

    name = "integer"

    def __init__(self) -> None:
        super().__init__(1, CPU_COUNT)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.INT.convert(value, param, ctx)
        if not 1 <= number <= CPU_COUNT:
            self.fail(f"{number}: give 1 to {CPU_COUNT} ({_CORES})", param, ctx)
        return number

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ThreadCount)

    __hash__ = click.ParamType.__hash__


class IntList(click.ParamType):
    """One integer or a comma-separated list (``1,32,256``), each within ``[low, high]``.

    Used by repeatable options (``--batch 1 --batch 32`` and ``--batch 1,32`` mean
    the same); the values of every occurrence are flattened in order.
    """

    name = "list"

    def __init__(self, low: int, high: int, *, why: str = "") -> None:
        self.low, self.high, self.why = low, high, why

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        try:
            values = tuple(int(p) for p in parts)
        except ValueError:
            self.fail(f"{value!r}: give integers, e.g. 1 or 1,32", param, ctx)
        if not values:
            self.fail(f"{value!r}: give at least one integer", param, ctx)
        bad = [v for v in values if not self.low <= v <= self.high]
        if bad:
            why = f" ({self.why})" if self.why else ""
            self.fail(f"{bad[0]}: give {self.low} to {self.high}{why}", param, ctx)
        return values

    def __repr__(self) -> str:
        return f"IntList({self.low}..{self.high})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntList) and (self.low, self.high) == (other.low, other.high)

    __hash__ = click.ParamType.__hash__


def _flatten(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback of repeatable list options: ``((1, 32), (256,))`` -> ``(1, 32, 256)``."""
    if value is None:
        return None
    flat: list[int] = []
    for part in value:
        flat.extend(part if isinstance(part, tuple) else (part,))
    return tuple(flat)


# ---------------------------------------------------------------------------
# options and arguments with a transition period
# ---------------------------------------------------------------------------


class AliasOption(click.Option):
    """An option with old spellings (``deprecated_opts``): accepted, hidden from help, warned.

    ``must`` marks an option that is required once old positional forms (see
    :func:`legacy_argument`) have been folded in; click's own ``required`` would
    refuse the old form before it is folded.
    """

    def __init__(
        self,
        *args: Any,
        deprecated_opts: Sequence[str] = (),
        must: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deprecated_opts = tuple(deprecated_opts)
        self.must = must

    def visible_opts(self) -> list[str]:
        """The spellings ``--help`` shows (old ones left out)."""
        return [o for o in self.opts if o not in self.deprecated_opts]

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        opts = self.opts
        self.opts = self.visible_opts()
        try:
            record = super().get_help_record(ctx)
        finally:
            self.opts = opts
        if record is not None and self.must:
            record = (record[0], f"{record[1]}  [required]".strip())
        return record


class LegacyArgument(click.Argument):
    """An old positional form of an option: hidden from usage, folded into ``into``."""

    def __init__(self, *args: Any, into: str, flag: str, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("expose_value", True)
        super().__init__(*args, **kwargs)
        self.into, self.flag = into, flag

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        return []


def legacy_argument(metavar: str, *, into: str, flag: str, nargs: int = 1) -> Callable[[F], F]:
    """Accept the old positional ``metavar`` for one release: warn, use it as option ``into``."""
    return click.argument(
        f"legacy_{into}", metavar=metavar, cls=LegacyArgument, into=into, flag=flag, nargs=nargs
    )


def library_names(**names: str) -> Callable[[click.Command], click.Command]:
    """Tell the error printer which option a library parameter is: ``validation="val_source"``.

    Applied on top of ``@click.command``; only needed where the library's
    argument and the command's option have different names.
    """

    def mark(cmd: click.Command) -> click.Command:
        cmd.library_names = {**getattr(cmd, "library_names", {}), **names}  # type: ignore[attr-defined]
        return cmd

    return mark


def _warn(old: str, new: str) -> None:
    click.echo(f"warning: {old} is deprecated and goes in the next release; use {new}", err=True)


class Command(click.Command):
    """A click command that speaks the transition grammar (see the module docstring)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            self._warn_old_spellings(args)
        rest = super().parse_args(ctx, args)
        if ctx.resilient_parsing:
            return rest
        for param in self.params:
            if isinstance(param, LegacyArgument):
                self._fold(ctx, param)
        for param in self.params:
            missing = ctx.params.get(param.name) in (None, ())
            if isinstance(param, AliasOption) and param.must and missing:
                raise click.MissingParameter(ctx=ctx, param=param)
        return rest

    def _warn_old_spellings(self, args: list[str]) -> None:
        old = {o: p for p in self.params if isinstance(p, AliasOption) for o in p.deprecated_opts}
        for arg in args:
            if arg == "--":
                break
            spelling = arg.split("=", 1)[0]
            if spelling in old:
                visible = old[spelling].visible_opts()
                _warn(spelling, "/".join(visible))

    @staticmethod
    def _fold(ctx: click.Context, param: LegacyArgument) -> None:
        assert param.name is not None
        value = ctx.params.pop(param.name, None)
        if value in (None, ()):
            return
        _warn(f"the positional {param.human_readable_name}", param.flag)
        current = ctx.params.get(param.into)
        if current not in (None, ()):
            if isinstance(current, tuple):  # a repeatable option: old and new forms add up
                extra = value if isinstance(value, tuple) else (value,)
                ctx.params[param.into] = (*extra, *current)
                return
            raise click.UsageError(
                f"{param.human_readable_name} given twice: as {param.flag} and positionally; "
                f"give it once, as {param.flag}",
                ctx,
            )
        ctx.params[param.into] = value


# ---------------------------------------------------------------------------
# the group: lazy commands, one-line errors, documented exit codes
# ---------------------------------------------------------------------------


def flag_namer(cmd: click.Command | None) -> Callable[[str], str | None]:
    """Map a parameter name (a library's or the command's) to the flag ``cmd`` spells it with."""
    params = {p.name: p for p in (cmd.params if cmd is not None else ())}
    aliases: Mapping[str, str] = getattr(cmd, "library_names", {})

    def flag(name: str) -> str | None:
        param = params.get(aliases.get(name, name))
        if param is None:
            return None
        if isinstance(param, click.Option):
            opts = param.visible_opts() if isinstance(param, AliasOption) else param.opts
            return max(opts, key=len)
        return param.human_readable_name

    return flag


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit-time flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass


def report(message: str) -> None:
    """Print the one error line on stderr (even when stderr itself is in trouble)."""
    with contextlib.suppress(OSError):
        click.echo(f"error: {message}", err=True)


class CommandGroup(click.Group):
    """A click group whose commands are named ``"module:attribute"`` and loaded lazily.

    ``lazy`` maps a command name to where it lives; commands can also be added
    the usual way with :meth:`add_command`. Mounting another group's commands
    (the host CLI mounts the runtime's) is :meth:`mount`. Every command it hands
    out gets the exit-code table as its ``--help`` epilogue.
    """

    command_class = Command

    def __init__(self, *args: Any, lazy: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        super().__init__(*args, **kwargs)
        self._lazy: dict[str, str] = dict(lazy or {})

    def mount(self, other: CommandGroup, *, skip: tuple[str, ...] = ()) -> None:
        """Offer ``other``'s commands here too, without copying them."""
        for name, target in other._lazy.items():
            if name not in skip and name not in self._lazy and name not in self.commands:
                self._lazy[name] = target
        for name, cmd in other.commands.items():
            if name not in skip and name not in self._lazy and name not in self.commands:
                self.add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, attr = self._lazy[cmd_name].split(":")
            cmd = getattr(importlib.import_module(module_name), attr)
        else:
            cmd = super().get_command(ctx, cmd_name)
        if cmd is not None and not cmd.epilog:
            cmd.epilog = EXIT_CODES_HELP
        return cmd

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """The group's own options: a usage error is one line too (``edgeae-rt --bogus``)."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            report(exc.format_message())
            raise click.exceptions.Exit(exc.exit_code) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk or closed pipe fails here, inside the handlers
            return result
        except click.exceptions.Exit:
            raise
        except EdgeAEError as exc:
            report(exc.format_message(flag_namer(self._invoked(ctx))))
            ctx.exit(exc.exit_code)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:  # a sub-command's bad option value or usage
            report(exc.format_message())
            ctx.exit(exc.exit_code)
        except click.Abort:
            report("aborted")
            ctx.exit(EXIT_BAD_INPUT)
        except BrokenPipeError:  # `edgeae-rt denoise ... | head` closed the pipe early
            _silence_stdout()
            report("broken pipe: the reader of the output went away")
            ctx.exit(EXIT_IO)
        except OSError as exc:  # disk full, permission denied, /dev/full
            where = f"{exc.filename}: " if exc.filename else ""
            report(f"{where}{exc.strerror or exc}")
            ctx.exit(EXIT_IO)
        except KeyboardInterrupt:
            report("interrupted")
            ctx.exit(130)
        except EOFError:
            report("unexpected end of input")
            ctx.exit(EXIT_BAD_INPUT)
        except Exception as exc:  # a bug: still one line, and a code a script cannot misread
            if os.environ.get("EDGEAE_TRACEBACK"):
                raise
            report(
                f"internal error: {type(exc).__name__}: {exc} "
                "(set EDGEAE_TRACEBACK=1 for the traceback, and please report it)"
            )
            ctx.exit(exit_code_of(exc))

    def _invoked(self, ctx: click.Context) -> click.Command | None:
        name = ctx.invoked_subcommand
        return self.get_command(ctx, name) if name else None


# ---------------------------------------------------------------------------
# the shared options, declared once
# ---------------------------------------------------------------------------


def model_option(*, multiple: bool = False, default_help: str | None = None) -> Callable[[F], F]:
    """``-m/--model``: the .onnx model every runtime verb (and bench, quantize, inspect) runs.

    The model is always an option, never a positional: IN and OUT keep their
    places in every verb, and a pipe reads ``- -o -`` whatever the command.
    ``default_help`` makes it optional and says what runs without it (shown as
    the default, so the help text stays the one every command shares).
    """
    return click.option(
        "-m",
        "--model",
        "model_path",
        cls=AliasOption,
        must=default_help is None,
        show_default=default_help or False,
        multiple=multiple,
        type=click.Path(dir_okay=False),
        help="The .onnx model file (with its edgeae manifest).",
    )


def output_option(
    *, deprecated: Sequence[str] = (), path_type: type | None = None, required: bool = True
) -> Callable[[F], F]:
    """``-o/--output``: where every command writes its output (a file, a folder, or ``-``).

    ``deprecated`` lists old spellings (``--out``), accepted with a warning.
    """
    return click.option(
        "-o",
        "--output",
        *deprecated,
        "output",
        cls=AliasOption,
        deprecated_opts=deprecated,
        must=required,
        type=click.Path(path_type=path_type) if path_type else click.Path(),
        help='Where to write the output (see above); "-" is stdout where the command streams.',
    )


force_option = click.option(
    "--force", is_flag=True, help="Overwrite the output if it exists (default: refuse)."
)

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the result as JSON (on stderr when the output itself goes to stdout).",
)


def threads_option(
    *, default: int | Sequence[int] | None = 1, multiple: bool = False
) -> Callable[[F], F]:
    """``--threads``: intra-op threads, 1 to the core count (repeatable in ``bench``)."""
    return click.option(
        "--threads",
        type=IntList(1, CPU_COUNT, why=_CORES) if multiple else ThreadCount(),
        multiple=multiple,
        callback=_flatten if multiple else None,
        default=default,
        show_default=default is not None,
        help=f"Intra-op threads, 1 to the core count ({CPU_COUNT} here).",
    )


def batch_option(*, default: Sequence[int]) -> Callable[[F], F]:
    """``--batch``: batch sizes for latency, repeatable or comma-separated."""
    return click.option(
        "--batch",
        "batches",
        type=IntList(1, MAX_BATCH),
        multiple=True,
        callback=_flatten,
        default=tuple(default),
        show_default=True,
        help=f"Batch sizes for the latency (repeat or comma-separate; 1 to {MAX_BATCH}).",
    )


chunk_ms_option = click.option(
    "--chunk-ms",
    type=BoundedFloat(0.1, MAX_CHUNK_MS),
    default=100.0,
    show_default=True,
    help="Milliseconds of signal read and processed at a time (0.1 to 60000).",
)

no_memory_option = click.option(
    "--no-memory", is_flag=True, help="Skip the footprint probe (load time, peak memory)."
)

max_drop_option = click.option(
    "--max-drop",
    type=BoundedFloat(0.0, None),
    default=None,
    help="Accuracy budget: the largest drop of --metric that passes (exit code 1 above it).",
)


def bench_options(func: F) -> F:
    """The one ``bench`` signature, shared by ``edgeae bench`` and ``edgeae-rt bench``."""
    for opt in reversed(
        [
            model_option(multiple=True),
            batch_option(default=(1, 32, 256)),
            threads_option(default=tuple(t for t in (1, 2) if t <= CPU_COUNT), multiple=True),
            click.option(
                "--budget",
                type=BoundedFloat(0.0, 60.0, low_open=True),
                default=0.5,
                show_default=True,
                help="Seconds of timed calls per (batch, threads) point (at most 60).",
            ),
            click.option(
                "--seconds",
                type=BoundedFloat(0.0, 3600.0),
                default=10.0,
                show_default=True,
                help="Length of the streamed test signal (signal models; 0 skips; at most 3600).",
            ),
            chunk_ms_option,
            no_memory_option,
            json_option,
            click.option(
                "--openvino",
                is_flag=True,
                help="Also time each model through the optional OpenVINO path (the same "
                "file; needs pip install edgeae-runtime[openvino]) against onnxruntime, 3 "
                "interleaved rounds per --batch at the fewest --threads, and print which "
                "to use.",
            ),
        ]
    ):
        func = opt(func)
    return func
