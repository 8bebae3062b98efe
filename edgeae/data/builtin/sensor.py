"""``builtin:sensor``: a synthetic multi-channel vibration recording with labeled anomalies.

Each channel is a sensor at a different position on one machine: harmonics 1x..5x
of a slowly drifting shaft speed (about 25 Hz) with channel-specific amplitudes
and phases, plus broadband noise. The first ``normal_fraction`` of the recording
is normal; the rest holds anomaly segments of every kind, one per slot, with
normal stretches between them. Everything is generated with numpy from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeae.errors import DataError

__all__ = ["ANOMALY_KINDS", "SensorOptions", "make_sensor", "make_sensor_normal"]

# Label k of a sample/window is ANOMALY_KINDS[k]; 0 is normal.
ANOMALY_KINDS = ("normal", "impulse", "imbalance", "frequency_shift", "dropout")

_SHAFT_HZ = 25.0
_HARMONIC_AMPS = np.array([1.0, 0.5, 0.3, 0.15, 0.1])
_NOISE_STD = 0.15
_SLOT_SECONDS = 10.0  # one anomaly segment per slot of this length


@dataclass(frozen=True)
class SensorOptions:
    """Options of ``builtin:sensor`` (all settable in the source string)."""

    seconds: float = 180.0
    channels: int = 3
    sample_rate: int = 1000
    normal_fraction: float = 0.5
    seed: int = 0

    def check(self) -> None:
        """Raise :class:`DataError` for options the generator cannot honour."""
        if not 4.0 <= self.seconds <= 3600.0:
            raise DataError(f"builtin:sensor: seconds must be in [4, 3600], got {self.seconds}")
        if not 1 <= self.channels <= 64:
            raise DataError(f"builtin:sensor: channels must be in [1, 64], got {self.channels}")
        if not 500 <= self.sample_rate <= 100_000:
            raise DataError(
                f"builtin:sensor: sample_rate must be in [500, 100000] Hz, got {self.sample_rate}"
            )
        if not 0.1 <= self.normal_fraction <= 0.9:
            raise DataError(
                f"builtin:sensor: normal_fraction must be in [0.1, 0.9], got {self.normal_fraction}"
            )


def _segments(
    opts: SensorOptions, total: int, rng: np.random.Generator
) -> list[tuple[int, int, int]]:
    """Anomaly segments ``(start, stop, kind)`` in the part after the normal prefix."""
    first = int(total * opts.normal_fraction)
    slots = max(len(ANOMALY_KINDS) - 1, int((total - first) / opts.sample_rate // _SLOT_SECONDS))
    edges = np.linspace(first, total, slots + 1).astype(int)
    kinds = np.concatenate(
        [rng.permutation(np.arange(1, len(ANOMALY_KINDS))) for _ in range(slots // 4 + 1)]
    )
    out = []
    for i in range(slots):
        slot = edges[i + 1] - edges[i]
        length = int(slot * rng.uniform(0.3, 0.6))
        start = edges[i] + int(rng.integers(0, slot - length + 1))
        out.append((start, start + length, int(kinds[i])))
    return out


@dataclass(frozen=True)
class _Machine:
    """What the seed fixes about the machine: its drift and each sensor's harmonics."""

    period: float  # seconds of one slow speed-drift cycle
    drift_phase: float
    amps: np.ndarray  # (channels, harmonics)
    phis: np.ndarray  # (channels, harmonics)


def _draw_machine(
    opts: SensorOptions, total: int, rng: np.random.Generator
) -> tuple[list[tuple[int, int, int]], np.ndarray, _Machine]:
    """The seed's draws in their order: anomaly segments, the speed walk's knots, the machine."""
    segments = _segments(opts, total, rng)
    knots = rng.uniform(-0.02, 0.02, np.arange(0.0, opts.seconds + 5.0, 5.0).size)
    period = rng.uniform(40.0, 80.0)
    drift_phase = rng.uniform(0, 6.3)
    amps = _HARMONIC_AMPS[None, :] * rng.uniform(0.6, 1.4, (opts.channels, _HARMONIC_AMPS.size))
    phis = rng.uniform(0.0, 2 * np.pi, (opts.channels, _HARMONIC_AMPS.size))
    return segments, knots, _Machine(period, drift_phase, amps, phis)


def _running(
    machine: _Machine, t: np.ndarray, knots: np.ndarray, labels: np.ndarray, sr: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(shaft speed, harmonics signal)`` at times ``t`` (frequency shift, imbalance by label)."""
    # Shaft speed: a slow sine drift plus a smooth random walk, within about +-8 %.
    walk = np.interp(t, t[0] + 5.0 * np.arange(knots.size), knots)
    drift = np.sin(2 * np.pi * t / machine.period + machine.drift_phase)
    speed = _SHAFT_HZ * (1.0 + 0.06 * drift + walk)
    speed = np.where(labels == 3, speed * 1.3, speed)  # frequency shift: the shaft runs 30 % fast
    phase = 2 * np.pi * np.cumsum(speed) / sr
    imbalance = np.where(labels == 2, 3.0, 1.0)  # imbalance: the 1x harmonic triples
    signal = np.zeros((machine.amps.shape[0], t.size))
    for k in range(_HARMONIC_AMPS.size):
        gain = imbalance if k == 0 else 1.0
        amp, phi = machine.amps[:, k : k + 1], machine.phis[:, k : k + 1]
        signal += amp * gain * np.sin((k + 1) * phase + phi)
    return speed, signal


def make_sensor(opts: SensorOptions) -> tuple[np.ndarray, np.ndarray]:
    """Generate float32 ``signal`` ``(channels, samples)`` and int64 ``sample_labels``."""
    opts.check()
    rng = np.random.default_rng(opts.seed)
    sr, total, ch = opts.sample_rate, int(opts.seconds * opts.sample_rate), opts.channels
    t = np.arange(total) / sr
    segments, knots, machine = _draw_machine(opts, total, rng)
    labels = np.zeros(total, dtype=np.int64)
    for start, stop, kind in segments:
        labels[start:stop] = kind
    speed, signal = _running(machine, t, knots, labels, sr)
    signal += rng.normal(0.0, _NOISE_STD, (ch, total))

    # Impulses: a bearing-defect-like train (3.6 per revolution) ringing at a resonance.
    spikes = np.zeros(total)
    for start, stop, kind in segments:
        if kind == 1:
            spacing = max(int(sr / (3.6 * speed[start:stop].mean())), 1)
            spikes[start:stop:spacing] = rng.uniform(3.0, 5.0, len(range(start, stop, spacing)))
    tk = np.arange(int(0.04 * sr)) / sr
    ring = np.exp(-tk / 0.008) * np.sin(2 * np.pi * min(180.0, 0.4 * sr) * tk)
    signal += rng.uniform(0.6, 1.0, (ch, 1)) * np.convolve(spikes, ring)[:total]

    # Dropout: the sensor goes dead, only a trace of electrical noise remains.
    dead = labels == 4
    signal[:, dead] = rng.normal(0.0, 0.005, (ch, int(dead.sum())))
    return signal.astype(np.float32), labels


def make_sensor_normal(opts: SensorOptions, seconds: float, seed: int) -> np.ndarray:
    """More normal running of ``opts``' machine: float32 ``(channels, seconds * rate)``.

    The machine is the one ``make_sensor(opts)`` records (the seed's harmonic
    amplitudes and phases per sensor, its drift period and phase); the speed walk and
    the noise are fresh draws of ``seed`` and the time axis continues after the
    recording, so the result is unseen normal data of the same distribution as the
    recording's normal stretches, for measuring false-alarm rates too small for the
    recording itself to resolve. No anomalies. ``seconds`` in [1, 86400].
    """
    opts.check()
    if not 1.0 <= seconds <= 86400.0:
        raise DataError(f"builtin:sensor: seconds must be in [1, 86400], got {seconds}")
    sr = opts.sample_rate
    _, _, machine = _draw_machine(opts, int(opts.seconds * sr), np.random.default_rng(opts.seed))
    rng = np.random.default_rng([opts.seed, seed])
    total = int(seconds * sr)
    t = opts.seconds + np.arange(total) / sr
    knots = rng.uniform(-0.02, 0.02, np.arange(0.0, seconds + 5.0, 5.0).size)
    _, signal = _running(machine, t, knots, np.zeros(total, dtype=np.int64), sr)
    signal += rng.normal(0.0, _NOISE_STD, (opts.channels, total))
    return signal.astype(np.float32)
