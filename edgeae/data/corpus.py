"""Speech corpora for denoising: files split by file, and fixed-length (noisy, clean) segments.

A :class:`SpeechCorpus` is a set of recordings at one sample rate, split into
training and validation *by file* (no window of a validation file is ever
trained on). It hands out:

- :meth:`SpeechCorpus.train_set`: a :class:`SegmentDataset` of random
  fixed-length segments, a fresh draw every epoch (``set_epoch``), seeded;
- :meth:`SpeechCorpus.validation_set`: the same from the validation files,
  identical on every call and every epoch;
- :meth:`SpeechCorpus.validation_pairs`: whole validation files as
  :class:`Pair` s, for file-level metrics (PESQ, STOI, SI-SNR).

:class:`SegmentDataset` is torch-friendly without importing torch: it has
``__len__`` and ``__getitem__`` returning float32 ``(1, segment)`` numpy arrays
``(noisy, clean)``, so ``torch.utils.data.DataLoader(ds, batch_size=16)``
yields ``(B, 1, segment)`` tensors. Item ``i`` of epoch ``e`` depends only on
``(seed, e, i)``, so results do not depend on worker count or order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeae.errors import DataError

from .split import split_indices

__all__ = [
    "Pair",
    "SegmentDataset",
    "SpeechCorpus",
    "Utterance",
    "random_segment",
    "split_files",
]

# Stream ids: training and validation draws never share random numbers.
TRAIN_STREAM, VALIDATION_STREAM = 0, 1


@dataclass(frozen=True, eq=False)
class Utterance:
    """One mono recording at the corpus rate: float32 ``samples`` ``(n,)``."""

    name: str
    samples: np.ndarray

    def __len__(self) -> int:
        return int(self.samples.shape[0])


@dataclass(frozen=True, eq=False)
class Pair:
    """A whole-file example: float32 ``noisy`` and ``clean``, both ``(n,)``, same length."""

    name: str
    noisy: np.ndarray
    clean: np.ndarray
    snr_db: float | None = None


Maker = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]


class SegmentDataset:
    """``len(ds)`` segments ``(noisy, clean)``, each float32 ``(1, segment)``; map-style.

    ``make(rng)`` draws one example; item ``i`` uses a generator seeded by
    ``(seed, stream, epoch, i)``. :meth:`set_epoch` selects the epoch (a fresh
    draw for training); a ``frozen`` dataset (validation) ignores it.
    """

    def __init__(
        self,
        make: Maker,
        length: int,
        segment: int,
        *,
        seed: int = 0,
        stream: int = TRAIN_STREAM,
        frozen: bool = False,
        sample_rate: int | None = None,
    ) -> None:
        if length < 1:
            raise DataError(f"segments: length must be >= 1, got {length}")
        if segment < 1:
            raise DataError(f"segments: segment must be >= 1 sample, got {segment}")
        self._make, self._length, self.segment = make, int(length), int(segment)
        self.seed, self.stream, self.frozen = int(seed), int(stream), frozen
        self.sample_rate = sample_rate
        self.epoch = 0

    def __len__(self) -> int:
        return self._length

    def set_epoch(self, epoch: int) -> None:
        """Draw epoch ``epoch``'s segments from now on (no effect when frozen)."""
        if epoch < 0:
            raise DataError(f"segments: epoch must be >= 0, got {epoch}")
        if not self.frozen:
            self.epoch = int(epoch)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        i = int(index)
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError(f"segment {index} out of range for {self._length} segments")
        rng = np.random.default_rng([self.seed, self.stream, self.epoch, i])
        noisy, clean = self._make(rng)
        return (
            np.ascontiguousarray(noisy, dtype=np.float32).reshape(1, self.segment),
            np.ascontiguousarray(clean, dtype=np.float32).reshape(1, self.segment),
        )

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All items of the current epoch stacked: ``(noisy, clean)``, each ``(N, 1, segment)``."""
        noisy = np.empty((self._length, 1, self.segment), dtype=np.float32)
        clean = np.empty_like(noisy)
        for i in range(self._length):
            noisy[i], clean[i] = self[i]
        return noisy, clean


def split_files(
    names: Sequence[str], val_fraction: float, seed: int = 0, *, what: str = "files"
) -> tuple[list[int], list[int]]:
    """Indices ``(train, validation)`` of ``names``, split by file (random by ``seed``).

    At least one file goes to each side when ``0 < val_fraction < 1``; fewer
    than two files cannot be split and raise :class:`DataError`.
    ``val_fraction == 1`` holds every file out (an evaluation-only corpus).
    """
    n = len(names)
    if val_fraction == 1:
        return [], list(range(n))
    if val_fraction > 0 and n < 2:
        raise DataError(
            f"{what}: {n} file(s) cannot be split by file into training and validation; "
            "give at least 2 files, or hold every file out for evaluation (pairs:DIR&val=1)"
        )
    train, val = split_indices(n, val_fraction, seed)
    return train.tolist(), val.tolist()


def random_segment(
    samples: np.ndarray, segment: int, rng: np.random.Generator
) -> tuple[np.ndarray, int, int]:
    """A random ``segment``-long window of ``samples``: ``(window, start, length used)``.

    A file shorter than the segment is placed at a random position in zeros
    (``start`` is then negative: where the file begins inside the window).
    """
    n = samples.shape[-1]
    if n >= segment:
        start = int(rng.integers(0, n - segment + 1))
        return samples[..., start : start + segment], start, segment
    out = np.zeros((*samples.shape[:-1], segment), dtype=samples.dtype)
    at = int(rng.integers(0, segment - n + 1))
    out[..., at : at + n] = samples
    return out, -at, n


def weights_by_length(items: Sequence[Any]) -> np.ndarray:
    """Selection probabilities proportional to each item's length (each second equally likely)."""
    lengths = np.array([len(u) for u in items], dtype=np.float64)
    return lengths / lengths.sum()


class SpeechCorpus(ABC):
    """Recordings at one ``sample_rate``, split by file; see the module docstring."""

    name: str
    sample_rate: int
    seed: int

    @property
    @abstractmethod
    def kind(self) -> str:
        """``"mix"`` (clean + noise mixed on the fly) or ``"pairs"`` (recorded pairs)."""

    @abstractmethod
    def train_files(self) -> list[str]:
        """Names of the files training draws from."""

    @abstractmethod
    def validation_files(self) -> list[str]:
        """Names of the held-out files."""

    @abstractmethod
    def _maker(self, validation: bool, segment: int) -> Maker:
        """A function drawing one (noisy, clean) segment from the train or validation files."""

    @abstractmethod
    def validation_pairs(self) -> list[Pair]:
        """Whole held-out files as (noisy, clean) pairs, identical on every call."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary (files, seconds, split, mixing options)."""

    def train_set(self, segment: int, length: int | None = None) -> SegmentDataset:
        """Random training segments of ``segment`` samples, ``length`` per epoch.

        ``length`` defaults to about one pass over the training audio
        (training seconds / segment seconds, at least 1).
        """
        if not self.train_files():
            raise DataError(f"{self.name}: no training files (every file is held out: val=1)")
        if length is None:
            length = max(1, self._seconds(self.train_files()) * self.sample_rate // segment)
        return SegmentDataset(
            self._maker(False, segment),
            int(length),
            segment,
            seed=self.seed,
            stream=TRAIN_STREAM,
            sample_rate=self.sample_rate,
        )

    def validation_set(self, segment: int, length: int | None = None) -> SegmentDataset:
        """Deterministic validation segments from the held-out files only (frozen)."""
        if not self.validation_files():
            raise DataError(f"{self.name}: no validation files (val_fraction is 0)")
        if length is None:
            length = max(8, self._seconds(self.validation_files()) * self.sample_rate // segment)
        return SegmentDataset(
            self._maker(True, segment),
            int(length),
            segment,
            seed=self.seed,
            stream=VALIDATION_STREAM,
            frozen=True,
            sample_rate=self.sample_rate,
        )

    @abstractmethod
    def _seconds(self, names: list[str]) -> int:
        """Whole seconds of audio in the named files."""
