"""``builtin:tones``: a 16 kHz audio-like signal and a noisy copy at a chosen SNR.

The clean signal is a sequence of segments (0.25-1.2 s each) of four kinds:
exponential chirps, harmonic tones with vibrato, speech-like formant bursts
(a glottal harmonic series shaped by three moving formants, in syllable-like
bursts) and silences. White or pink noise is added, scaled so that the SNR over
the whole signal, ``10 log10(sum clean^2 / sum noise^2)``, is exactly ``snr_db``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeae.errors import DataError

__all__ = ["TonesOptions", "make_tones"]

_FADE_SECONDS = 0.01
_MAX_HZ = 6000.0


@dataclass(frozen=True)
class TonesOptions:
    """Options of ``builtin:tones`` (all settable in the source string)."""

    seconds: float = 24.0
    snr_db: float = 10.0
    noise: str = "white"
    sample_rate: int = 16000
    seed: int = 0

    def check(self) -> None:
        """Raise :class:`DataError` for options the generator cannot honour."""
        if not 1.0 <= self.seconds <= 600.0:
            raise DataError(f"builtin:tones: seconds must be in [1, 600], got {self.seconds}")
        if not -20.0 <= self.snr_db <= 60.0:
            raise DataError(f"builtin:tones: snr_db must be in [-20, 60] dB, got {self.snr_db}")
        if self.noise not in ("white", "pink"):
            raise DataError(f"builtin:tones: noise must be 'white' or 'pink', got {self.noise!r}")
        if not 8000 <= self.sample_rate <= 48000:
            raise DataError(
                f"builtin:tones: sample_rate must be in [8000, 48000] Hz, got {self.sample_rate}"
            )


def _chirp(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """An exponential sweep between two frequencies in 100 Hz..4 kHz."""
    f_a, f_b = np.exp(rng.uniform(np.log(100.0), np.log(4000.0), 2))
    dur, t = n / sr, np.arange(n) / sr
    k = np.log(f_b / f_a) / dur if f_a != f_b else 1e-9
    return np.sin(2 * np.pi * f_a * (np.exp(k * t) - 1.0) / k)


def _harmonic(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A harmonic tone (f0 110-440 Hz, amplitudes 1/k) with 4-7 Hz vibrato."""
    f0 = np.exp(rng.uniform(np.log(110.0), np.log(440.0)))
    t = np.arange(n) / sr
    freq = f0 * (1.0 + rng.uniform(0.01, 0.03) * np.sin(2 * np.pi * rng.uniform(4.0, 7.0) * t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    out = np.zeros(n)
    for k in range(1, int(_MAX_HZ / (f0 * 1.05)) + 1):
        out += np.sin(k * phase) / k
    return out


def _formant_amps(f: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Spectral envelope at frequencies ``f``: a sum of resonance peaks (centre, bandwidth)."""
    return sum(1.0 / (1.0 + ((f - c) / b) ** 2) for c, b in formants)


def _formant(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Speech-like: a gliding glottal harmonic series through moving formants, in bursts."""
    t = np.arange(n) / sr
    f0 = rng.uniform(100.0, 220.0) * (1.0 - 0.15 * t / t[-1] if n > 1 else 1.0)
    phase = 2 * np.pi * np.cumsum(f0) / sr

    def vowel() -> np.ndarray:
        centres = [rng.uniform(300, 800), rng.uniform(900, 2300), rng.uniform(2400, 3000)]
        return np.array([(c, rng.uniform(80, 150)) for c in centres])

    start, stop = vowel(), vowel()
    lam = t / t[-1] if n > 1 else np.zeros(n)
    out = np.zeros(n)
    f0_mean = float(np.mean(f0))
    for k in range(1, int(4000.0 / f0_mean) + 1):
        a = (1 - lam) * _formant_amps(k * f0_mean, start) + lam * _formant_amps(k * f0_mean, stop)
        out += a * np.sin(k * phase)
    # Syllables: 100-250 ms raised-cosine bursts with short gaps.
    env, pos = np.zeros(n), 0
    while pos < n:
        length = int(sr * rng.uniform(0.1, 0.25))
        stop_at = min(pos + length, n)
        env[pos:stop_at] = np.hanning(length + 2)[1 : stop_at - pos + 1]
        pos = stop_at + int(sr * rng.uniform(0.02, 0.08))
    return out * env


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f power) noise by shaping white noise in the frequency domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0.0
    return np.fft.irfft(spec, n=n)


def make_tones(opts: TonesOptions) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``(noisy, clean)``, each float32 ``(1, samples)``, at exactly ``opts.snr_db``."""
    opts.check()
    rng = np.random.default_rng(opts.seed)
    sr, total = opts.sample_rate, int(opts.seconds * opts.sample_rate)
    kinds = (_chirp, _harmonic, _formant, None)
    clean = np.zeros(total)
    fade = int(_FADE_SECONDS * sr)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
    pos = 0
    while pos < total:
        n = min(int(sr * rng.uniform(0.25, 1.2)), total - pos)
        make = kinds[rng.choice(4, p=[0.25, 0.3, 0.3, 0.15])]
        if make is not None and n > 2 * fade:
            seg = make(n, sr, rng)
            seg[:fade] *= ramp
            seg[-fade:] *= ramp[::-1]
            rms = np.sqrt(np.mean(seg**2))
            if rms > 0:
                clean[pos : pos + n] = seg * rng.uniform(0.04, 0.1) / rms
        pos += n
    noise = _pink(total, rng) if opts.noise == "pink" else rng.standard_normal(total)
    power = np.sum(clean**2)
    if power == 0.0:
        raise DataError("builtin:tones: the signal is all silence; use more seconds")
    noise *= np.sqrt(power / (np.sum(noise**2) * 10.0 ** (opts.snr_db / 10.0)))
    noisy = clean + noise
    return noisy[np.newaxis].astype(np.float32), clean[np.newaxis].astype(np.float32)
