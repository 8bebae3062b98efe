"""Demo step: float vs int8 on the task's data, as ``edgeae compare`` measures it."""

from __future__ import annotations

from .results import CompareStep, ExportStep, QuantizeStep, TrainStep
from .spec import DemoRun

__all__ = ["run"]


def run(
    trained: TrainStep, exported: ExportStep, quantized: QuantizeStep, demo: DemoRun
) -> CompareStep:
    """Compare the float autoencoder with its int8 version; the report draws the plots later."""
    from edgeae_export.compare import compare_models

    spec, ds = trained.spec, trained.dataset
    c = compare_models(
        exported.files.autoencoder,
        quantized.path,
        ds,
        labels=ds.anomaly_labels,
        metric=spec.metric,
        max_drop=spec.max_drop,
        max_items=256 if demo.quick else 2048,
        batches=(1, 8) if demo.quick else (1, 256),
        measure_memory=not demo.quick,
        latency_budget_s=0.01 if demo.quick else 0.3,
    )
    lat_a = next((lat for lat in c.a.latency if lat.batch > 1), c.a.latency[0])
    lat_b = next((lat for lat in c.b.latency if lat.batch > 1), c.b.latency[0])
    return CompareStep(
        comparison=c, batch=lat_a.batch, float_p50_us=lat_a.median_us, int8_p50_us=lat_b.median_us
    )
