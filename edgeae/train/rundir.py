"""The run directory: trained into a private ``RUN.partial-<pid>`` and published atomically.

Nobody ever sees a half-written run: the partial directory becomes ``RUN`` (one
``os.replace``) right after the first checkpoint is written, and a failure before
that removes it. An existing non-empty ``RUN`` is refused unless resuming or
``force`` (which replaces it only once the new run has its first checkpoint).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from edgeae.errors import ConfigError
from edgeae_runtime.atomic import process_gone, protect, release, write_text_atomic

from .checkpoint import CHECKPOINT_NAME

__all__ = ["RunDir", "write_json_atomic"]


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (the runtime's one atomic output)."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=True) + "\n")


class RunDir:
    """Where a run writes; ``path`` is the directory to write into right now."""

    def __init__(self, final: str | os.PathLike[str], *, resume: bool, force: bool) -> None:
        self.final = Path(final)
        self.resume = resume
        self.force = force
        self.published = False
        self.path = self.final

    def check(self) -> None:
        """Refuse what would lose or mix work; call before creating anything."""
        final = self.final
        if final.exists() and not final.is_dir():
            raise ConfigError(f"{final}: exists and is not a directory; choose another -o")
        non_empty = final.is_dir() and any(final.iterdir())
        if self.resume:
            if not (final / CHECKPOINT_NAME).is_file():
                raise ConfigError(
                    f"{final}: nothing to resume (no {CHECKPOINT_NAME}); drop --resume"
                )
            return
        if non_empty and not self.force:
            raise ConfigError(
                f"{final}: run directory exists and is not empty; use --resume to continue "
                "it or --force to replace it"
            )
        if non_empty and not (
            (final / CHECKPOINT_NAME).exists() or (final / "config.json").exists()
        ):
            raise ConfigError(
                f"{final}: not an edgeae run directory (no {CHECKPOINT_NAME}); "
                "refusing to replace it even with --force"
            )

    def open(self) -> Path:
        """Create the directory to train into (the partial one for a new run)."""
        if self.resume:
            self.published = True
            self.path = self.final
            return self.path
        self.final.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.final.parent.glob(f"{self.final.name}.partial-*"):
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and process_gone(int(pid)):  # left by a killed run
                shutil.rmtree(stale, ignore_errors=True)
        self.path = self.final.parent / f"{self.final.name}.partial-{os.getpid()}"
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir()
        protect(self.path, directory=True)  # SIGTERM before publishing removes it
        return self.path

    def publish(self) -> None:
        """Make the partial directory the run directory (after its first checkpoint)."""
        if self.published:
            return
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.path, self.final)
        release(self.path)
        self.path = self.final
        self.published = True

    def abort(self) -> None:
        """Remove the partial directory of a run that failed before publishing."""
        if not self.published and self.path.exists() and self.path != self.final:
            shutil.rmtree(self.path, ignore_errors=True)
            release(self.path)
