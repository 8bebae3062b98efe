"""The one atomic output: complete or absent, no umask flipping, cleaned on SIGTERM."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from edgeae_runtime import atomic
from edgeae_runtime.atomic import (
    TEMP_PATTERN,
    AtomicOutput,
    atomic_path,
    live_temporaries,
    remove_stale_temporaries,
    write_bytes_atomic,
    write_stdout,
)
from edgeae_runtime.errors import OutputError


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_success_renames_and_leaves_only_the_target(tmp_path: Path) -> None:
    with AtomicOutput(tmp_path / "a.bin") as out:
        out.write(b"hello")
        assert TEMP_PATTERN.match(out.temp.name)
        assert not (tmp_path / "a.bin").exists()
    assert (tmp_path / "a.bin").read_bytes() == b"hello"
    assert _names(tmp_path) == ["a.bin"]
    assert live_temporaries() == []


def test_exception_removes_the_temporary_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), AtomicOutput(target) as out:
        out.write(b"new, half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["a.bin"]


def test_oserror_inside_the_block_becomes_an_output_error(tmp_path: Path) -> None:
    with (
        pytest.raises(OutputError, match=r"a\.bin: cannot write \(No space left"),
        AtomicOutput(tmp_path / "a.bin"),
    ):
        raise OSError(28, "No space left on device")
    assert _names(tmp_path) == []


def test_cause12_missing_parent_folder_is_a_clear_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"output folder .*missing does not exist"):
        AtomicOutput(tmp_path / "missing" / "a.bin")


def test_cause13_target_is_an_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_bytes_atomic(tmp_path / "d", b"x")
    assert _names(tmp_path / "d") == []


def test_mode_follows_the_umask_without_touching_it(tmp_path: Path, monkeypatch) -> None:
    old = os.umask(0o027)
    try:

        def forbidden(mask: int) -> int:
            raise AssertionError("os.umask must not be called")

        monkeypatch.setattr(os, "umask", forbidden)
        write_bytes_atomic(tmp_path / "f", b"x")
        with atomic_path(tmp_path / "d", directory=True) as tmp:
            (tmp / "inner").write_bytes(b"y")
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o750
    assert (tmp_path / "d" / "inner").read_bytes() == b"y"


def test_folder_output_replaces_an_existing_folder_in_one_rename(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "old.png").write_bytes(b"o")
    with atomic_path(tmp_path / "d", directory=True) as tmp:
        (tmp / "new.png").write_bytes(b"n")
    assert _names(tmp_path / "d") == ["new.png"]
    assert _names(tmp_path) == ["d"]


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".a.bin.edgeae-{pid}-0123abcd.tmp"
    stale.write_bytes(b"left by a SIGKILL")
    stale_dir = tmp_path / f".imgs.edgeae-{pid}-89abcdef.tmp"
    stale_dir.mkdir()
    alive = tmp_path / f".b.bin.edgeae-{os.getppid()}-0123abcd.tmp"
    alive.write_bytes(b"someone running")
    foreign = tmp_path / ".c.bin.k2j3h4.tmp"  # not our pattern: never touched
    foreign.write_bytes(b"x")
    write_bytes_atomic(tmp_path / "a.bin", b"new")
    assert not stale.exists() and not stale_dir.exists()
    assert alive.exists() and foreign.exists()
    assert remove_stale_temporaries(tmp_path) == []


def test_write_stdout_to_a_full_device_is_an_output_error() -> None:
    with open("/dev/full", "wb") as full, pytest.raises(OutputError, match="stdout: cannot write"):
        write_stdout(b"x" * 100_000, full)


_CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    from edgeae_runtime.atomic import AtomicOutput
    mode = sys.argv[2]
    if mode == "handler":
        def mine(signum, frame):
            print("previous handler ran", flush=True)
            raise SystemExit(7)
        signal.signal(signal.SIGTERM, mine)
    out = AtomicOutput(sys.argv[1])
    out.write(b"x" * 1_000_000)
    os.write(1, b"ready\\n")  # not print: SIGTERM may land while print still holds stdout
    time.sleep(30)
    """
)


@pytest.mark.parametrize("mode", ["default", "handler"])
def test_cause22_sigterm_removes_temporaries_then_behaves_as_before(
    tmp_path: Path, mode: str
) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "out.wav"), mode],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        assert len(_names(tmp_path)) == 1  # the temporary
        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()
        rc = proc.wait(timeout=20)
    if mode == "default":
        assert rc == -signal.SIGTERM
    else:
        assert rc == 7 and "previous handler ran" in rest
    assert _names(tmp_path) == []


def test_previous_sigterm_handler_is_restored(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    out = AtomicOutput(tmp_path / "a")
    assert signal.getsignal(signal.SIGTERM) is atomic._on_sigterm
    out.commit()
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigkill_leftover_is_removed_by_the_next_run(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "out.wav"), "default"],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.kill()
        proc.wait(timeout=20)
    assert len(_names(tmp_path)) == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the pid must be reaped before it reads as gone
        if remove_stale_temporaries(tmp_path) or not _names(tmp_path):
            break
        time.sleep(0.05)
    assert _names(tmp_path) == []
