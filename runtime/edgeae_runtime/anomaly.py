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

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ManifestError, ModelError, ParameterError
from .events import AnomalyEvent, EventDetector, EventRule
from .framing import FrameBatch, SignalFramer, overrunning
from .manifest import AnomalySpec
from .metrics import per_item_error
from .model import Model, _as_batch
from .preprocess import normalize
from .scores import anomaly_scores as anomaly_scores
from .scores import baseline_for, item_independence
from .scores import calibrate_anomaly as calibrate_anomaly
from .stream import check_signal_model

__all__ = [
    "AnomalyEvent",
    "AnomalyScorer",
    "ClipScorer",
    "LogScorer",
    "ScoreUpdate",
    "StreamScorer",
    "anomaly_scores",
    "calibrate_anomaly",
    "channel_contributions",
    "clip_threshold_of",
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


def clip_threshold_of(spec: AnomalySpec | None, item_threshold: float) -> tuple[float, str]:
    """The clip-level threshold and where it comes from: the manifest's clip threshold
    (calibrated on held-out clips), else the item threshold (ClipScorer's and compare's rule)."""
    if spec is not None and spec.clip_threshold is not None:
        return float(spec.clip_threshold), "manifest clip threshold"
    return float(item_threshold), "item threshold (no clip threshold)"


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
    # (k, channels): each channel's share of each window's error (``per_channel=True``)
    channels: np.ndarray | None = None


def _channel_shares(xn: np.ndarray, yn: np.ndarray, kind: str) -> np.ndarray:
    """Per item, each channel's share of the error (axis 1: channels; NF: features)."""
    d = xn - yn
    per = (d**2 if kind == "mse" else np.abs(d)).reshape(d.shape[0], d.shape[1], -1).sum(axis=2)
    total = per.sum(axis=1, keepdims=True)
    return (per / np.where(total > 0, total, 1.0)).astype(np.float32)


def channel_contributions(model: Model, x: Any, *, max_batch: int | None = None) -> np.ndarray:
    """Which sensor is anomalous: each channel's share of each item's error, ``(N, C)``.

    Computed in model space (every channel normalized alike, so units do not
    weigh), rows sum to 1; ``C`` is the channel axis of NCW/NCHW items (the
    feature axis for NF). The item's error is the sum over channels, so a share
    near 1 names the channel that made the item anomalous.
    """
    _check_scorer_model(model)
    xb = _as_batch(x, model.item_shape, f"{model.path.name}: channel contributions input")
    xn = normalize(xb, model.manifest.preprocessing)
    yn = model._run_model_space("reconstruction", xn, max_batch)
    return _channel_shares(xn, yn, model.anomaly_spec.score)


def _running_baseline(model: Model, threshold: float) -> Any:
    """The manifest's running score baseline at ``threshold`` (None when it has none); its
    law counts the model's independent windows (:func:`~edgeae_runtime.scores.
    item_independence`: overlapping windows share samples, ``hop / window`` of them count)."""
    a = model.manifest.anomaly
    if a is None:
        return None
    return baseline_for(
        dataclasses.replace(a, threshold=threshold), independent=item_independence(model.manifest)
    )


def _window_scores(
    model: Model, items: np.ndarray, per_channel: bool, max_batch: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Scores of raw windows ``(k, *item_shape)``, and each channel's share when asked."""
    if not len(items):
        return np.zeros(0, np.float32), np.zeros((0, model.item_shape[0]), np.float32)
    xn = normalize(items, model.manifest.preprocessing)
    if not per_channel:
        return model._score_model_space(xn, max_batch), None
    yn = model._run_model_space("reconstruction", xn, max_batch)
    spec = model.anomaly_spec
    return anomaly_scores(per_item_error(xn, yn, spec.score), spec), _channel_shares(
        xn, yn, spec.score
    )


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
    ``threshold`` when given. A window that runs past the end of the stream (the
    zero-padded last one, framed like the denoiser's) is not scored: padding is not data,
    and the calibration holds no such window (:func:`~edgeae_runtime.framing.overrunning`);
    only a stream shorter than one window gets its one padded window scored, as the
    calibration keeps it when it is the only one. The model must be
    the full autoencoder with a signal section. With ``manifest.anomaly.baseline_windows``
    the scores are re-standardized against the stream's own last windows
    (:class:`~edgeae_runtime.scores.ScoreBaseline`) before the event law.
    """

    def __init__(
        self,
        model: Model,
        *,
        threshold: float | None = None,
        sample_rate: int | None = None,
        max_batch: int | None = None,
        per_channel: bool = False,
    ) -> None:
        _check_scorer_model(model)
        self.model = model
        self.per_channel = per_channel
        self.spec = check_signal_model(model, sample_rate)
        self.threshold = resolve_threshold(model, threshold)
        self.max_batch = max_batch
        self._framer = SignalFramer.of(self.spec, name=f"{model.path.name} stream")
        self.rule = EventRule.from_spec(model.manifest.anomaly, self.threshold)
        self._detector = EventDetector(self.rule, self.spec.window)
        self._baseline = _running_baseline(model, self.threshold)
        self.events: list[AnomalyEvent] = []

    @property
    def samples_in(self) -> int:
        """Samples pushed in the current stream."""
        return self._framer.samples_in

    def reset(self) -> None:
        """Start a new stream; forgets events."""
        self._framer.reset()
        self._detector.reset()
        if self._baseline is not None:
            self._baseline.reset()
        self.events = []

    def _score(self, batch: FrameBatch, final: bool) -> ScoreUpdate:
        frames, k = batch.frames, len(batch)
        starts = batch.starts
        items = frames.reshape((k, *self.model.item_shape))
        scores, shares = _window_scores(self.model, items, self.per_channel, self.max_batch)
        if self._baseline is not None:
            scores = self._baseline.update(scores)
        flags, closed = self._detector.update(starts, scores)
        if final:
            closed += self._detector.finish(self._framer.samples_in)
        self.events.extend(closed)
        return ScoreUpdate(starts, scores, flags, closed, shares if self.per_channel else None)

    def push(self, chunk: Any) -> ScoreUpdate:
        """Feed samples; score the windows they complete."""
        return self._score(self._framer.push(chunk), final=False)

    def flush(self) -> ScoreUpdate:
        """End of stream: close any open event; the zero-padded last window is not scored.

        The last samples (fewer than ``hop``) past the last complete window are then in
        no scored window; a stream shorter than one window has its one padded window
        scored (there is no other). The scorer is then ready for a new stream; ``events``
        keeps this one's events until :meth:`reset`.
        """
        batch = self._framer.flush()
        if batch.index > 0:  # complete windows were scored: drop the ones past the end
            keep = ~overrunning(batch.starts, self.spec.window, self._framer.samples_in)
            batch = FrameBatch(batch.index, batch.frames[keep], batch.hop)
        update = self._score(batch, final=True)
        self._framer.reset()
        if self._baseline is not None:
            self._baseline.reset()
        return update


class LogScorer:
    """Score a CSV sensor log the way its model was trained (``manifest.sensorlog``).

    The log is resampled and cut into windows by :mod:`edgeae_runtime.sensorlog`;
    windows holding a missing grid point are *masked*: never scored, never imputed
    (``log.complete`` is False for them), and an event ends at a gap longer than a
    window. The score
    law, running baseline and event law are :class:`StreamScorer`'s; starts count
    grid points, ``grid`` maps them to the log's time.
    """

    def __init__(
        self, model: Model, *, threshold: float | None = None, max_batch: int | None = None
    ) -> None:
        _check_scorer_model(model)
        if model.manifest.sensorlog is None:
            raise ManifestError(
                f"{model.path.name}: manifest.sensorlog is missing; this model was not "
                "trained on a sensor log (sensorlog:FILE.csv)"
            )
        self.model, self.max_batch = model, max_batch
        self.threshold = resolve_threshold(model, threshold)
        self.rule = EventRule.from_spec(model.manifest.anomaly, self.threshold)
        self._baseline = _running_baseline(model, self.threshold)

    def score(self, path: Any) -> tuple[ScoreUpdate, Any]:
        """``(update, log)``: the complete windows' scores, flags, events and channel shares,
        and the :class:`~edgeae_runtime.sensorlog.LogWindows` they came from."""
        from .sensorlog import log_windows

        model = self.model
        log = log_windows(path, model.manifest.sensorlog, model.item_shape[-1])
        ok = log.complete
        starts = log.starts[ok]
        scores, shares = _window_scores(model, log.windows[ok], True, self.max_batch)
        if self._baseline is not None:
            self._baseline.reset()
            scores = self._baseline.update(scores)
        detector = EventDetector(self.rule, model.item_shape[-1])
        flags, events = detector.update(starts, scores)
        events += detector.finish(int(log.grid.size))
        return ScoreUpdate(starts, scores, flags, events, shares), log


class ClipScorer:
    """Score audio with a log-mel model (``manifest.features``): per item, per clip, live.

    Audio pushed in chunks of any size goes through the runtime's log-mel
    front-end (:class:`~edgeae_runtime.logmel.LogMelStream`, items in the manifest's
    layout: flat for dense models, ``(n_mels, frames)`` patches for conv1d/conv2d);
    every stacked item is scored as it completes. Item ``k`` starts at sample ``k * hop`` and spans
    ``n_fft + (frames - 1) * hop`` samples, the range its events cover (the
    manifest's event law, as for :class:`StreamScorer`). ``clip_score`` is the
    mean (or max, ``features.reduce``) of the item scores so far: the DCASE clip
    score, anomalous above ``clip_threshold`` (the manifest's clip-level threshold,
    calibrated on held-out clips, else the item threshold; ``clip_threshold=`` overrides).
    """

    def __init__(
        self,
        model: Model,
        *,
        threshold: float | None = None,
        max_batch: int | None = None,
        clip_threshold: float | None = None,
    ) -> None:
        from .logmel import LogMelStream

        _check_scorer_model(model)
        features = model.manifest.features
        if features is None:
            raise ManifestError(
                f"{model.path.name}: manifest.features is missing; not a log-mel model"
            )
        self.model, self.features, self.max_batch = model, features, max_batch
        self.threshold = resolve_threshold(model, threshold)
        if clip_threshold is not None:
            self.clip_threshold = resolve_threshold(model, clip_threshold)
        elif threshold is None:
            self.clip_threshold, _ = clip_threshold_of(model.manifest.anomaly, self.threshold)
        else:  # the caller's item threshold stands for the clips too
            self.clip_threshold = self.threshold
        self.span = features.n_fft + (features.frames - 1) * features.hop
        self.rule = EventRule.from_spec(model.manifest.anomaly, self.threshold)
        self._detector = EventDetector(self.rule, self.span)
        self._stream = LogMelStream(
            features, layout=model.manifest.layout, name=f"{model.path.name} audio"
        )
        self.reset()

    def reset(self) -> None:
        """Start a new clip or stream; forgets events and scores."""
        self._stream.reset()
        self._detector.reset()
        self.events: list[AnomalyEvent] = []
        self._scores: list[np.ndarray] = []

    @property
    def samples_in(self) -> int:
        """Samples pushed in the current clip."""
        return self._stream.samples_in

    def _score(self, items: np.ndarray, final: bool) -> ScoreUpdate:
        first = self._stream.items_out - items.shape[0]
        starts = (np.arange(items.shape[0], dtype=np.int64) + first) * self.features.hop
        if items.shape[0]:
            scores = self.model.score(items, max_batch=self.max_batch)
        else:
            scores = np.zeros(0, dtype=np.float32)
        self._scores.append(scores)
        flags, closed = self._detector.update(starts, scores)
        if final:
            closed += self._detector.finish(self._samples)
        self.events.extend(closed)
        return ScoreUpdate(starts, scores, flags, closed)

    def push(self, chunk: Any) -> ScoreUpdate:
        """Feed mono samples; score the items they complete."""
        return self._score(self._stream.push(chunk), final=False)

    def flush(self) -> ScoreUpdate:
        """End of the clip: score the zero-padded tail's items, close any event."""
        self._samples = self._stream.samples_in  # the stream forgets it on flush
        return self._score(self._stream.flush(), final=True)

    @property
    def clip_score(self) -> float:
        """The reduce (mean or max) of every item score of this clip so far."""
        from .logmel import clip_score

        return clip_score(np.concatenate(self._scores or [np.zeros(0)]), self.features.reduce)

    @property
    def clip_anomalous(self) -> bool:
        """The clip so far is anomalous: ``clip_score > clip_threshold``."""
        return self.clip_score > self.clip_threshold

    def score_clip(self, signal: Any) -> tuple[np.ndarray, float]:
        """``(item scores, clip score)`` of one whole mono clip (resets first)."""
        self.reset()
        scores = np.concatenate([self.push(signal).scores, self.flush().scores])
        return scores, self.clip_score
