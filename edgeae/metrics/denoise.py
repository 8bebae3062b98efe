"""Speech metrics of a denoiser on whole held-out files: what compare and quantize budget on.

A denoiser (a runtime :class:`~edgeae_runtime.model.Model` with a signal spec)
denoises each :class:`~edgeae.data.corpus.Pair`'s noisy file offline
(:func:`edgeae_runtime.stream.denoise_offline`, or
:func:`edgeae_runtime.spectral.denoise_spectral_offline` for a spectral-mask model;
the streaming denoisers equal them), and each metric is averaged over files. The
noisy input scored the same way is the baseline every report shows next to the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from edgeae.errors import DataError
from edgeae_export.budget import TaskMetric, Validation
from edgeae_runtime.model import Model
from edgeae_runtime.spectral import denoise_spectral_offline, is_spectral
from edgeae_runtime.stream import denoise_offline

from .speech import SPEECH_METRICS, metric_function

__all__ = [
    "UNITS",
    "available_metrics",
    "compare_speech",
    "denoise_pairs",
    "score_pairs",
    "speech_report",
    "speech_text",
    "task_metric",
]

UNITS = {"snr": "dB", "sisnr": "dB", "pesq": "MOS", "stoi": ""}


def denoise_pairs(model: Model, pairs: Sequence[Any]) -> list[np.ndarray]:
    """The model's output for every pair's noisy file, 1-D float32 like the input."""
    run = denoise_spectral_offline if is_spectral(model) else denoise_offline
    return [np.asarray(run(model, p.noisy[np.newaxis]))[0] for p in pairs]


def score_pairs(
    pairs: Sequence[Any],
    estimates: Sequence[np.ndarray] | None,
    sample_rate: int,
    metrics: Sequence[str] = SPEECH_METRICS,
) -> dict[str, float]:
    """Mean of each metric over files; ``estimates`` None scores the noisy input itself."""
    if not pairs:
        raise DataError("speech metrics: no validation files to score")
    fns = {m: metric_function(m) for m in metrics}
    outs = [p.noisy for p in pairs] if estimates is None else estimates
    return {
        m: float(np.mean([fn(p.clean, y, sample_rate) for p, y in zip(pairs, outs, strict=True)]))
        for m, fn in fns.items()
    }


def speech_report(
    models: Sequence[tuple[str, Model]],
    pairs: Sequence[Any],
    sample_rate: int,
    metrics: Sequence[str] = SPEECH_METRICS,
) -> dict[str, Any]:
    """``{"files", "metrics", "rows": {"noisy input": {...}, name: {...}}}``, means over files."""
    rows = {"noisy input": score_pairs(pairs, None, sample_rate, metrics)}
    for name, model in models:
        rows[name] = score_pairs(pairs, denoise_pairs(model, pairs), sample_rate, metrics)
    return {
        "files": [p.name for p in pairs],
        "sample_rate": sample_rate,
        "metrics": list(metrics),
        "units": {m: UNITS[m] for m in metrics},
        "rows": rows,
    }


def task_metric(name: str, pairs: Sequence[Any], sample_rate: int) -> TaskMetric:
    """A quantization budget metric (``sisnr``, ``pesq``, ...) measured on whole ``pairs``."""
    fn = metric_function(name)  # a missing extra fails here, before any quantization

    def measure(model: Model, _validation: Validation) -> float:
        outs = denoise_pairs(model, pairs)
        return float(
            np.mean([fn(p.clean, y, sample_rate) for p, y in zip(pairs, outs, strict=True)])
        )

    return TaskMetric(name, UNITS[name], measure)


def available_metrics() -> list[str]:
    """The speech metrics this install can compute (PESQ/STOI need the metrics extra)."""
    import importlib.util

    have = {"pesq": "pesq", "stoi": "pystoi"}
    return [m for m in SPEECH_METRICS if m not in have or importlib.util.find_spec(have[m])]


def compare_speech(
    model_a: str, model_b: str, corpus: Any, metrics: Sequence[str] | None = None
) -> dict[str, Any]:
    """Speech metrics of models A and B on the corpus's held-out files (and of the input).

    The corpus must be at the models' sample rate (``load_speech(src, sample_rate=...)``).
    """
    names = available_metrics() if metrics is None else list(metrics)
    models = [("A", Model(model_a, threads=1)), ("B", Model(model_b, threads=1))]
    report = speech_report(models, corpus.validation_pairs(), corpus.sample_rate, names)
    report["missing"] = [m for m in SPEECH_METRICS if m not in names]
    return report


def speech_text(report: dict[str, Any]) -> str:
    """The speech-metrics table of :func:`compare_speech` as terminal text."""
    metrics = report["metrics"]
    head = ["speech (mean over files)", *(f"{m} {report['units'][m]}".strip() for m in metrics)]
    rows = [[name, *(f"{vals[m]:.3f}" for m in metrics)] for name, vals in report["rows"].items()]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in (head, *rows)
    ]
    lines.append(f"held-out files: {len(report['files'])} at {report['sample_rate']} Hz")
    if report.get("missing"):
        lines.append(
            f"not measured: {', '.join(report['missing'])} (pip install 'edgeae[metrics]')"
        )
    return "\n".join(lines)
