"""Atomic output: every file (or folder) edgeae writes appears complete or not at all.

An :class:`AtomicOutput` writes under a temporary name next to the target,
``.NAME.edgeae-PID-TOKEN.tmp``, fsyncs it and renames it into place on success.
The temporary is removed on any exception, and on SIGTERM (a handler, installed
while temporaries exist, removes them and then does what the previous handler
would have done). A temporary left behind by a killed process (SIGKILL, power
loss) carries its PID in the name; the next output in that folder removes it
when that process is gone.

Files are created with ``os.open(..., 0o666)`` so the kernel applies the umask
exactly as for a plain ``open(path, "w")``: the process umask is never read or
changed. Folder outputs get ``0o777`` minus the umask the same way.

Failures are :class:`~edgeae_runtime.errors.OutputError` (an I/O failure, exit 4)
naming the path: a missing parent folder, a folder where a file should go, disk
full, permission denied, a broken pipe on stdout (:func:`write_stdout`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, BinaryIO

from .errors import OutputError

__all__ = [
    "TEMP_PATTERN",
    "AtomicOutput",
    "atomic_path",
    "live_temporaries",
    "process_gone",
    "protect",
    "release",
    "remove_stale_temporaries",
    "write_bytes_atomic",
    "write_stdout",
    "write_text_atomic",
]

#: How temporaries are named; ``pid`` is the writing process (to tell stale ones).
TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.edgeae-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})\.tmp$")

_lock = threading.RLock()
_live: dict[str, bool] = {}  # temporary path -> is a folder
_scanned: set[str] = set()  # folders already cleared of stale temporaries by this process
_previous: Any = None  # the SIGTERM handler ours replaced
_installed = False


def live_temporaries() -> list[str]:
    """The temporaries this process is writing right now (for tests and diagnostics)."""
    with _lock:
        return sorted(_live)


def _remove(path: str, is_dir: bool) -> None:
    with contextlib.suppress(OSError):
        if is_dir:
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)


def _remove_all() -> None:
    with _lock:
        items = list(_live.items())
        _live.clear()
    for path, is_dir in items:
        _remove(path, is_dir)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Remove every temporary, then behave as the previous SIGTERM handler."""
    previous = _previous
    _uninstall()
    if callable(previous):
        try:
            previous(signum, frame)
        except BaseException:
            _remove_all()
            raise
        with _lock:  # the previous handler chose to keep running: keep protecting
            if _live:
                _install()
        return
    _remove_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _install() -> None:
    global _installed, _previous
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
        if previous is signal.SIG_IGN:  # SIGTERM cannot end this process
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not allowed here (embedded interpreter...)
        return
    _previous, _installed = previous, True


def _uninstall() -> None:
    global _installed, _previous
    if not _installed:
        return
    with contextlib.suppress(ValueError, OSError):
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            previous = _previous if _previous is not None else signal.SIG_DFL
            signal.signal(signal.SIGTERM, previous)
    _previous, _installed = None, False


def _register(path: str, is_dir: bool) -> None:
    with _lock:
        _live[path] = is_dir
        _install()


def _unregister(path: str) -> None:
    with _lock:
        _live.pop(path, None)
        if not _live and threading.current_thread() is threading.main_thread():
            _uninstall()


def protect(path: str | os.PathLike[str], *, directory: bool = False) -> None:
    """Remove ``path`` on SIGTERM (like an output's temporary) until :func:`release`."""
    _register(os.fspath(path), directory)


def release(path: str | os.PathLike[str]) -> None:
    """Stop protecting ``path`` (it was published or removed)."""
    _unregister(os.fspath(path))


def process_gone(pid: int) -> bool:
    """True when no process ``pid`` exists (its temporaries are stale)."""
    return not _pid_alive(pid)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[str]:
    """Remove edgeae temporaries in ``folder`` whose writing process is gone; return them."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = TEMP_PATTERN.match(entry.name)
        if m is None or _pid_alive(int(m.group("pid"))):
            continue
        with _lock:
            if entry.path in _live:
                continue
        _remove(entry.path, entry.is_dir(follow_symlinks=False))
        removed.append(entry.path)
    return removed


def _io_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"{os.fspath(path)}: cannot write ({reason})")


def _fsync_path(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_target(target: Path, *, directory: bool) -> None:
    parent = target.parent
    if not parent.is_dir():
        if parent.exists():
            raise OutputError(f"{target}: {parent} is a file, not a folder")
        raise OutputError(f"{target}: output folder {parent} does not exist; create it first")
    if not directory and target.is_dir():
        raise OutputError(f"{target}: is a folder; give an output file name")
    if directory and target.exists() and not target.is_dir():
        raise OutputError(f"{target}: is a file; this output is a folder")


class AtomicOutput:
    """A file (or, with ``directory=True``, a folder) written under a temporary name.

    Use as a context manager: on a clean exit the temporary is fsynced and renamed
    over ``path``; on an exception it is removed (an ``OSError`` raised inside the
    block becomes an :class:`OutputError` naming ``path``). ``file`` is the open
    binary file to write to (files only); ``temp`` is the temporary's path, for
    writers that take a file name (``torch.save``, ``savefig``). :meth:`commit`
    and :meth:`abort` do the same by hand, for outputs that outlive one block.
    A folder output replaces an existing folder at ``path`` in one rename (the
    caller decides whether that folder may be replaced).
    """

    def __init__(self, path: str | os.PathLike[str], *, directory: bool = False) -> None:
        self.path = Path(path)
        self.directory = directory
        _check_target(self.path, directory=directory)
        # Inside a folder output still being written (a PNG folder), nothing is stale and
        # nothing needs its own fsync: the folder is published, or removed, as a whole.
        with _lock:
            self._nested = os.fspath(self.path.parent) in _live
            scan = not self._nested and os.fspath(self.path.parent) not in _scanned
            _scanned.add(os.fspath(self.path.parent))
        if scan:
            remove_stale_temporaries(self.path.parent)
        self.temp = self._new_temp_name()
        self.file: BinaryIO | None = None
        # protected before it exists: a SIGTERM right after the create must remove it too
        _register(str(self.temp), directory)
        try:
            if directory:
                os.mkdir(self.temp, 0o777)
            else:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
                fd = os.open(self.temp, flags, 0o666)
        except OSError as exc:
            _unregister(str(self.temp))
            raise _io_error(self.path, exc) from None
        if not directory:
            self.file = os.fdopen(fd, "w+b")
        self.done = False

    def _new_temp_name(self) -> Path:
        token = secrets.token_hex(4)
        return self.path.parent / f".{self.path.name}.edgeae-{os.getpid()}-{token}.tmp"

    def write(self, data: bytes) -> None:
        """Append ``data`` to the file (disk full etc. become an :class:`OutputError`)."""
        if self.file is None:
            raise OutputError(f"{self.path}: output is closed or is a folder")
        try:
            self.file.write(data)
        except OSError as exc:
            self.abort()
            raise _io_error(self.path, exc) from None

    def commit(self) -> Path:
        """Flush, fsync and rename the temporary into place; return the final path."""
        if self.done:
            return self.path
        try:
            if self.file is not None and not self.file.closed:
                self.file.flush()
                if not self._nested:
                    os.fsync(self.file.fileno())
                self.file.close()
            elif not self.directory and not self._nested:  # written by name (atomic_path)
                _fsync_path(self.temp)
            if self.directory and self.path.exists():
                self._swap_folder()
            else:
                os.replace(self.temp, self.path)
        except OSError as exc:
            self.abort()
            raise _io_error(self.path, exc) from None
        except BaseException:
            self.abort()
            raise
        self.done = True
        _unregister(str(self.temp))
        if not self._nested:
            with contextlib.suppress(OSError):  # make the rename itself durable
                _fsync_path(self.path.parent)
        return self.path

    def _swap_folder(self) -> None:
        old = self._new_temp_name()
        os.replace(self.path, old)
        _register(str(old), True)
        try:
            os.replace(self.temp, self.path)
        except BaseException:
            os.replace(old, self.path)
            _unregister(str(old))
            raise
        _remove(str(old), True)
        _unregister(str(old))

    def abort(self) -> None:
        """Drop the temporary: nothing appears at ``path``."""
        if self.done:
            return
        self.done = True
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
        _remove(str(self.temp), self.directory)
        _unregister(str(self.temp))

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
            return
        self.abort()
        if isinstance(exc, OSError):
            raise _io_error(self.path, exc) from None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write to by name; it becomes ``path`` on success."""
    out = AtomicOutput(path, directory=directory)
    if out.file is not None:
        out.file.close()
    with out:
        yield out.temp


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with AtomicOutput(path) as out:
        out.write(data)
    return out.path


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_stdout(data: bytes, stream: BinaryIO | None = None) -> None:
    """Write and flush ``data`` to stdout; a full disk or closed pipe is an OutputError.

    After such a failure stdout is pointed at /dev/null, so the interpreter's own
    flush at exit cannot print a second error.
    """
    fh = stream if stream is not None else sys.stdout.buffer
    try:
        fh.write(data)
        fh.flush()
    except OSError as exc:
        _mute_stdout()
        if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
            raise OutputError("stdout: cannot write (broken pipe: the reader closed it)") from None
        raise _io_error("stdout", exc) from None


def _mute_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
