"""The machine's benchmark lock: an exclusive flock held only while timings are taken.

Benchmarks that train and time in one run (bench_anomaly, bench_rd) build at low
priority beside other jobs and take this lock around the timed part, so two timings
never share the CPU. ``LOCK["path"] = ""`` (a script's ``--lock ""``) turns it off.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

__all__ = ["LOCK", "timing_lock"]

#: The lock file (``/tmp/edgeae-heavy.lock``: the team's heavy-job lock); "" for none.
LOCK = {"path": "/tmp/edgeae-heavy.lock"}


@contextlib.contextmanager
def timing_lock() -> Iterator[None]:
    """Hold :data:`LOCK` (exclusive flock) for the ``with`` block; nothing when it is ""."""
    path = LOCK["path"]
    if not path:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
