"""Anomaly scoring: reconstruction error per item or per signal window, against a threshold.

The score of an item is its model-space reconstruction error (``manifest.anomaly.score``:
mse or mae) under the manifest's score law (:func:`anomaly_scores`: the error itself
for ``tails="upper"``, its log distance from the normal median for ``"both"``); an
item is anomalous when its score is above ``manifest.anomaly.threshold`` (calibrated
at training on held-out normal data by :func:`calibrate_anomaly`) or the threshold
the caller gives. On streams, windows are framed exactly
as the denoiser frames them, and the manifest's event law
(:mod:`edgeae_runtime.events`: hysteresis, k-of-n vote, minimum duration) turns
window scores into :class:`AnomalyEvent` s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ManifestError, ModelError, ParameterError
from .events import AnomalyEvent, EventDetector, EventRule
from .framing import FrameBatch, SignalFramer
from .model import Model
from .preprocess import normalize
from .scores import anomaly_scores as anomaly_scores
from .scores import calibrate_anomaly as calibrate_anomaly
from .stream import check_signal_model

__all__ = [
    "AnomalyEvent",
    "AnomalyScorer",
    "ScoreUpdate",
    "StreamScorer",
    "anomaly_scores",
    "calibrate_anomaly",
    "resolve_threshold",
]


def resolve_threshold(model: Model, threshold: float | None) -> float:
    """The caller's threshold, else the manifest's; ManifestError when there is neither."""
    if threshold is not None:
        value = float(threshold)
        if not math.isfinite(value):  # nan flags nothing, inf never flags: both silently wrong
            raise ParameterError(f"must be a finite number, got {threshold}", param="threshold")
        return value
    if model.manifest.anomaly is None:
        raise ManifestError(
            f"{model.path.name}: manifest.anomaly is missing (no calibrated threshold); "
            "give a threshold explicitly",
            param="threshold",
        )
    return float(model.manifest.anomaly.threshold)


def _check_scorer_model(model: Model) -> None:
    if model.role != "autoencoder":
        raise ModelError(
            f"{model.path.name} is the {model.role}; anomaly scoring needs the full "
            "autoencoder (model.onnx)"
        )


@dataclass(frozen=True)
class ScoreUpdate:
    """Windows scored by one ``push``/``flush`` and the events that closed meanwhile."""

    starts: np.ndarray  # first sample of each scored window, int64
    scores: np.ndarray  # float32
    flags: np.ndarray  # bool, the window is on under the event law (score > threshold by default)
    events: list[AnomalyEvent] = field(default_factory=list)


class AnomalyScorer:
    """Score batches of items ``(N, *item_shape)``: scores and flags at the threshold."""

    def __init__(self, model: Model, *, threshold: float | None = None) -> None:
        _check_scorer_model(model)
        self.model = model
        self.threshold = resolve_threshold(model, threshold)

    def score(self, x: Any) -> np.ndarray:
        """Per-item anomaly scores of raw-unit input (the manifest's score law)."""
        return self.model.score(x)

    def flag(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, flags)``: flags are ``scores > threshold``."""
        scores = self.model.score(x)
        return scores, scores > self.threshold


class StreamScorer:
    """Score a signal pushed in chunks, one score per window as windows complete.

    ``push`` and ``flush`` return a :class:`ScoreUpdate`; ``events`` lists every
    closed event so far. An event closes once a later window starts after its
    end (or at ``flush``); its ``end`` is clipped to the signal length. The event
    law is the manifest's (:class:`~edgeae_runtime.events.EventRule`), at
    ``threshold`` when given. The last
    window is zero-padded at the end, like the denoiser's. The model must be
    the full autoencoder with a signal section.
    """

    def __init__(
        self,
        model: Model,
        *,
        threshold: float | None = None,
        sample_rate: int | None = None,
        max_batch: int | None = None,
    ) -> None:
        _check_scorer_model(model)
        self.model = model
        self.spec = check_signal_model(model, sample_rate)
        self.threshold = resolve_threshold(model, threshold)
        self.max_batch = max_batch
        self._framer = SignalFramer.of(self.spec, name=f"{model.path.name} stream")
        self.rule = EventRule.from_spec(model.manifest.anomaly, self.threshold)
        self._detector = EventDetector(self.rule, self.spec.window)
        self.events: list[AnomalyEvent] = []

    @property
    def samples_in(self) -> int:
        """Samples pushed in the current stream."""
        return self._framer.samples_in

    def reset(self) -> None:
        """Start a new stream; forgets events."""
        self._framer.reset()
        self._detector.reset()
        self.events = []

    def _score(self, batch: FrameBatch, final: bool) -> ScoreUpdate:
        frames, k = batch.frames, len(batch)
        starts = batch.starts
        if k:
            items = frames.reshape((k, *self.model.item_shape))
            xn = normalize(items, self.model.manifest.preprocessing)
            scores = self.model._score_model_space(xn, self.max_batch)
        else:
            scores = np.zeros(0, dtype=np.float32)
        flags, closed = self._detector.update(starts, scores)
        if final:
            closed += self._detector.finish(self._framer.samples_in)
        self.events.extend(closed)
        return ScoreUpdate(starts, scores, flags, closed)

    def push(self, chunk: Any) -> ScoreUpdate:
        """Feed samples; score the windows they complete."""
        return self._score(self._framer.push(chunk), final=False)

    def flush(self) -> ScoreUpdate:
        """End of stream: score the zero-padded last windows and close any open event.

        The scorer is then ready for a new stream; ``events`` keeps this one's events
        until :meth:`reset`.
        """
        update = self._score(self._framer.flush(), final=True)
        self._framer.reset()
        return update
