"""Multivariate sensor logs (CSV): read, resample to a fixed rate, cut into windows, gaps masked.

A CSV with a header row, one timestamp column and one column per sensor. The
timestamp column is ISO 8601 datetimes or numbers (seconds); rows are sorted by
time and repeated timestamps keep the first. Empty cells, ``nan`` and text are
missing values. :func:`resample` interpolates each sensor linearly onto a grid of
``period`` seconds where both neighbouring readings are within ``max_gap``;
other grid points stay missing (NaN), and a window holding a missing point is
*masked* (never scored, never imputed). The host trains on exactly these windows
(``sensorlog:`` sources) and records the law in ``manifest.sensorlog``, so
``edgeae-rt score -m model.onnx log.csv`` on the device cuts the same windows.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import InputError
from .manifest import SensorLogSpec

__all__ = [
    "LogWindows",
    "SensorLog",
    "cut_windows",
    "log_windows",
    "read_sensor_csv",
    "resample",
    "time_text",
]

_TIME_NAMES = ("time", "timestamp", "date", "datetime", "ts")


def _parse_time(text: str) -> float:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return math.nan


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


class SensorLog(NamedTuple):
    """A log as read: times ``(n,)`` in seconds (sorted, unique), values ``(n, C)`` (NaN:
    missing) of ``columns``, every column by name, and whether the times were dates."""

    times: np.ndarray
    values: np.ndarray
    columns: list[str]
    by_name: dict[str, np.ndarray]
    dates: bool


def read_sensor_csv(
    path: Path, time: str | None = None, columns: list[str] | None = None
) -> SensorLog:
    """Read a CSV sensor log (see the module docstring); errors name the file and row."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    if len(rows) < 3:
        raise InputError(f"{path}: needs a header row and at least two readings")
    header = [h.strip() for h in rows[0]]
    if time is None:
        time = next((h for h in header if h.lower() in _TIME_NAMES), header[0])
    if time not in header:
        raise InputError(f"{path}: no time column {time!r}; the columns are {', '.join(header)}")
    ti = header.index(time)
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    width = len(header)
    bad = next((k for k, r in enumerate(body) if len(r) != width), None)
    if bad is not None:
        raise InputError(f"{path}: row {bad + 2} has {len(body[bad])} fields, the header {width}")
    t = np.array([_parse_time(r[ti]) for r in body])
    if np.isnan(t).any():
        row = int(np.flatnonzero(np.isnan(t))[0]) + 2
        raise InputError(f"{path}: row {row}: time {body[row - 2][ti]!r} is not a date or a number")
    by_name = {h: np.array([_number(r[j]) for r in body]) for j, h in enumerate(header) if j != ti}
    names = columns or [h for h in header if h != time]
    missing = [c for c in names if c not in by_name]
    if missing:
        raise InputError(f"{path}: no column(s) {', '.join(missing)}")
    order = np.argsort(t, kind="stable")
    t = t[order]
    keep = np.r_[True, np.diff(t) > 0]
    values = np.stack([by_name[c][order][keep] for c in names], axis=1)
    dates = not _is_number(body[0][ti])
    return SensorLog(t[keep], values, names, {k: v[order][keep] for k, v in by_name.items()}, dates)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def time_text(t: float, dates: bool) -> str:
    """A grid time as the log wrote it: ISO 8601 (UTC) for dated logs, else seconds."""
    if dates:
        return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")
    return f"{t:.10g}"


def resample(
    t: np.ndarray, values: np.ndarray, period: float, max_gap: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(grid times, values on the grid (m, C))``: linear between readings <= ``max_gap`` apart.

    A grid point is NaN (missing) for a sensor when its previous or next valid
    reading is more than ``max_gap`` seconds away.
    """
    rel = t - t[0]  # relative seconds: epoch timestamps lose precision at sub-second periods
    steps = math.floor(rel[-1] / period + 1e-9) + 1
    grid = np.arange(steps) * period
    out = np.full((grid.size, values.shape[1]), np.nan)
    for c in range(values.shape[1]):
        ok = np.isfinite(values[:, c])
        tc, vc = rel[ok], values[ok, c]
        if tc.size < 2:
            continue
        j = np.clip(np.searchsorted(tc, grid, side="right"), 1, tc.size - 1)
        t0, t1, v0, v1 = tc[j - 1], tc[j], vc[j - 1], vc[j]
        w = np.clip((grid - t0) / np.maximum(t1 - t0, 1e-12), 0.0, 1.0)
        # a reading on the grid point needs no neighbour; otherwise both must be close
        at0, at1 = np.abs(grid - t0) <= 1e-9 * period, np.abs(t1 - grid) <= 1e-9 * period
        near = ((grid - t0 <= max_gap) | at1) & ((t1 - grid <= max_gap) | at0)
        near &= (grid >= tc[0] - 1e-9 * period) & (grid <= tc[-1] + 1e-9 * period)
        out[near, c] = (v0 + w * (v1 - v0))[near]
    return t[0] + grid, out


class LogWindows(NamedTuple):
    """The windows of a log: grid times ``(m,)`` and values ``(m, C)`` (NaN where missing),
    each window's first grid index ``(k,)``, the windows ``(k, C, window)`` and which of
    them hold no missing value."""

    grid: np.ndarray
    values: np.ndarray
    starts: np.ndarray
    windows: np.ndarray
    complete: np.ndarray
    dates: bool = False  # the log's times were dates (print them as such: :func:`time_text`)


def log_windows(path: str | Path, spec: SensorLogSpec, window: int) -> LogWindows:
    """Read ``path`` with ``spec``'s columns and time law and cut its windows
    (:func:`cut_windows`)."""
    log = read_sensor_csv(Path(path), spec.time or None, list(spec.columns))
    cut = cut_windows(log.times, log.values, spec, window, where=str(path))
    return cut._replace(dates=log.dates)


def cut_windows(
    t: np.ndarray, values: np.ndarray, spec: SensorLogSpec, window: int, *, where: str
) -> LogWindows:
    """Resample readings ``(n,)``/``(n, C)`` onto ``spec``'s grid and cut windows of ``window``
    grid points every ``spec.hop``; refuses a log shorter than one window."""
    grid, v = resample(t, values, spec.period, spec.max_gap)
    k = (grid.size - window) // spec.hop + 1
    if k < 1:
        raise InputError(f"{where}: {grid.size} grid points, fewer than one window of {window}")
    starts = np.arange(k, dtype=np.int64) * spec.hop
    wins = np.stack([v[s : s + window].T for s in starts]).astype(np.float32)
    return LogWindows(grid, v, starts, wins, np.isfinite(wins).all(axis=(1, 2)))
