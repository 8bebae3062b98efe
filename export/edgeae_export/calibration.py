"""Calibration data for static quantization, pulled lazily in batches so memory stays bounded.

A :class:`CalibrationSource` wraps raw items (an array, possibly memory-mapped,
an iterable of items or batches, or a zero-argument callable returning one)
and hands out onnxruntime ``CalibrationDataReader`` objects that normalize each
batch with the manifest's preprocessing (the runtime's own ``normalize``) and
optionally transform it (the decoder is calibrated on latents produced by the
float encoder). At most ``max_items`` items are ever read. An array holding more
items than that is sampled, not cut: THE sample of the project, seeded and spread over
the whole array (:func:`edgeae_export.sampling.sample_indices`), so data ordered in time
or by class (a signal's normal stretch first, a data set sorted by label) do not
calibrate on their first part only; the sample is read row by row, so a memory map is
never loaded whole.
A one-shot iterator is cached as it is read, capped at ``max_items`` (its first
items: an iterator cannot be sampled without reading it all), so several passes
(the accuracy budget re-quantizes) still cost bounded memory.

Memory: the MinMax method keeps two numbers per tensor; Entropy and Percentile
keep a histogram per tensor (2048 bins by default) plus, in onnxruntime, the
activations of each batch while it is binned, so they cost more; cap the
number of items (``calibration_size``) on large models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from edgeae_runtime.manifest import Preprocessing
from edgeae_runtime.preprocess import normalize

from .errors import CalibrationError
from .sampling import DEFAULT_SEED, sample_indices

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CALIBRATION_SIZE",
    "CalibrationReader",
    "CalibrationSource",
    "RawSource",
    "Transform",
]

#: Items used for calibration unless the caller says otherwise.
DEFAULT_CALIBRATION_SIZE = 512
#: Items per calibration batch.
DEFAULT_BATCH_SIZE = 64

#: Maps a normalized batch to the model's input (e.g. the float encoder for a decoder).
Transform = Callable[[np.ndarray], np.ndarray]

RawSource = np.ndarray | Iterable[Any] | Callable[[], Iterable[Any]]

def _as_batch(chunk: Any, item_shape: tuple[int, ...], name: str) -> np.ndarray:
    """One item or a batch of items -> a float32 batch; a clear error on the wrong shape."""
    arr = np.asarray(chunk, dtype=np.float32)
    if arr.shape == item_shape:
        return arr[None]
    if arr.shape[1:] == item_shape and arr.ndim == len(item_shape) + 1:
        return arr
    shown = arr.shape[1:] if arr.ndim == len(item_shape) + 1 else arr.shape
    raise CalibrationError(
        f"{name}: items have shape {tuple(shown)}, the model expects item shape "
        f"{tuple(item_shape)}; give data made for this model"
    )


class CalibrationSource:
    """Raw calibration items, replayable in bounded memory.

    ``source``: an array ``(N, *item_shape)`` (the seeded sample, :func:`sample_indices`, of
    ``max_items`` of them when ``N`` is larger, read lazily, so a memory map is
    never loaded whole), a zero-argument callable returning an iterable of items
    or batches (called again for each pass), or a one-shot iterable of items or
    batches (cached as read, at most ``max_items`` items). ``seed`` picks the
    array's sample.
    """

    def __init__(
        self,
        source: RawSource,
        *,
        item_shape: tuple[int, ...],
        max_items: int = DEFAULT_CALIBRATION_SIZE,
        name: str = "calibration data",
        seed: int = DEFAULT_SEED,
    ) -> None:
        if max_items <= 0:
            raise CalibrationError(
                f"{name}: the calibration size must be positive, got {max_items}"
            )
        self.item_shape = tuple(int(d) for d in item_shape)
        self.max_items = int(max_items)
        self.name = name
        self.seed = int(seed)
        self._source = source
        self._cache: list[np.ndarray] | None = None
        self._iterator: Iterator[Any] | None = None
        self.items_read = 0
        if isinstance(source, np.ndarray):
            if source.shape[1:] != self.item_shape or source.ndim != len(self.item_shape) + 1:
                _as_batch(source[:1] if source.ndim else source, self.item_shape, name)
            if source.shape[0] == 0:
                raise CalibrationError(f"{name}: no items to calibrate on")
        elif not callable(source):
            self._cache = []
            self._iterator = iter(source)

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[np.ndarray]:
        """Raw float32 batches of at most ``batch_size`` items, ``max_items`` in all."""
        if isinstance(self._source, np.ndarray):
            n = self._source.shape[0]
            if n <= self.max_items:  # all of it, in order: plain slices
                for start in range(0, n, batch_size):
                    chunk = np.asarray(self._source[start : start + batch_size], np.float32)
                    self.items_read = max(self.items_read, start + chunk.shape[0])
                    yield chunk
                return
            picked = sample_indices(n, self.max_items, self.seed)
            for start in range(0, picked.size, batch_size):
                chunk = np.asarray(self._source[picked[start : start + batch_size]], np.float32)
                self.items_read = max(self.items_read, start + chunk.shape[0])
                yield chunk
            return
        yield from _rebatch(self._chunks(), batch_size)

    def _chunks(self) -> Iterator[np.ndarray]:
        """Validated batches from a callable (fresh each pass) or the cached one-shot iterator."""
        if self._cache is None:  # a callable: a fresh iterable for every pass
            chunks: Iterator[Any] = iter(self._source())  # type: ignore[operator]
            taken = 0
            for chunk in chunks:
                batch = _as_batch(chunk, self.item_shape, self.name)[: self.max_items - taken]
                taken += batch.shape[0]
                self.items_read = max(self.items_read, taken)
                yield batch
                if taken >= self.max_items:
                    return
            if taken == 0:
                raise CalibrationError(f"{self.name}: no items to calibrate on")
            return
        yield from self._cache
        taken = sum(c.shape[0] for c in self._cache)
        while self._iterator is not None and taken < self.max_items:
            try:
                chunk = next(self._iterator)
            except StopIteration:
                self._iterator = None
                break
            batch = _as_batch(chunk, self.item_shape, self.name)[: self.max_items - taken]
            taken += batch.shape[0]
            self.items_read = taken
            self._cache.append(batch)
            yield batch
        if taken == 0:
            raise CalibrationError(f"{self.name}: no items to calibrate on")

    def reader(
        self,
        input_name: str,
        preprocessing: Preprocessing | None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        transform: Transform | None = None,
    ) -> CalibrationReader:
        """A fresh onnxruntime reader over these items, normalized (and transformed)."""
        return CalibrationReader(
            _same_size(self.batches(batch_size), batch_size),
            input_name,
            preprocessing,
            transform=transform,
        )


def _same_size(batches: Iterable[np.ndarray], batch_size: int) -> Iterator[np.ndarray]:
    """Every batch of ``batch_size`` items: a short last batch is topped up with the first items.

    onnxruntime's histogram calibrators (Entropy, Percentile) stack the outputs
    of all batches into one array and fail on a batch of another size
    (onnxruntime issue #18792); repeating a few items costs MinMax nothing.
    """
    first: np.ndarray | None = None
    for batch in batches:
        if first is None:
            first = batch
        elif batch.shape[0] < first.shape[0]:
            reps = -(-(first.shape[0] - batch.shape[0]) // first.shape[0])
            filler = np.concatenate([first] * reps)[: first.shape[0] - batch.shape[0]]
            batch = np.concatenate([batch, filler])
        yield batch


def _rebatch(chunks: Iterable[np.ndarray], batch_size: int) -> Iterator[np.ndarray]:
    """Regroup batches of any size into batches of ``batch_size`` (the last may be smaller)."""
    pending: list[np.ndarray] = []
    count = 0
    for chunk in chunks:
        pending.append(chunk)
        count += chunk.shape[0]
        while count >= batch_size:
            joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield joined[:batch_size]
            rest = joined[batch_size:]
            pending, count = ([rest] if rest.shape[0] else []), rest.shape[0]
    if count:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]


class CalibrationReader(CalibrationDataReader):
    """onnxruntime's ``CalibrationDataReader`` over raw batches, one batch per ``get_next``."""

    def __init__(
        self,
        batches: Iterable[np.ndarray],
        input_name: str,
        preprocessing: Preprocessing | None,
        *,
        transform: Transform | None = None,
    ) -> None:
        self._batches = iter(batches)
        self.input_name = input_name
        self.preprocessing = preprocessing
        self.transform = transform
        self.batches_read = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next ``{input_name: batch}`` in model space, or None when the data are used up."""
        batch = next(self._batches, None)
        if batch is None:
            return None
        self.batches_read += 1
        x = batch if self.preprocessing is None else normalize(batch, self.preprocessing)
        if self.transform is not None:
            x = self.transform(x)
        return {self.input_name: np.ascontiguousarray(x, dtype=np.float32)}
