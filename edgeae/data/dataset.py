"""The :class:`Dataset` every loader returns, plus the checks and hashing all loaders share.

A dataset is a stack of items ``x`` in one of the architecture's layouts (NF, NCW,
NCHW), optionally with clean targets (paired denoising data), labels, and the
continuous signal it was windowed from. Its fingerprint identifies the data and
the loading options, so a trained model can say exactly what it was trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeae.errors import DataError

__all__ = ["LAYOUTS", "Dataset", "batches", "check_finite", "fingerprint"]

LAYOUTS = ("NF", "NCW", "NCHW")

# Items hashed / scanned per step: keeps memory bounded on memory-mapped data.
_CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class Dataset:
    """Items ``x`` of shape ``(N, *item_shape)`` (float32) and what is known about them.

    ``target`` holds clean items for paired denoising data; ``labels`` holds one
    int per item (digit class, or anomaly kind with 0 = normal). For signal
    sources, ``signal``/``clean_signal`` are the continuous ``(channels, samples)``
    arrays the items were framed from, and ``sample_labels`` labels each sample.
    Speech corpora (:mod:`edgeae.data.speech`) add ``holdout`` (indices of the
    items from held-out files: the validation split, by file), ``remix(epoch)``
    (a fresh ``(x, target)`` of training items for that epoch: on-the-fly
    mixing) and ``corpus`` (the :class:`~edgeae.data.corpus.SpeechCorpus`). Colour image
    crops add ``augment(x, epoch)``: the training items ``x`` (raw units) as that epoch
    trains on them (a random hue per crop, :mod:`edgeae.data.colour`).
    """

    name: str
    x: np.ndarray
    layout: str
    fingerprint: str
    description: str = ""
    target: np.ndarray | None = None
    labels: np.ndarray | None = None
    sample_rate: int | None = None
    window: int | None = None
    hop: int | None = None
    signal: np.ndarray | None = None
    clean_signal: np.ndarray | None = None
    sample_labels: np.ndarray | None = None
    labels_are_anomalies: bool = False
    holdout: np.ndarray | None = None
    remix: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None
    augment: Callable[[np.ndarray, int], np.ndarray] | None = None
    corpus: Any = None
    # Log-mel sources (:mod:`edgeae.data.machine`): the front-end (a runtime
    # LogMelSpec, recorded in the manifest), each item's clip and the clip files; image
    # crops (``IMAGES?crop=N``): each crop's image and the image files. Validation holds out
    # whole clips (files).
    features: Any = None
    clips: np.ndarray | None = None
    clip_names: tuple[str, ...] = ()
    channel_names: tuple[str, ...] = ()  # sensor columns of a sensorlog: source
    sensorlog: Any = None  # its CSV law (a runtime SensorLogSpec, recorded in the manifest)

    @property
    def item_shape(self) -> tuple[int, ...]:
        """Shape of one item, without the batch axis."""
        return tuple(int(d) for d in self.x.shape[1:])

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def framed(self) -> bool:
        """The items are windows of ``signal``, item ``k`` starting at sample ``k * hop``
        (not log-mel patches of clips, which have their own framing)."""
        return self.signal is not None and bool(self.window and self.hop) and self.clips is None

    @property
    def anomaly_labels(self) -> np.ndarray | None:
        """Per-item anomaly labels (0 = normal, > 0 = an anomaly kind), or None.

        ``labels`` mean anomalies only for labelled recordings, which also carry
        ``sample_labels`` (like ``builtin:sensor``) or items whose file says so
        (``labels_are_anomalies``: an .npz ``anomaly_labels`` array); item labels
        otherwise are classes (``builtin:digits``: digits 0-9), which no scorer may
        read as anomalies.
        """
        if self.labels is None or (self.sample_labels is None and not self.labels_are_anomalies):
            return None
        return np.asarray(self.labels).reshape(-1)


def _chunk_items(arr: np.ndarray) -> int:
    """How many leading-axis rows of ``arr`` fit in one bounded chunk."""
    row = max(1, int(np.prod(arr.shape[1:], dtype=np.int64)) * arr.dtype.itemsize)
    return max(1, _CHUNK_BYTES // row)


def fingerprint(arrays: Sequence[np.ndarray | None], options: Mapping[str, Any]) -> str:
    """``"sha256:<hex>"`` of the arrays' shapes, dtypes and bytes plus the loading options.

    The source path is deliberately not part of it: the same data moved elsewhere
    keeps its fingerprint. Large (memory-mapped) arrays are hashed chunk by chunk.
    """
    h = hashlib.sha256()
    h.update(json.dumps(dict(options), sort_keys=True, default=str).encode())
    for arr in arrays:
        if arr is None:
            h.update(b"none")
            continue
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        if arr.ndim == 0:
            h.update(np.ascontiguousarray(arr).tobytes())
            continue
        step = _chunk_items(arr)
        for start in range(0, arr.shape[0], step):
            h.update(np.ascontiguousarray(arr[start : start + step]).tobytes())
    return "sha256:" + h.hexdigest()


def check_finite(arr: np.ndarray, where: str, axis_names: tuple[str, ...] | None = None) -> None:
    """Raise :class:`DataError` if ``arr`` holds NaN or Inf: how many, and the first one.

    ``where`` names the file (and key) so the message says what to fix;
    ``axis_names`` (e.g. ``("channel", "sample")``) names the axes of the position.
    """
    if not np.issubdtype(arr.dtype, np.floating) or arr.size == 0:
        return
    step = _chunk_items(arr) if arr.ndim else 1
    total = 0
    first: tuple[int, ...] | None = None
    rows = arr.shape[0] if arr.ndim else 1
    for start in range(0, rows, step):
        chunk = arr[start : start + step] if arr.ndim else arr.reshape(1)
        bad = ~np.isfinite(chunk)
        count = int(bad.sum())
        if count and first is None:
            pos = np.unravel_index(int(np.argmax(bad)), bad.shape)
            first = (int(pos[0]) + start, *(int(p) for p in pos[1:]))
        total += count
    if total and first is not None:
        if axis_names is not None and len(axis_names) == len(first):
            at = ", ".join(f"{n} {i}" for n, i in zip(axis_names, first, strict=True))
        else:
            at = f"item {first[0]}" + (f", position {first[1:]}" if len(first) > 1 else "")
        raise DataError(
            f"{where}: {total} NaN/Inf value(s), the first at {at}; "
            "clean or drop those values before training"
        )


def batches(
    data: Dataset | np.ndarray,
    batch_size: int,
    *,
    indices: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Yield float32, C-contiguous copies of ``batch_size`` items at a time (the last may be short).

    Memory stays bounded by one batch even when ``x`` is memory-mapped or a
    strided window view of a long signal; ``indices`` picks (and orders) items.
    """
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}")
    x = data.x if isinstance(data, Dataset) else data
    n = int(x.shape[0]) if indices is None else len(indices)
    for start in range(0, n, batch_size):
        if indices is None:
            part = x[start : start + batch_size]
        else:
            part = x[np.asarray(indices[start : start + batch_size], dtype=np.int64)]
        yield np.array(part, dtype=np.float32, order="C", copy=True)
