"""The one latency type: every timing is a ``Latency`` in microseconds (units in the names)."""

from __future__ import annotations

import dataclasses
import time

from edgeae_runtime import Model
from edgeae_runtime.bench import Latency, batch_latency, time_calls


def test_time_calls_reports_microseconds_and_ordered_percentiles() -> None:
    lat = time_calls(lambda: time.sleep(0.001), repeats=8, warmup=1, batch=4)
    assert isinstance(lat, Latency) and lat.calls == 8 and lat.batch == 4
    assert 900 <= lat.min_us <= lat.median_us <= lat.p90_us <= lat.p99_us <= lat.max_us
    assert lat.items_per_s == 4 / (lat.median_us * 1e-6)
    floats = [f.name for f in dataclasses.fields(lat) if f.type == "float"]
    assert floats and all(name.endswith("_us") for name in floats)


def test_batch_latency_records_the_batch(conv: Model) -> None:
    lat = batch_latency(conv, 3, repeats=3, warmup=1)
    assert isinstance(lat, Latency) and lat.batch == 3 and lat.calls == 3
