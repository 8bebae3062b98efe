"""Multivariate sensor logs: ``sensorlog:FILE.csv?rate=1&window=64&hop=32&...``.

A CSV with a header row, one timestamp column and one column per sensor:

- **time**: the column named by ``time=`` (default: the first column named
  time/timestamp/date/datetime, else the first column), ISO 8601 datetimes or
  numbers (seconds). Rows are sorted by time; repeated timestamps keep the first.
- **values**: every other column (or ``columns=a,b,c``); empty cells, ``nan``
  and text are missing values.
- **resampling** to ``rate`` samples per second (``period=`` seconds instead for
  slow logs): each sensor is interpolated linearly between its two neighbouring
  readings when both lie within ``max_gap`` seconds (default 2 periods) of the
  grid point; otherwise the point is *missing*.
- **masking, not imputing**: a window (``window`` grid points every ``hop``)
  that contains a missing point is left out of training and evaluation, and
  counted (``Dataset.description`` says how many); nothing is filled in.
- ``label=COLUMN``: per-row anomaly labels (0 normal, > 0 anomaly), resampled by
  nearest reading; windows then carry anomaly labels like ``builtin:sensor``.

Normalization is fitted per sensor column by the trainer (NCW layout: one
offset/scale per channel), so sensors of different units weigh alike.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np

from edgeae.errors import DataError

from .dataset import Dataset, fingerprint

__all__ = ["SENSORLOG_PREFIX", "load_sensorlog", "read_sensor_csv", "resample"]

SENSORLOG_PREFIX = "sensorlog:"
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


def read_sensor_csv(
    path: Path, time: str | None = None, columns: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str], dict[str, np.ndarray]]:
    """``(times (n,), values (n, C) with NaN for missing, column names, all columns by name)``."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if len(rows) < 3:
        raise DataError(f"{path}: needs a header row and at least two readings")
    header = [h.strip() for h in rows[0]]
    if time is None:
        time = next((h for h in header if h.lower() in _TIME_NAMES), header[0])
    if time not in header:
        raise DataError(f"{path}: no time column {time!r}; the columns are {', '.join(header)}")
    ti = header.index(time)
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    width = len(header)
    bad = next((k for k, r in enumerate(body) if len(r) != width), None)
    if bad is not None:
        raise DataError(f"{path}: row {bad + 2} has {len(body[bad])} fields, the header {width}")
    t = np.array([_parse_time(r[ti]) for r in body])
    if np.isnan(t).any():
        row = int(np.flatnonzero(np.isnan(t))[0]) + 2
        raise DataError(f"{path}: row {row}: time {body[row - 2][ti]!r} is not a date or a number")
    by_name = {h: np.array([_number(r[j]) for r in body]) for j, h in enumerate(header) if j != ti}
    names = columns or [h for h in header if h != time]
    missing = [c for c in names if c not in by_name]
    if missing:
        raise DataError(f"{path}: no column(s) {', '.join(missing)}")
    order = np.argsort(t, kind="stable")
    t = t[order]
    keep = np.r_[True, np.diff(t) > 0]
    values = np.stack([by_name[c][order][keep] for c in names], axis=1)
    return t[keep], values, names, {k: v[order][keep] for k, v in by_name.items()}


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


def load_sensorlog(source: str, *, limit: int | None = None) -> Dataset:
    """The windows of ``sensorlog:FILE.csv[?options]`` (see the module docstring)."""
    body = source[len(SENSORLOG_PREFIX) :]
    path_text, _, query = body.partition("?")
    try:
        opts = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise DataError(f"{source}: malformed options {query!r}") from None
    known = {"time", "columns", "rate", "period", "max_gap", "window", "hop", "label"}
    unknown = sorted(set(opts) - known)
    if unknown:
        raise DataError(
            f"{source}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    try:
        period = float(opts["period"]) if "period" in opts else 1.0 / float(opts.get("rate", 1))
        window = int(opts.get("window", 64))
        hop = int(opts.get("hop", max(window // 2, 1)))
        max_gap = float(opts.get("max_gap", 2 * period))
    except (ValueError, ZeroDivisionError):
        raise DataError(f"{source}: rate/period/window/hop/max_gap must be numbers") from None
    if not (period > 0 and math.isfinite(period)) or window < 2 or not 1 <= hop <= window:
        raise DataError(f"{source}: need period > 0, window >= 2 and 1 <= hop <= window")
    label_col = opts.get("label")
    columns = [c.strip() for c in opts["columns"].split(",")] if "columns" in opts else None
    t, values, names, by_name = read_sensor_csv(Path(path_text), opts.get("time"), columns)
    if label_col is not None:
        if label_col not in by_name:
            raise DataError(f"{source}: no label column {label_col!r}")
        if columns is None:
            keep = [i for i, n in enumerate(names) if n != label_col]
            names, values = [names[i] for i in keep], values[:, keep]
    grid, v = resample(t, values, period, max_gap)
    n_win = (grid.size - window) // hop + 1
    if n_win < 1:
        raise DataError(f"{source}: {grid.size} grid points, fewer than one window of {window}")
    starts = np.arange(n_win) * hop
    wins = np.stack([v[s : s + window].T for s in starts]).astype(np.float32)  # (k, C, W)
    ok = np.isfinite(wins).all(axis=(1, 2))
    labels = None
    if label_col is not None:
        lab = by_name[label_col]
        idx = np.clip(np.searchsorted(t, grid), 0, t.size - 1)
        row_lab = np.nan_to_num(lab[idx]).astype(np.int64)
        labels = np.array([row_lab[s : s + window].max() for s in starts])[ok]
    x = wins[ok]
    if x.shape[0] == 0:
        raise DataError(f"{source}: every window has a missing value (gaps over {max_gap} s)")
    if limit is not None:
        x = x[:limit]
        labels = None if labels is None else labels[:limit]
    missing = float(np.mean(~np.isfinite(v)))
    rate = 1.0 / period
    return Dataset(
        name=source,
        x=x,
        layout="NCW",
        fingerprint=fingerprint([x, labels], {"source": "sensorlog", **opts}),
        description=(
            f"{len(names)} sensors ({', '.join(names)}) at {rate:g}/s, {x.shape[0]} windows of "
            f"{window} (hop {hop}); {int((~ok).sum())} windows masked out for missing values "
            f"({100 * missing:.1f} % of grid points missing, none imputed)"
        ),
        labels=labels,
        labels_are_anomalies=labels is not None,
        sample_rate=round(rate) if rate >= 1 and float(round(rate)) == rate else None,
        window=window,
        hop=hop,
        channel_names=tuple(names),
    )
