"""Demo step: the sensor recording through the int8 StreamScorer, events vs the true segments."""

from __future__ import annotations

import numpy as np

from .results import AnomalyStep, QuantizeStep, TrainStep
from .spec import DemoRun

__all__ = ["run", "segments"]


def segments(sample_labels: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` runs of anomalous samples (label > 0)."""
    bad = np.r_[False, np.asarray(sample_labels) > 0, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(bad))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def run(trained: TrainStep, quantized: QuantizeStep, demo: DemoRun) -> AnomalyStep:
    """Push the recording in 1 s chunks; count detected segments and false events."""
    from edgeae_runtime.anomaly import StreamScorer
    from edgeae_runtime.model import Model

    ds = trained.dataset
    signal, rate = ds.signal, int(ds.sample_rate)
    scorer = StreamScorer(Model(quantized.path))
    updates = [scorer.push(signal[:, i : i + rate]) for i in range(0, signal.shape[1], rate)]
    updates.append(scorer.flush())
    scores = np.concatenate([u.scores for u in updates])
    events = tuple(scorer.events)
    truth = tuple(segments(ds.sample_labels))
    hit = [any(e.start < t1 and e.end > t0 for e in events) for t0, t1 in truth]
    false_events = [e for e in events if not any(e.start < t1 and e.end > t0 for t0, t1 in truth)]
    return AnomalyStep(
        seconds=signal.shape[1] / rate,
        sample_rate=rate,
        threshold=float(scorer.threshold),
        truth=truth,
        events=events,
        detected=int(sum(hit)),
        false_events=len(false_events),
        signal=signal[0],
        score_trace=np.repeat(scores, scorer.spec.hop)[: signal.shape[1]],
    )
