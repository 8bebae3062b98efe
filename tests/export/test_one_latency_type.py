"""The exporter's speed gate, ``edgeae compare`` and the benchmarks report the runtime's Latency."""

from __future__ import annotations

import dataclasses

from edgeae_export.bench import Latency as ExportLatency
from edgeae_export.bench import measure_callable
from edgeae_export.compare.result import ModelStats
from edgeae_runtime.bench import Latency


def test_every_package_uses_the_same_latency_type() -> None:
    assert ExportLatency is Latency
    lat = measure_callable(lambda: None, budget_s=0.01, batch=2)
    assert isinstance(lat, Latency) and lat.batch == 2
    hints = {f.name: f.type for f in dataclasses.fields(ModelStats)}
    assert "Latency" in str(hints["latency"])
