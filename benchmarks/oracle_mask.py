"""The ceiling of spectral masking: the ideal ratio mask with the shipped model's STFT.

A mask model can at best apply, per STFT bin, the gain ``|S| / |X|`` (clean over
noisy magnitude, clipped to [0, 1]: the runtime's mask range) and keep the noisy
phase. :func:`oracle_irm` does that with the runtime's own front-end and
overlap-add (320/160 at 16 kHz, sqrt-Hann, least-squares inverse: the exact
algorithm of ``edgeae_runtime.spectral``), so the score it reaches is what the
mask contract allows, whatever the network.

    .venv/bin/python benchmarks/oracle_mask.py        # table over bench_speech's held-out sets

``bench_speech.py`` scores it as the ``oracle IRM`` row.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from edgeae_runtime.framing import frame_signal, overlap_add  # noqa: E402
from edgeae_runtime.manifest import SpectralSpec  # noqa: E402
from edgeae_runtime.spectral import analysis_window, stft_frames  # noqa: E402

__all__ = ["oracle_irm"]


def oracle_irm(
    noisy: np.ndarray, clean: np.ndarray, window: int = 320, hop: int = 160
) -> np.ndarray:
    """``noisy`` (mono, samples) enhanced by the ideal ratio mask ``clip(|S|/|X|, 0, 1)``."""
    spec = SpectralSpec(fft_size=window, context_frames=1)
    fx = frame_signal(np.asarray(noisy, np.float32)[None], window, hop)[:, 0, :]
    fs = frame_signal(np.asarray(clean, np.float32)[None], window, hop)[:, 0, :]
    x, s = stft_frames(fx, spec), stft_frames(fs, spec)
    mask = np.clip(np.abs(s) / np.maximum(np.abs(x), 1e-9), 0.0, 1.0)
    y = np.fft.irfft(x * mask, n=window, axis=-1)[:, :window].astype(np.float32)
    a = analysis_window(window)
    return overlap_add(y[:, None, :], hop, a, len(noisy), divisor=a * a)[0]


def main() -> None:
    from bench_speech import eval_sets, metrics, summarize, table

    per_file: dict[str, dict[str, list[dict[str, float]]]] = {}
    for set_name, items in eval_sets(quick=False).items():
        rows: dict[str, list[dict[str, float]]] = {}
        for fname, x, c in items:
            for name, y in (("noisy", x), ("oracle IRM", oracle_irm(x, c))):
                rows.setdefault(name, []).append({"file": fname, **metrics(c, y)})
        per_file[set_name] = rows
    print(table(summarize(per_file)))


if __name__ == "__main__":
    main()
