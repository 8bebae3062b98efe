"""Small speech-like and noise recordings written to folders, for the speech-corpus tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.edgeae.data.writers import write_test_wav

__all__ = ["babble", "write_corpus", "write_pairs"]


def babble(seconds: float, rate: int, seed: int) -> np.ndarray:
    """A voiced, syllable-modulated harmonic signal (speech-like), float (1, n) in [-0.5, 0.5]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = rng.uniform(100, 200)
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 5) * t)
    return (0.1 * x * env)[np.newaxis]


def write_corpus(
    root: Path, n_clean: int = 4, n_noise: int = 2, rate: int = 16000
) -> tuple[Path, Path]:
    """``root/clean`` (n_clean files, 1-2.5 s) and ``root/noise`` (white/brown noise) WAVs."""
    clean, noise = root / "clean", root / "noise"
    clean.mkdir(parents=True)
    noise.mkdir(parents=True)
    for i in range(n_clean):
        write_test_wav(clean / f"u{i}.wav", babble(1.0 + 0.5 * i, rate, i), rate, "pcm16")
    rng = np.random.default_rng(99)
    for j in range(n_noise):
        n = rng.standard_normal(int(0.7 * rate))
        if j % 2:
            n = np.cumsum(n)
            n -= n.mean()
        write_test_wav(noise / f"n{j}.wav", (0.3 * n / np.abs(n).max())[None], rate, "pcm16")
    return clean, noise


def write_pairs(root: Path, names: list[str], rate: int = 16000) -> Path:
    """``root/noisy`` and ``root/clean`` with one pair per name (noisy = clean + noise)."""
    for sub in ("noisy", "clean"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    for i, name in enumerate(names):
        clean = babble(1.0, rate, i)
        noisy = clean + 0.05 * rng.standard_normal(clean.shape)
        write_test_wav(root / "clean" / name, clean, rate, "pcm16")
        write_test_wav(root / "noisy" / name, np.clip(noisy, -1, 1), rate, "pcm16")
    return root
