"""The classical baseline: a decision-directed Wiener filter with a minimum-statistics noise floor.

Per STFT frame (512/256 at 16 kHz, sqrt-Hann analysis and synthesis, causal):

- noise PSD: the minimum of the recursively smoothed noisy power over the last
  ``min_window`` seconds, times ``bias`` (a simplified Martin minimum statistics;
  it tracks non-stationary noise without a speech detector);
- a-posteriori SNR ``gamma = |X|^2 / N``; a-priori SNR by the decision-directed
  rule (Ephraim-Malah): ``xi = alpha * |S_prev|^2 / N + (1 - alpha) * max(gamma - 1, 0)``;
- Wiener gain ``G = xi / (1 + xi)`` floored at ``floor`` (limits musical noise).

``tune`` picks ``alpha``, ``floor`` and ``bias`` on validation mixtures (never on
the benchmark files).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WienerParams", "tune", "wiener"]


@dataclass(frozen=True)
class WienerParams:
    alpha: float = 0.98
    floor: float = 0.1
    bias: float = 2.0
    min_window: float = 1.5
    smooth: float = 0.8
    n_fft: int = 512
    hop: int = 256


def wiener(x: np.ndarray, p: WienerParams = WienerParams(), rate: int = 16000) -> np.ndarray:
    """Enhance a mono signal; output has the input's length."""
    n, w, hop = len(x), p.n_fft, p.hop
    k = max(1, -(-(n - w) // hop) + 1) if n > w else 1
    pad = np.zeros((k - 1) * hop + w, dtype=np.float64)
    pad[:n] = x
    i = np.arange(w)
    a = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * (i + 0.5) / w))
    frames = np.stack([pad[j * hop : j * hop + w] for j in range(k)]) * a
    spec = np.fft.rfft(frames, axis=1)
    power = np.abs(spec) ** 2
    span = max(1, int(p.min_window * rate / hop))
    smoothed = np.empty_like(power)
    s = power[0]
    for t in range(k):
        s = p.smooth * s + (1 - p.smooth) * power[t]
        smoothed[t] = s
    out = np.empty_like(spec)
    prev = np.zeros(power.shape[1])
    for t in range(k):
        noise = smoothed[max(0, t - span + 1) : t + 1].min(axis=0) * p.bias + 1e-12
        gamma = power[t] / noise
        xi = p.alpha * prev / noise + (1 - p.alpha) * np.maximum(gamma - 1, 0)
        g = np.maximum(xi / (1 + xi), p.floor)
        out[t] = g * spec[t]
        prev = np.abs(out[t]) ** 2
    y = np.fft.irfft(out, n=w, axis=1) * a
    acc = np.zeros_like(pad)
    wsum = np.zeros_like(pad)
    for j in range(k):
        acc[j * hop : j * hop + w] += y[j]
        wsum[j * hop : j * hop + w] += a * a
    return (acc / np.maximum(wsum, 1e-8))[:n].astype(np.float32)


def tune(noisy: list[np.ndarray], clean: list[np.ndarray], score) -> tuple[WienerParams, float]:
    """The grid point with the best mean ``score(clean, enhanced)`` over the pairs."""
    best, best_p = -np.inf, WienerParams()
    for alpha in (0.92, 0.98):
        for floor in (0.05, 0.1, 0.2, 0.3):
            for bias in (1.5, 2.5, 4.0):
                p = WienerParams(alpha=alpha, floor=floor, bias=bias)
                v = float(
                    np.mean([score(c, wiener(x, p)) for x, c in zip(noisy, clean, strict=True)])
                )
                if v > best:
                    best, best_p = v, p
    return best_p, best
