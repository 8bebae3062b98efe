"""Paired folders: ``FOLDER/noisy/`` and ``FOLDER/clean/`` hold recordings with matching names.

Files are matched by their path relative to ``noisy/`` and ``clean/`` without
the extension (``noisy/a/p1.wav`` pairs with ``clean/a/p1.flac``); any file
without a partner is an error that names it. Both files of a pair are read
mono at the corpus rate and must have the same length. Validation is split by
pair (file), and a training segment takes the same window of both files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeae.errors import DataError

from .audio import list_audio, read_audio
from .corpus import Maker, Pair, SpeechCorpus, split_files, weights_by_length
from .mixing import scale_to_level

__all__ = ["PAIR_FOLDERS", "PairCorpus", "PairOptions", "is_pair_folder", "match_pairs"]

PAIR_FOLDERS = ("noisy", "clean")
_SHOWN = 5


@dataclass(frozen=True)
class PairOptions:
    """Split and gain of :class:`PairCorpus`: ``level_db`` None keeps recorded levels.

    ``val_fraction`` 1 holds every pair out: a corpus for evaluation only.
    """

    val_fraction: float = 0.2
    seed: int = 0
    level_db: tuple[float, float] | None = None


def is_pair_folder(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a folder with ``noisy/`` and ``clean/`` sub-folders."""
    p = Path(path)
    return all((p / sub).is_dir() for sub in PAIR_FOLDERS)


def _key(root: Path, f: Path) -> str:
    return f.relative_to(root).with_suffix("").as_posix()


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOWN])
    return shown + (f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else "")


def match_pairs(folder: str | os.PathLike[str]) -> list[tuple[str, Path, Path]]:
    """``(name, noisy_file, clean_file)`` for every pair, sorted by name; unmatched files raise."""
    root = Path(folder)
    if not is_pair_folder(root):
        raise DataError(f"{root}: a paired folder needs sub-folders noisy/ and clean/")
    noisy = {_key(root / "noisy", f): f for f in list_audio(root / "noisy")}
    clean = {_key(root / "clean", f): f for f in list_audio(root / "clean")}
    only_noisy = sorted(set(noisy) - set(clean))
    only_clean = sorted(set(clean) - set(noisy))
    if only_noisy or only_clean:
        parts = []
        if only_noisy:
            parts.append(f"noisy/ files without a clean/ partner: {_names(only_noisy)}")
        if only_clean:
            parts.append(f"clean/ files without a noisy/ partner: {_names(only_clean)}")
        raise DataError(f"{root}: unmatched files; " + "; ".join(parts))
    return [(k, noisy[k], clean[k]) for k in sorted(noisy)]


class PairCorpus(SpeechCorpus):
    """Recorded (noisy, clean) pairs split by file (see the module docstring)."""

    def __init__(
        self,
        pairs: list[Pair],
        sample_rate: int,
        *,
        options: PairOptions | None = None,
        name: str = "pairs",
    ) -> None:
        self.options = options or PairOptions()
        if not 0.0 <= self.options.val_fraction <= 1.0:
            raise DataError(
                f"{name}: val_fraction must be in [0, 1], got {self.options.val_fraction}"
            )
        if not pairs:
            raise DataError(f"{name}: no pairs")
        for p in pairs:
            if p.noisy.shape != p.clean.shape:
                raise DataError(
                    f"{name}: pair {p.name}: noisy has {p.noisy.shape[0]} samples, clean "
                    f"{p.clean.shape[0]}; paired files must have the same length"
                )
        self.name, self.sample_rate, self.seed = name, int(sample_rate), self.options.seed
        self.pairs = list(pairs)
        self._train, self._val = split_files(
            [p.name for p in pairs], self.options.val_fraction, self.seed, what=name
        )

    @classmethod
    def from_folder(
        cls,
        folder: str | os.PathLike[str],
        sample_rate: int = 16000,
        *,
        options: PairOptions | None = None,
    ) -> PairCorpus:
        """Read every pair of ``folder/noisy`` and ``folder/clean`` at ``sample_rate``."""
        pairs = []
        for key, nf, cf in match_pairs(folder):
            noisy, _ = read_audio(nf, sample_rate, mono=True)
            clean, _ = read_audio(cf, sample_rate, mono=True)
            pairs.append(Pair(key, noisy[0], clean[0]))
        return cls(pairs, sample_rate, options=options, name=os.fspath(folder))

    @property
    def kind(self) -> str:
        return "pairs"

    def train_files(self) -> list[str]:
        return [self.pairs[i].name for i in self._train]

    def validation_files(self) -> list[str]:
        return [self.pairs[i].name for i in self._val]

    def _seconds(self, names: list[str]) -> int:
        wanted = set(names)
        return int(
            sum(p.noisy.shape[0] for p in self.pairs if p.name in wanted) // self.sample_rate
        )

    def _maker(self, validation: bool, segment: int) -> Maker:
        idx = self._val if validation else self._train
        if not idx:
            raise DataError(f"{self.name}: no validation files (val_fraction is 0)")
        weights = weights_by_length([self.pairs[i].noisy for i in idx])
        level = self.options.level_db

        def make(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
            p = self.pairs[idx[int(rng.choice(len(idx), p=weights))]]
            n = p.noisy.shape[0]
            if n >= segment:
                start = int(rng.integers(0, n - segment + 1))
                noisy, clean = p.noisy[start : start + segment], p.clean[start : start + segment]
            else:
                at = int(rng.integers(0, segment - n + 1))
                noisy, clean = np.zeros(segment, np.float32), np.zeros(segment, np.float32)
                noisy[at : at + n], clean[at : at + n] = p.noisy, p.clean
            if level is not None:
                return scale_to_level(noisy, clean, float(rng.uniform(*level)))
            return noisy, clean

        return make

    def validation_pairs(self) -> list[Pair]:
        return [self.pairs[i] for i in self._val]

    def describe(self) -> dict[str, Any]:
        def secs(idx: list[int]) -> float:
            return round(sum(self.pairs[i].noisy.shape[0] for i in idx) / self.sample_rate, 2)

        return {
            "kind": "pairs",
            "sample_rate": self.sample_rate,
            "seed": self.seed,
            "pairs": len(self.pairs),
            "train_files": len(self._train),
            "validation_files": self.validation_files(),
            "train_seconds": secs(self._train),
            "validation_seconds": secs(self._val),
        }
