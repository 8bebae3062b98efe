"""Synthetic noises for denoiser training: broadband, tonal, impulsive and low-frequency.

A few noise recordings teach a denoiser their own spectra; a model trained on
them learns fixed-frequency cuts (docs/speech.md: notches near 5.5 and 7 kHz on
VoiceBank-DEMAND). Synthetic noises with random slopes, bands, lines and
envelopes stand for the noises a folder does not hold. One implementation: the
shipped denoiser's training law (benchmarks/speech_data.py) and ``mix:``
sources (:mod:`edgeae.data.mixing`, ``synthetic=``) both draw from
:func:`synthetic_noise`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["babble_noise", "loop_segment", "play_faster", "rumble_noise", "synthetic_noise"]


def coloured_noise(n: int, rng: np.random.Generator, rate: int) -> np.ndarray:
    """Noise with a random spectral slope (-2 brown .. +1 blue, 0 white), sometimes band-limited."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / rate)
    slope = rng.uniform(-2.0, 1.0)
    shape = (np.maximum(f, 20.0) / 1000.0) ** (slope / 2)
    if rng.random() < 0.4:  # band-limited (engine, fan, hiss)
        lo, hi = sorted(rng.uniform(50, min(7500.0, 0.47 * rate), size=2))
        shape *= np.exp(-0.5 * (np.log(np.maximum(f, 1) / np.sqrt(lo * hi)) / 0.7) ** 2) + 0.05
    return np.fft.irfft(spec * shape, n=n).astype(np.float32)


def hum_noise(n: int, rng: np.random.Generator, rate: int) -> np.ndarray:
    """Mains hum: 50 or 60 Hz (+-2 %) and a few harmonics over a little white noise."""
    base = rng.choice([50.0, 60.0]) * rng.uniform(0.98, 1.02)
    t = np.arange(n) / rate
    out = np.zeros(n)
    for h in range(1, int(rng.integers(3, 12))):
        out += rng.uniform(0.1, 1.0) / h * np.sin(2 * np.pi * base * h * t + rng.uniform(0, 6.3))
    return (out + 0.05 * rng.standard_normal(n)).astype(np.float32)


def modulated_noise(n: int, rng: np.random.Generator, rate: int) -> np.ndarray:
    """Coloured noise under a slow 0.3-6 Hz amplitude envelope (passing traffic, a fan's beat)."""
    hz = rng.uniform(0.3, 6.0)
    env = 1.0 + 0.9 * np.sin(2 * np.pi * hz * np.arange(n) / rate + rng.uniform(0, 6.3))
    return (coloured_noise(n, rng, rate) * env).astype(np.float32)


def click_noise(n: int, rng: np.random.Generator, rate: int) -> np.ndarray:
    """Keyboard/dish-like bursts: decaying filtered impulses at random times."""
    out = 0.02 * coloured_noise(n, rng, rate)
    for _ in range(int(rng.integers(3, 30) * n / rate)):
        at, ln = int(rng.integers(0, n)), int(rng.integers(80, 1600) * rate / 16000)
        ln = max(ln, 8)
        burst = rng.standard_normal(ln) * np.exp(-np.arange(ln) / (ln / 5))
        burst = np.convolve(burst, rng.standard_normal(8), mode="same")
        out[at : at + ln] += rng.uniform(0.2, 1.0) * burst[: n - at]
    return out.astype(np.float32)


def tone_noise(n: int, rng: np.random.Generator, rate: int) -> np.ndarray:
    """One to three slowly sweeping tones (200-5000 Hz, whistles, alarms) over coloured noise."""
    t = np.arange(n) / rate
    out = np.zeros(n)
    for _ in range(int(rng.integers(1, 4))):
        f0 = rng.uniform(200, min(5000.0, 0.4 * rate))
        sweep = rng.uniform(-300, 300)
        out += np.sin(2 * np.pi * (f0 * t + 0.5 * sweep * t * t / max(t[-1], 1e-3)))
    return (out + 0.1 * coloured_noise(n, rng, rate)).astype(np.float32)


def rumble_noise(n: int, rng: np.random.Generator, rate: int = 16000) -> np.ndarray:
    """Low-frequency rumble (traffic, engine, wind, thunder): noise low-passed at 30-400 Hz,
    slowly modulated, with a weak broadband tail."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / rate)
    cut = rng.uniform(30.0, 400.0)
    shape = 1.0 / (1.0 + (f / cut) ** rng.uniform(2.0, 4.0))
    shape += 10 ** (rng.uniform(-35.0, -12.0) / 20) * (np.maximum(f, 20.0) / 1000.0) ** -0.5
    out = np.fft.irfft(spec * shape, n=n)
    env = 1.0 + rng.uniform(0.0, 0.8) * np.sin(
        2 * np.pi * rng.uniform(0.1, 2.0) * np.arange(n) / rate + rng.uniform(0, 6.3)
    )
    return (out * env).astype(np.float32)


def play_faster(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` played ``factor`` times faster (pitch and formants shift with it: another voice)."""
    n = int(len(x) / factor)
    return np.interp(np.arange(n) * factor, np.arange(len(x)), x).astype(np.float32)


def loop_segment(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of ``x`` from a random offset, looping ``x`` when it is shorter."""
    if len(x) < n:
        x = np.tile(x, n // len(x) + 1)
    start = int(rng.integers(0, len(x) - n + 1))
    return x[start : start + n]


def babble_noise(n: int, rng: np.random.Generator, pool: list[np.ndarray]) -> np.ndarray:
    """3-7 talkers from ``pool`` at random speeds (0.85-1.2x) and offsets, each at unit RMS."""
    out = np.zeros(n, dtype=np.float32)
    for _ in range(int(rng.integers(3, 8))):
        talker, factor = pool[int(rng.integers(len(pool)))], rng.uniform(0.85, 1.2)
        # the stretch that plays as n samples, then sped up: not the whole utterance
        seg = play_faster(loop_segment(talker, int(np.ceil(n * factor)) + 1, rng), factor)[:n]
        out += seg / float(np.sqrt(np.mean(np.square(seg, dtype=np.float64)) + 1e-12))
    return out


_KINDS = (coloured_noise, hum_noise, modulated_noise, click_noise, tone_noise)
_SHARES = (0.4, 0.1, 0.2, 0.2, 0.1)


def synthetic_noise(
    n: int, rng: np.random.Generator, rate: int = 16000, *, rumble: float = 0.0
) -> np.ndarray:
    """``n`` float32 samples of one random synthetic noise at ``rate`` Hz.

    With probability ``rumble`` it is :func:`rumble_noise`; otherwise coloured
    (40 %), hum (10 %), modulated (20 %), clicks (20 %) or tones (10 %).
    """
    if rumble > 0 and rng.random() < rumble:
        return rumble_noise(n, rng, rate)
    kind = rng.choice(len(_KINDS), p=_SHARES)
    return _KINDS[int(kind)](n, rng, rate)
