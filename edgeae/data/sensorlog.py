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

import math
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime.errors import InputError
from edgeae_runtime.manifest import SensorLogSpec
from edgeae_runtime.sensorlog import cut_windows, read_sensor_csv

from .dataset import Dataset, fingerprint

__all__ = ["SENSORLOG_PREFIX", "load_sensorlog"]

SENSORLOG_PREFIX = "sensorlog:"


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
    try:
        t, values, names, by_name, _ = read_sensor_csv(Path(path_text), opts.get("time"), columns)
        if label_col is not None:
            if label_col not in by_name:
                raise DataError(f"{source}: no label column {label_col!r}")
            if columns is None:
                keep = [i for i, n in enumerate(names) if n != label_col]
                names, values = [names[i] for i in keep], values[:, keep]
        text = [n for i, n in enumerate(names) if not np.isfinite(values[:, i]).any()]
        if text and columns is None:  # a status/comment column: not a sensor
            keep = [i for i, n in enumerate(names) if n not in text]
            if not keep:
                raise DataError(f"{source}: no column holds numbers ({', '.join(text)})")
            names, values = [names[i] for i in keep], values[:, keep]
        elif text:
            raise DataError(
                f"{source}: column(s) {', '.join(text)} hold no numbers; drop them from ?columns="
            )
        spec = SensorLogSpec(columns=tuple(names), period=period, max_gap=max_gap, hop=hop,
                             time=opts.get("time", ""))  # fmt: skip
        cut = cut_windows(t, values, spec, window, where=source)
    except InputError as exc:
        raise DataError(str(exc)) from None
    grid, v, starts, wins, ok, _ = cut
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
            + (f"; text column(s) {', '.join(text)} left out" if text else "")
        ),
        labels=labels,
        labels_are_anomalies=labels is not None,
        sample_rate=round(rate) if rate >= 1 and float(round(rate)) == rate else None,
        window=window,
        hop=hop,
        channel_names=tuple(names),
        sensorlog=spec,
    )
