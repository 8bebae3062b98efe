"""Shared plumbing for the ``edgeae-rt`` and ``edgeae`` command lines.

:class:`CommandGroup` loads each sub-command's module only when it is used (so
``edgeae-rt --help`` never imports torch, and a device pays only for the
command it runs) and turns every :class:`~edgeae_runtime.errors.EdgeAEError`
into one line on stderr and the error's exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any

import click

from .errors import EdgeAEError

__all__ = ["CommandGroup"]


class CommandGroup(click.Group):
    """A click group whose commands are named ``"module:attribute"`` and loaded lazily.

    ``lazy`` maps a command name to where it lives; commands can also be added
    the usual way with :meth:`add_command`. Mounting another group's commands
    (the host CLI mounts the runtime's) is :meth:`mount`.
    """

    def __init__(self, *args: Any, lazy: Mapping[str, str] | None = None, **kwargs: Any) -> None:
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
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EdgeAEError as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:  # `edgeae-rt denoise ... | head` closed the pipe early
            sys.stderr.close()
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
