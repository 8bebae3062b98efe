"""Machine-sound folders as log-mel items: ``logmel:PATH?n_mels=128&frames=5&...``.

``PATH`` is a WAV file or a folder of them (searched recursively, sorted by
path). Every clip becomes stacked log-mel items through the runtime's own
front-end (:mod:`edgeae_runtime.logmel`, the code the device runs), so training
and scoring see the same features. Clips whose file name starts with
``anomaly`` (the DCASE Task 2 naming, ``anomaly_id_00_00000000.wav``) are
labelled anomalous, every item of them too; the dataset then carries anomaly
labels (``Dataset.anomaly_labels``) and ``clips`` (the clip index of each item,
for clip-level scores). Options: ``n_fft`` (1024), ``hop`` (512), ``n_mels``
(128), ``frames`` (5), ``fmin`` (0), ``fmax`` (rate / 2), ``reduce`` (mean |
max: the clip score), ``channel`` (0: which channel of multi-channel files),
``layout`` (NF: flat frame-major items for dense models; NCW: ``(n_mels, frames)``
for conv1d; NCHW: ``(1, n_mels, frames)`` for conv2d; the runtime's one stacking,
:func:`edgeae_runtime.logmel.stack_frames`), ``step`` (1: keep every ``step``-th item
of each clip; a training option that thins heavily overlapping patches; the
runtime scores every item).

Options the source string leaves out come from ``defaults`` when given (a
model's manifest.features and layout, so ``--calibration logmel:DIR`` cuts the
items that model takes), else from the list above.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from edgeae.errors import DataError
from edgeae_runtime.errors import InputError
from edgeae_runtime.logmel import feature_items
from edgeae_runtime.manifest import LogMelSpec

from .dataset import Dataset, fingerprint
from .wav import read_wav

__all__ = ["LOGMEL_PREFIX", "clip_files", "load_logmel", "logmel_options", "model_defaults"]

LOGMEL_PREFIX = "logmel:"
_INT = ("n_fft", "hop", "n_mels", "frames", "channel", "step")
_FLOAT = ("fmin", "fmax")
_LAYOUTS = ("NF", "NCW", "NCHW")


def clip_files(path: Path) -> list[Path]:
    """The WAV clips of a file or folder (recursive, sorted); DataError when there are none."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".wav" and p.is_file())
    if not files:
        raise DataError(f"{path}: holds no .wav clips")
    return files


def logmel_options(source: str) -> dict[str, str]:
    """The options of ``logmel:PATH?...`` as given (DataError when malformed)."""
    from urllib.parse import parse_qsl

    query = source[len(LOGMEL_PREFIX) :].partition("?")[2]
    try:
        return dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise DataError(f"{source}: malformed options {query!r}") from None


def _spec(
    options: Mapping[str, str], sample_rate: int, where: str, defaults: Mapping[str, Any]
) -> tuple[LogMelSpec, int, str, int]:
    known = {*_INT, *_FLOAT, "reduce", "layout"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise DataError(
            f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = dict(defaults)
    for name, value in options.items():
        try:
            values[name] = int(value) if name in _INT else float(value) if name in _FLOAT else value
        except ValueError:
            raise DataError(f"{where}: option {name}={value!r} is not a number") from None
    channel = int(values.pop("channel", 0))
    step = int(values.pop("step", 1))
    if not 1 <= step <= 4096:
        raise DataError(f"{where}: option step={step}: must be in 1..4096")
    layout = str(values.pop("layout", "NF"))
    if layout not in _LAYOUTS:
        raise DataError(f"{where}: option layout={layout!r}: must be one of {', '.join(_LAYOUTS)}")
    rate = values.pop("sample_rate", sample_rate)
    if rate != sample_rate:
        raise DataError(f"{where}: the clips are {sample_rate} Hz, the model takes {rate} Hz")
    spec = LogMelSpec(sample_rate=sample_rate, **values)
    from edgeae_runtime.manifest import Manifest, Provenance, TensorSpec

    item = spec.item_shape(layout)
    try:  # the manifest's own bounds, before any clip is read
        Manifest(
            role="autoencoder", arch="dense" if layout == "NF" else "conv", layout=layout,
            inputs=(TensorSpec("input", (None, *item)),),
            outputs=(TensorSpec("reconstruction", (None, *item)),),
            item_shape=item, latent_shape=(1,), provenance=Provenance(fingerprint="-"),
            features=spec,
        )  # fmt: skip
    except Exception as exc:  # ManifestError naming the field
        raise DataError(f"{where}: {exc}") from None
    return spec, channel, layout, step


def model_defaults(features: LogMelSpec | None, layout: str | None) -> dict[str, Any]:
    """The logmel: option defaults that cut the items of a model with ``features`` in
    ``layout`` (empty without features)."""
    if features is None:
        return {}
    from dataclasses import asdict

    return {**asdict(features), "layout": layout or "NF"}


def load_logmel(
    source: str, *, limit: int | None = None, defaults: Mapping[str, Any] | None = None
) -> Dataset:
    """The dataset of ``logmel:PATH[?options]`` (see the module docstring); ``defaults``
    fill the options the source leaves out (:func:`model_defaults`)."""
    path_text = source[len(LOGMEL_PREFIX) :].partition("?")[0]
    options = logmel_options(source)
    files = clip_files(Path(path_text))
    items, labels, clips = [], [], []
    spec: LogMelSpec | None = None
    channel, layout, step = 0, "NF", 1
    for index, f in enumerate(files):
        signal, rate = read_wav(f)
        if spec is None:
            spec, channel, layout, step = _spec(options, rate, source, defaults or {})
        elif rate != spec.sample_rate:
            raise DataError(f"{f}: {rate} Hz, the first clip is {spec.sample_rate} Hz")
        if not 0 <= channel < signal.shape[0]:
            raise DataError(f"{f}: has {signal.shape[0]} channel(s), channel={channel} asked")
        try:
            x = feature_items(signal[channel : channel + 1], spec, layout=layout, name=str(f))
            x = x[::step]
        except InputError as exc:
            raise DataError(str(exc)) from None
        items.append(x)
        labels.append(np.full(len(x), 1 if f.name.lower().startswith("anomaly") else 0))
        clips.append(np.full(len(x), index))
    assert spec is not None
    x = np.concatenate(items).astype(np.float32)
    y = np.concatenate(labels).astype(np.int64)
    c = np.concatenate(clips).astype(np.int64)
    if limit is not None:
        x, y, c = x[:limit], y[:limit], c[:limit]
    anomalous = bool(y.any())
    ds = Dataset(
        name=source,
        x=x,
        layout=layout,
        fingerprint=fingerprint([x, y], {"source": "logmel", **options}),
        description=(
            f"{len(files)} clips -> {len(x)} log-mel items ({spec.frames} frames x "
            f"{spec.n_mels} mels, {layout})"
        ),
        labels=y if anomalous else None,
        labels_are_anomalies=anomalous,
        sample_rate=spec.sample_rate,
        features=spec,
        clips=c,
        clip_names=tuple(str(f) for f in files),
    )
    return ds
