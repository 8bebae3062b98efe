"""From a Dataset (or plain arrays) to normalized train/validation tensors, before any training.

Decides the split (random by seed; contiguous with a gap for overlapping signal
windows; normal-only for data with anomaly labels, except that rate-distortion training
trains on their anomalous items too), fits the normalization on
the training split alone, and checks everything that would otherwise fail mid-run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from edgeae.data.dataset import Dataset, check_finite, fingerprint
from edgeae.data.normalization import fit_normalization
from edgeae.data.split import normal_split, split_indices
from edgeae.errors import DataError
from edgeae_runtime import Preprocessing, SignalSpec
from edgeae_runtime.framing import overrunning
from edgeae_runtime.manifest import WindowSpec
from edgeae_runtime.preprocess import normalize

from .config import TrainConfig

__all__ = [
    "MAX_FITTED_EPOCHS",
    "MIN_STEPS_PER_EPOCH",
    "MIN_TRAIN_STEPS",
    "RATE_MIN_STEPS",
    "ArrayData",
    "Prepared",
    "as_dataset",
    "fit_schedule",
    "has_anomaly_labels",
    "min_train_steps",
    "prepare",
    "remix_epoch",
]

#: A recipe's batch size, too large for the data, is lowered to give this many steps an epoch.
MIN_STEPS_PER_EPOCH = 8
#: A recipe's epochs, too few for the data, are raised to give a run this many optimizer
#: steps (:func:`fit_schedule`). Measured (docs/data.md, BENCHMARKS.md "Fitting the schedule
#: to small data"): on an ECG lead (430 training windows, 210 steps in 30 epochs) 600 steps
#: halved the held-out error, 1000 took it 20 % lower again; builtin:sensor's recipe (660
#: steps, the fewest of any built-in or documented recipe) gained nothing at 1000 or 2000
#: steps (AUROC 0.994 / 0.993 -> 0.989 / 0.994 and 0.971 / 0.994) in 1.8x / 2.7x the time,
#: so 600 leaves every built-in recipe as it was.
MIN_TRAIN_STEPS = 600
#: Fewer optimizer steps than this and a rate-distortion model stops short of what its rate
#: could buy: its quality then hardly moves with lambda (measured on the image crops of
#: benchmarks/bench_rd.py: 450 steps gave 28.5-28.6 dB at lambda 0.1 and 0.01 alike, and the
#: same model reached 28.7 -> 31.3 -> 31.8 dB at lambda 0.01 after 450, 1.8k and 5.4k steps).
#: A codec's epochs nobody chose are fitted to it (:func:`fit_schedule`).
RATE_MIN_STEPS = 2000
#: ... but never beyond this many epochs (early stopping still ends a run sooner).
MAX_FITTED_EPOCHS = 500

ArrayData = Dataset | np.ndarray | tuple[np.ndarray, np.ndarray | None]

_LAYOUT_BY_RANK = {2: "NF", 3: "NCW", 4: "NCHW"}


@dataclass
class Prepared:
    """Model-space tensors for training and validation, and what produced them."""

    dataset: Dataset
    preprocessing: Preprocessing
    signal: SignalSpec | None
    train_x: torch.Tensor
    train_t: torch.Tensor
    val_x: torch.Tensor
    val_t: torch.Tensor
    val_raw_target: np.ndarray
    val_raw_input: np.ndarray
    anomaly_x: torch.Tensor | None
    anomaly_labels: np.ndarray | None
    split: str
    val_clips: np.ndarray | None = None  # clip index of each validation item (log-mel)
    anomaly_clips: np.ndarray | None = None  # and of each anomaly-evaluation item
    # signal windows the manifest has no signal section for (NF; no rate): manifest.windows
    windows: WindowSpec | None = None
    # the training items in raw units, kept for a source that augments them (Dataset.augment)
    train_raw: np.ndarray | None = None


def as_dataset(data: ArrayData, name: str = "arrays") -> Dataset:
    """Wrap plain arrays ``x`` or ``(x, clean_target)`` as a Dataset; a Dataset passes through.

    The layout follows the rank: ``(N, F)`` NF, ``(N, C, W)`` NCW, ``(N, C, H, W)`` NCHW.
    """
    if isinstance(data, Dataset):
        return data
    x, target = data if isinstance(data, tuple) else (data, None)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim not in _LAYOUT_BY_RANK:
        raise DataError(
            f"{name}: expected items of shape (N, F), (N, C, W) or (N, C, H, W), got {x.shape}"
        )
    if target is not None:
        target = np.asarray(target, dtype=np.float32)
        if target.shape != x.shape:
            raise DataError(f"{name}: target shape {target.shape} differs from x {x.shape}")
    fp = fingerprint([x, target], {"source": "arrays"})
    return Dataset(name=name, x=x, layout=_LAYOUT_BY_RANK[x.ndim], fingerprint=fp, target=target)


def has_anomaly_labels(ds: Dataset) -> bool:
    """True when the labels mark anomalies, not classes (see ``Dataset.anomaly_labels``)."""
    return ds.anomaly_labels is not None


def _split_clips(
    ds: Dataset, config: TrainConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Train on the items of most normal clips, validate on whole held-out normal clips."""
    clips = np.asarray(ds.clips).reshape(-1)
    labels = ds.anomaly_labels
    bad = np.zeros(clips.max() + 1, dtype=bool)
    if labels is not None:
        bad[np.unique(clips[labels != 0])] = True
    normal_clips = np.flatnonzero(~bad & (np.bincount(clips, minlength=bad.size) > 0))
    if normal_clips.size < 2:
        raise DataError(f"{ds.name}: needs at least 2 normal clips (one to train, one to validate)")
    rng = np.random.default_rng(config.seed)
    n_val = min(max(1, round(config.val_fraction * normal_clips.size)), normal_clips.size - 1)
    val_clips = rng.choice(normal_clips, n_val, replace=False)
    val = np.flatnonzero(np.isin(clips, val_clips))
    train = np.flatnonzero(np.isin(clips, normal_clips) & ~np.isin(clips, val_clips))
    anomalous = np.flatnonzero(bad[clips])
    kind = "normal files" if labels is not None else "files"
    how = f"by file: {normal_clips.size - n_val} {kind} train, {n_val} validate"
    return train, val, np.union1d(val, anomalous) if anomalous.size else np.arange(0), how


def _overrunning(ds: Dataset) -> np.ndarray | None:
    """Which windows of a framed signal overrun its end (zero-padded), or None.

    The framing covers every sample, so the last window may be partly padding: fine to
    train a reconstruction on, but not data to calibrate a threshold on or score (to a
    two-sided score its zeros are a dead sensor: on builtin:sensor it scored 1.04
    where the cleanest windows score up to 0.20). The runtime's one padding rule
    (:func:`edgeae_runtime.framing.overrunning`; ``StreamScorer.flush`` follows it too).
    """
    if not ds.framed:
        return None
    starts = np.arange(len(ds), dtype=np.int64) * int(ds.hop)
    return overrunning(starts, int(ds.window), int(np.asarray(ds.signal).shape[-1]))


def _split(ds: Dataset, config: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """``(train_idx, val_idx, anomaly_eval_idx, description)``.

    Validation (the threshold's calibration) and the anomaly evaluation leave out windows
    that overrun the signal (:func:`_overrunning`) unless nothing else is left.
    """
    train, val, evaluate, how = _split_items(ds, config)
    if config.rate_lambda > 0 and has_anomaly_labels(ds):
        train = _codec_train(ds, val)
        how = (
            "all but the held-out normal items: rate-distortion trains on the anomalies too; "
            "the threshold is on the held-out normals"
        )
    over = _overrunning(ds)
    if over is not None and over.any():
        if (~over[val]).any():
            val = val[~over[val]]
        evaluate = evaluate[~over[evaluate]]
    return train, val, evaluate, how


def _codec_train(ds: Dataset, val: np.ndarray) -> np.ndarray:
    """The training items of a rate-distortion run on a labelled source: all but ``val``.

    A labelled source trains an anomaly model on normal items only (the anomalies are for
    the threshold and its evaluation); a codec must code everything it will be given, so it
    trains on every item but the held-out normal ones: not their clips (log-mel), nor, for
    overlapping windows, the windows sharing samples with them. The threshold is still
    calibrated on those held-out normal items; its evaluation (AUROC) then scores
    anomalies the model trained on.
    """
    n = len(ds)
    if ds.clips is not None:  # whole clips are held out
        clips = np.asarray(ds.clips).reshape(-1)
        return np.flatnonzero(~np.isin(clips, np.unique(clips[val]))).astype(np.int64)
    near = np.zeros(n, dtype=bool)
    near[val] = True
    gap = _window_gap(ds)
    if gap:
        near = np.convolve(near, np.ones(2 * gap + 1), mode="same") > 0
    return np.flatnonzero(~near).astype(np.int64)


def _window_gap(ds: Dataset) -> int:
    """Windows on each side of an item that share samples with it (0 without overlap)."""
    overlapping = bool(ds.window and ds.hop and ds.hop < ds.window)
    return math.ceil(ds.window / ds.hop) - 1 if overlapping else 0


def _split_items(
    ds: Dataset, config: TrainConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    n = len(ds)
    if ds.clips is not None:  # hold out whole files: log-mel clips, the images crops come from
        return _split_clips(ds, config)
    if ds.holdout is not None:  # the source holds out whole files (speech corpora)
        val = np.asarray(ds.holdout, dtype=np.int64)
        return (
            np.setdiff1d(np.arange(n), val),
            val,
            np.arange(0),
            "by file: the source's held-out files",
        )
    gap = _window_gap(ds)
    overlapping = gap > 0
    if has_anomaly_labels(ds):
        labels = np.asarray(ds.labels).reshape(-1)
        anomalous = np.flatnonzero(labels != 0)
        if not ds.window:
            # Independent items (beats, clips, images): train on a random part of all
            # normal items wherever they are; score the held-out normals and every anomaly.
            train, val = normal_split(labels, config.val_fraction, config.seed, prefix_only=False)
            how = "normal items only, random (anomaly labels present)"
            return train, val, np.union1d(val, anomalous), how
        train, val = normal_split(
            labels, config.val_fraction, config.seed, contiguous=overlapping, gap=gap
        )
        # A recording: train on its clean first part; score the held-out normal windows
        # and everything from the first anomaly on.
        rest = np.arange(anomalous[0], n) if anomalous.size else np.arange(0)
        return train, val, np.union1d(val, rest), "normal items only (anomaly labels present)"
    train, val = split_indices(n, config.val_fraction, config.seed, contiguous=overlapping, gap=gap)
    how = f"contiguous, gap {gap} windows" if overlapping else f"random, seed {config.seed}"
    return train, val, np.arange(0), how


def min_train_steps(config: TrainConfig, *, codec: bool = False) -> int:
    """The optimizer steps :func:`fit_schedule` gives a run at least: a codec's
    (``codec``, or ``config.rate_lambda``) :data:`RATE_MIN_STEPS`, else
    :data:`MIN_TRAIN_STEPS`."""
    return RATE_MIN_STEPS if codec or config.rate_lambda else MIN_TRAIN_STEPS


def fit_schedule(
    ds: Dataset,
    config: TrainConfig,
    *,
    batch_size: bool = True,
    epochs: bool = True,
    patience: bool = True,
    codec: bool = False,
) -> tuple[TrainConfig, int]:
    """``config`` with a schedule the training items of ``ds`` can carry, and their number.

    Only the parts nobody chose are fitted (``batch_size`` / ``epochs`` False: the user
    gave them). From one split of ``ds`` (the one :func:`prepare` makes):

    - the batch: a recipe's batch (e.g. ad01's 512) on data with fewer training items
      than one batch becomes ``n // MIN_STEPS_PER_EPOCH`` (at least 1), so an epoch is
      still several steps;
    - the epochs: when the recipe's epochs would take fewer than
      :func:`min_train_steps` optimizer steps at that batch (:data:`MIN_TRAIN_STEPS`,
      a codec's ``codec`` or rate-distortion run :data:`RATE_MIN_STEPS`), just enough
      epochs for that many, at most :data:`MAX_FITTED_EPOCHS` (never fewer than the
      recipe's), and the early-stopping ``patience`` (unless ``patience`` is False: the
      user gave it) raised in proportion, so a run still waits as many steps for
      validation to improve as the recipe did (8 epochs of 5 steps ended fitted runs at a
      fraction of their steps); early stopping still ends a run that stops improving.

    Unchanged when the data fill a batch and the recipe's epochs take enough steps.
    """
    n = int(_split(ds, config)[0].size) if len(ds) else 0
    if batch_size and 0 < n < config.batch_size:
        config = replace(config, batch_size=max(1, n // MIN_STEPS_PER_EPOCH))
    if epochs and n > 0:
        per_epoch = -(-n // config.batch_size)
        steps = min_train_steps(config, codec=codec)
        if config.epochs * per_epoch < steps:
            want = max(config.epochs, min(-(-steps // per_epoch), MAX_FITTED_EPOCHS))
            if patience:  # as many steps without progress as the recipe allowed, not epochs
                waited = -(-config.patience * want // config.epochs)
                config = replace(config, patience=min(waited, want))
            config = replace(config, epochs=want)
    return config, n


def prepare(ds: Dataset, config: TrainConfig, *, world_size: int = 1) -> Prepared:
    """Split, check and normalize ``ds``; raises DataError before anything is written."""
    if len(ds) == 0:
        raise DataError(f"{ds.name}: no items to train on")
    check_finite(ds.x, ds.name)
    if ds.target is not None:
        check_finite(ds.target, f"{ds.name} (target)")
    train_idx, val_idx, anomaly_idx, how = _split(ds, config)
    if val_idx.size == 0:
        raise DataError(f"{ds.name}: no validation items; use more data or a larger --val-fraction")
    if train_idx.size < config.batch_size:
        raise DataError(
            f"{ds.name}: only {train_idx.size} training items, fewer than one batch of "
            f"{config.batch_size}; use --batch-size {max(1, int(train_idx.size))} or more data"
        )
    if world_size > 1 and config.batch_size < world_size:
        raise DataError(f"batch_size {config.batch_size} is smaller than {world_size} processes")

    x_raw = np.asarray(ds.x[train_idx], dtype=np.float32)
    mode = "minmax" if config.loss == "bce" else "standard"
    pre = fit_normalization(x_raw, ds.layout, mode)
    target = ds.target if ds.target is not None else ds.x

    def model_space(arr: np.ndarray, idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(normalize(arr[idx], pre)))

    train_x = torch.from_numpy(np.ascontiguousarray(normalize(x_raw, pre)))
    train_t = train_x if ds.target is None else model_space(target, train_idx)
    val_x = model_space(ds.x, val_idx)
    val_t = val_x if ds.target is None else model_space(target, val_idx)
    signal = None
    if ds.window and ds.hop and ds.sample_rate and ds.layout == "NCW":
        signal = SignalSpec(
            sample_rate=int(ds.sample_rate),
            channels=int(ds.item_shape[0]),
            window=int(ds.window),
            hop=int(ds.hop),
        )
    anomaly_x = anomaly_labels = None
    if anomaly_idx.size:
        anomaly_x = model_space(ds.x, anomaly_idx)
        anomaly_labels = np.asarray(ds.labels).reshape(-1)[anomaly_idx]
    return Prepared(
        dataset=ds,
        preprocessing=pre,
        signal=signal,
        train_x=train_x,
        train_t=train_t,
        val_x=val_x,
        val_t=val_t,
        val_raw_target=np.asarray(target[val_idx], dtype=np.float32),
        val_raw_input=np.asarray(ds.x[val_idx], dtype=np.float32),
        anomaly_x=anomaly_x,
        anomaly_labels=anomaly_labels,
        split=f"{train_idx.size} train / {val_idx.size} validation items ({how})",
        val_clips=None if ds.clips is None else np.asarray(ds.clips).reshape(-1)[val_idx],
        anomaly_clips=(
            None
            if ds.clips is None or not anomaly_idx.size
            else np.asarray(ds.clips).reshape(-1)[anomaly_idx]
        ),
        windows=None if signal is not None else _windows(ds),
        train_raw=x_raw if ds.augment is not None and ds.target is None else None,
    )


def _windows(ds: Dataset) -> WindowSpec | None:
    """How the items were cut from a signal when no signal section can say it (flat NF
    windows; a signal without a sample rate), or None: ``manifest.windows``, so the
    false-alarm law counts overlapping windows (``scores.item_independence``)."""
    if not ds.framed or ds.features is not None or ds.sensorlog is not None:
        return None
    w = WindowSpec(int(ds.window), int(ds.hop))
    return w if w.hop <= w.window and w.fits(ds.layout, tuple(ds.item_shape)) else None


def remix_epoch(data: Prepared, epoch: int) -> bool:
    """Replace the training tensors with the source's fresh draw for ``epoch``, if it has one.

    On-the-fly mixing sources (``Dataset.remix``) give a new mixture every epoch;
    epoch 0 is the draw ``prepare`` already holds. Augmenting sources
    (``Dataset.augment``: colour crops' random hues) give every epoch, 0 included, their
    augmented copy of the training items; validation is never augmented. Normalization
    stays the one fitted on the training items as loaded (it is stored with the model).
    Returns True when it replaced them.
    """
    augment = data.dataset.augment
    if augment is not None and data.train_raw is not None:
        x = normalize(augment(data.train_raw, epoch), data.preprocessing)
        data.train_x = data.train_t = torch.from_numpy(np.ascontiguousarray(x))
        return True
    remix = data.dataset.remix
    if remix is None or epoch == 0:
        return False
    x, t = remix(epoch)
    data.train_x = torch.from_numpy(np.ascontiguousarray(normalize(x, data.preprocessing)))
    data.train_t = torch.from_numpy(np.ascontiguousarray(normalize(t, data.preprocessing)))
    return True
