"""Checkpoints: one ``torch.save`` dict of plain types, loaded with ``weights_only=True``.

The file stores the arguments that rebuild the model (``arch`` + ``model_config``)
next to its weights, the normalization, signal framing and anomaly threshold the
runtime needs, and the optimizer/scheduler/early-stopping state that ``--resume``
continues from. Only dicts, lists, tensors, strings and numbers go in, so loading
never unpickles arbitrary objects.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from edgeae import __version__
from edgeae.errors import CheckpointError, ConfigError
from edgeae.models import build_model, config_from_dict
from edgeae_runtime import AnomalySpec, Preprocessing, SignalSpec
from edgeae_runtime.atomic import atomic_path
from edgeae_runtime.manifest import LogMelSpec, SensorLogSpec, SpectralSpec, WindowSpec

if TYPE_CHECKING:
    from edgeae_export import ExportInfo

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_NAME",
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "checkpoint_record",
    "load_checkpoint",
    "read_checkpoint_dict",
    "save_checkpoint_dict",
    "spec_from_dict",
    "spec_to_dict",
    "versions",
]

CHECKPOINT_FORMAT = "edgeae.checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class Checkpoint:
    """A trained model rebuilt from its checkpoint, with everything the exporter needs."""

    model: nn.Module
    arch: str
    model_config: dict[str, Any]
    layout: str
    item_shape: tuple[int, ...]
    latent_shape: tuple[int, ...]
    preprocessing: Preprocessing
    signal: SignalSpec | None
    anomaly: AnomalySpec | None
    data_source: str
    data_fingerprint: str
    loss: str
    epoch: int
    best_val: float
    versions: dict[str, str]
    train_config: dict[str, Any]
    path: Path
    features: LogMelSpec | None = None  # a log-mel front-end (logmel: sources)
    spectral: SpectralSpec | None = None  # the STFT front-end of a mask denoiser
    sensorlog: SensorLogSpec | None = None  # the CSV law of a sensorlog: source
    windows: WindowSpec | None = None  # signal windows without a signal section (NF, no rate)
    finished: bool = True  # False: a per-epoch checkpoint of a run that has not ended

    def export_info(self, source: str | None = None) -> ExportInfo:
        """What the exporter needs to know about this model besides its weights."""
        from edgeae_export import ExportInfo  # onnx is loaded only when exporting

        return ExportInfo(
            arch=self.arch,
            layout=self.layout,  # type: ignore[arg-type]
            item_shape=tuple(self.item_shape),
            latent_shape=tuple(self.latent_shape),
            preprocessing=self.preprocessing,
            arch_config=self.model_config,
            signal=self.signal,
            features=self.features,
            spectral=self.spectral,
            sensorlog=self.sensorlog,
            windows=self.windows,
            output_shape=None if self.spectral is None else tuple(self.model.config.output_shape),
            anomaly=self.anomaly,
            data_fingerprint=self.data_fingerprint,
            source=self.data_source if source is None else source,
        )


def spec_to_dict(spec: Any) -> dict[str, Any] | None:
    """A runtime spec dataclass as a plain dict (tuples -> lists), or None."""
    if spec is None:
        return None
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(spec).items()}


def spec_from_dict(cls: type, data: Mapping[str, Any] | None, where: str) -> Any:
    """Rebuild a runtime spec (Preprocessing, SignalSpec, AnomalySpec) from :func:`spec_to_dict`."""
    if data is None:
        return None
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
    except (TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{where}: invalid {cls.__name__} ({exc})") from None


def versions() -> dict[str, str]:
    """The library versions a run was made with (checkpoint and config.json)."""
    return {
        "edgeae": __version__,
        "torch": str(torch.__version__),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def checkpoint_record(
    arch: str,
    model_config: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    *,
    specs: Mapping[str, Any],
    source: str,
    fingerprint: str,
    train_config: Mapping[str, Any],
    **state: Any,
) -> dict[str, Any]:
    """THE checkpoint contract: format, the model's rebuild arguments and weights, the runtime
    specs (``specs``: name -> spec dataclass or None), the data identity, the training
    config, the library versions and ``state`` (epoch, best, history; optimizer... to resume).
    """
    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "arch": arch,
        "model_config": dict(model_config),
        "state_dict": state_dict,
        **state,
        **{name: spec_to_dict(spec) for name, spec in specs.items()},
        "data_source": source,
        "data_fingerprint": fingerprint,
        "train_config": dict(train_config),
        "versions": versions(),
    }


def save_checkpoint_dict(blob: dict[str, Any], path: Path) -> None:
    """Write ``blob`` atomically (the runtime's one atomic output)."""
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)


def _resolve(path_or_run_dir: str | os.PathLike[str]) -> Path:
    path = Path(path_or_run_dir)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no checkpoint here; give a run directory written by `edgeae train` "
            "or its checkpoint.pt"
        )
    return path


def read_checkpoint_dict(path_or_run_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], Path]:
    """Load and check the raw checkpoint dict (format and version) with ``weights_only=True``."""
    path = _resolve(path_or_run_dir)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load on arbitrary bytes raises almost any exception type
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable edgeae checkpoint ({first[:200]})") from None
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not an edgeae checkpoint (no format {CHECKPOINT_FORMAT!r})")
    if blob.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {blob.get('version')!r}, this edgeae reads "
            f"version {CHECKPOINT_VERSION}; retrain or use a matching edgeae"
        )
    return blob, path


def load_checkpoint(path_or_run_dir: str | os.PathLike[str]) -> Checkpoint:
    """Rebuild the best model of a run (eval mode) from its stored config, never from guesses."""
    blob, path = read_checkpoint_dict(path_or_run_dir)
    try:
        arch = blob["arch"]
        config = config_from_dict(arch, blob["model_config"])
        model = build_model(arch, config)
        model.load_state_dict(blob.get("best_state_dict") or blob["state_dict"])
    except KeyError as exc:
        raise CheckpointError(f"{path}: checkpoint lacks field {exc}") from None
    except (ConfigError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: cannot rebuild the model ({exc})") from None
    model.eval()
    return Checkpoint(
        model=model,
        arch=arch,
        model_config=dict(blob["model_config"]),
        layout=model.layout,
        item_shape=tuple(config.item_shape),
        latent_shape=tuple(config.latent_shape),
        preprocessing=spec_from_dict(Preprocessing, blob.get("preprocessing"), str(path))
        or Preprocessing(),
        signal=spec_from_dict(SignalSpec, blob.get("signal"), str(path)),
        anomaly=spec_from_dict(AnomalySpec, blob.get("anomaly"), str(path)),
        data_source=str(blob.get("data_source", "")),
        data_fingerprint=str(blob.get("data_fingerprint", "")),
        loss=str(blob.get("train_config", {}).get("loss", "mse")),
        epoch=int(blob.get("epoch", 0)),
        best_val=float(blob.get("best_val", float("nan"))),
        versions=dict(blob.get("versions", {})),
        train_config=dict(blob.get("train_config", {})),
        path=path,
        features=spec_from_dict(LogMelSpec, blob.get("features"), str(path)),
        spectral=spec_from_dict(SpectralSpec, blob.get("spectral"), str(path)),
        sensorlog=spec_from_dict(SensorLogSpec, blob.get("sensorlog"), str(path)),
        windows=spec_from_dict(WindowSpec, blob.get("windows"), str(path)),
        finished=bool(blob.get("finished", True)),  # checkpoints before 2026-12-03 lack it
    )
