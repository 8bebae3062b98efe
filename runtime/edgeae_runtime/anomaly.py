"""Anomaly scoring: reconstruction error per item or per signal window, against a threshold.

The score of an item is its model-space reconstruction error (``manifest.anomaly.score``:
mse or mae) under the manifest's score law (:func:`anomaly_scores`: the error itself
for ``tails="upper"``, its log distance from the normal median for ``"both"``); an
item is anomalous when its score is above ``manifest.anomaly.threshold`` (calibrated
at training on held-out normal data by :func:`calibrate_anomaly`) or the threshold
the caller gives. On streams, windows are framed exactly
as the denoiser frames them, and runs of flagged windows whose sample ranges
overlap or touch are merged into :class:`AnomalyEvent` s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ManifestError, ModelError
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
        return float(threshold)
    if model.manifest.anomaly is None:
        raise ManifestError(
            f"{model.path.name}: manifest.anomaly is missing (no calibrated threshold); "
            "give a threshold explicitly (threshold=... or --threshold)"
        )
    return float(model.manifest.anomaly.threshold)


def _check_scorer_model(model: Model) -> None:
    if model.role != "autoencoder":
        raise ModelError(
            f"{model.path.name} is the {model.role}; anomaly scoring needs the full "
            "autoencoder (model.onnx)"
        )


@dataclass(frozen=True)
class AnomalyEvent:
    """A run of anomalous windows: samples ``[start, end)``, its peak score and size."""

    start: int
    end: int
    peak: float
    windows: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"start": self.start, "end": self.end, "peak": self.peak, "windows": self.windows}


@dataclass(frozen=True)
class ScoreUpdate:
    """Windows scored by one ``push``/``flush`` and the events that closed meanwhile."""

    starts: np.ndarray  # first sample of each scored window, int64
    scores: np.ndarray  # float32
    flags: np.ndarray  # bool, score > threshold
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
    end (or at ``flush``); its ``end`` is clipped to the signal length. The last
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
        self.events: list[AnomalyEvent] = []
        self._open: list[Any] | None = None  # [start, end, peak, windows]

    @property
    def samples_in(self) -> int:
        """Samples pushed in the current stream."""
        return self._framer.samples_in

    def reset(self) -> None:
        """Start a new stream; forgets events."""
        self._framer.reset()
        self.events = []
        self._open = None

    def _score(self, batch: FrameBatch, final: bool) -> ScoreUpdate:
        frames, k, w = batch.frames, len(batch), self.spec.window
        starts = batch.starts
        if k:
            items = frames.reshape((k, *self.model.item_shape))
            xn = normalize(items, self.model.manifest.preprocessing)
            scores = self.model.score_model_space(xn, self.max_batch)
        else:
            scores = np.zeros(0, dtype=np.float32)
        flags = scores > self.threshold
        closed: list[AnomalyEvent] = []
        for s, sc, fl in zip(starts.tolist(), scores.tolist(), flags.tolist(), strict=True):
            ev = self._open
            if ev is not None and s > ev[1]:
                closed.append(self._close())
                ev = None
            if fl:
                if ev is None:
                    self._open = [s, s + w, sc, 1]
                else:
                    ev[1], ev[2], ev[3] = s + w, max(ev[2], sc), ev[3] + 1
        if final and self._open is not None:
            closed.append(self._close())
        self.events.extend(closed)
        return ScoreUpdate(starts, scores, flags, closed)

    def _close(self) -> AnomalyEvent:
        start, end, peak, count = self._open  # type: ignore[misc]
        self._open = None
        end = min(end, max(self._framer.samples_in, start + 1))
        return AnomalyEvent(int(start), int(end), float(peak), int(count))

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
