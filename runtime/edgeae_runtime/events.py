"""The event law on a stream of window scores: hysteresis, k-of-n voting, minimum duration.

Windows arrive in time order, each with its first sample and score. A window is
*active* when its score is above ``threshold``, or, once active, while it stays
above ``release`` (hysteresis: ``release = threshold - hysteresis * |threshold|``,
``threshold * (1 - hysteresis)`` for the usual positive thresholds). A window
is *on* when at least ``vote_k`` of the last ``vote_n`` windows were active. Runs
of on-windows whose sample ranges overlap or touch form one event; an event is
reported only if it holds at least ``min_windows`` on-windows. With the defaults
(no hysteresis, 1-of-1, one window) every window above the threshold is on and
every run of them is an event. One implementation, streaming
(:class:`EventDetector`) and offline (:func:`detect_events`); the runtime's
:class:`~edgeae_runtime.StreamScorer`, the per-hour false-alarm calibration and
the benchmarks use it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["AnomalyEvent", "EventDetector", "EventRule", "detect_events"]


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
class EventRule:
    """Thresholds and smoothing of the event law (see the module docstring)."""

    threshold: float
    hysteresis: float = 0.0
    vote_k: int = 1
    vote_n: int = 1
    min_windows: int = 1

    def __post_init__(self) -> None:
        if not np.isfinite(self.threshold):
            raise InputError(f"event threshold: must be finite, got {self.threshold}")
        if not 0 <= self.hysteresis < 1:
            raise InputError(f"hysteresis: must be in [0, 1), got {self.hysteresis}")
        if not 1 <= self.vote_k <= self.vote_n:
            raise InputError(f"vote: need 1 <= k <= n, got {self.vote_k}-of-{self.vote_n}")
        if self.min_windows < 1:
            raise InputError(f"min_windows: must be >= 1, got {self.min_windows}")

    @property
    def release(self) -> float:
        """Score below which an active window run ends."""
        return self.threshold - self.hysteresis * abs(self.threshold)

    @classmethod
    def from_spec(cls, spec: Any, threshold: float | None = None) -> EventRule:
        """The rule of an AnomalySpec (or the defaults without one); ``threshold`` overrides."""
        t = float(threshold if threshold is not None else getattr(spec, "threshold", 0.0))
        if spec is None:
            return cls(threshold=t)
        return cls(
            threshold=t,
            hysteresis=float(spec.hysteresis),
            vote_k=int(spec.vote_k),
            vote_n=int(spec.vote_n),
            min_windows=int(spec.min_windows),
        )


class EventDetector:
    """Streaming event law over windows of ``window`` samples; feed scores in time order."""

    def __init__(self, rule: EventRule, window: int) -> None:
        if window < 1:
            raise InputError(f"event window: must be >= 1 sample, got {window}")
        self.rule = rule
        self.window = int(window)
        self.reset()

    def reset(self) -> None:
        """Forget all state (a new stream)."""
        self._active = False
        self._recent: deque[bool] = deque(maxlen=self.rule.vote_n)
        self._open: list[Any] | None = None  # [start, end, peak, windows]

    def update(
        self, starts: np.ndarray, scores: np.ndarray
    ) -> tuple[np.ndarray, list[AnomalyEvent]]:
        """``(on flags, events closed)`` for windows starting at ``starts`` with ``scores``."""
        r = self.rule
        flags = np.zeros(len(scores), dtype=bool)
        closed: list[AnomalyEvent] = []
        for i, (s, sc) in enumerate(
            zip(np.asarray(starts).tolist(), np.asarray(scores).tolist(), strict=True)
        ):
            self._active = sc > (r.release if self._active else r.threshold)
            self._recent.append(self._active)
            on = sum(self._recent) >= r.vote_k
            flags[i] = on
            ev = self._open
            if ev is not None and s > ev[1]:
                event = self._close(None)
                if event is not None:
                    closed.append(event)
                ev = None
            if on:
                if ev is None:
                    self._open = [s, s + self.window, sc, 1]
                else:
                    ev[1], ev[2], ev[3] = s + self.window, max(ev[2], sc), ev[3] + 1
        return flags, closed

    def finish(self, samples: int | None = None) -> list[AnomalyEvent]:
        """Close an open event at the end of the stream (``end`` clipped to ``samples``)."""
        event = self._close(samples)
        self._active = False
        self._recent.clear()
        return [event] if event is not None else []

    def _close(self, samples: int | None) -> AnomalyEvent | None:
        ev, self._open = self._open, None
        if ev is None or ev[3] < self.rule.min_windows:
            return None
        start, end, peak, count = ev
        if samples is not None:
            end = min(end, max(samples, start + 1))
        return AnomalyEvent(int(start), int(end), float(peak), int(count))


def detect_events(
    scores: np.ndarray,
    rule: EventRule,
    *,
    hop: int = 1,
    window: int = 1,
    samples: int | None = None,
) -> tuple[np.ndarray, list[AnomalyEvent]]:
    """Offline event law: ``(on flags, events)`` of window scores in time order.

    Window ``i`` starts at sample ``i * hop`` and covers ``window`` samples (the
    defaults count in windows: one sample per window).
    """
    sc = np.asarray(scores, dtype=np.float64).reshape(-1)
    det = EventDetector(rule, window)
    flags, events = det.update(np.arange(sc.size, dtype=np.int64) * hop, sc)
    return flags, events + det.finish(samples)
