"""Building the manifest of exported files from what the trainer knows about the model.

:class:`ExportInfo` is the plain description the host side hands the exporter
(arch, shapes, preprocessing, signal and anomaly sections, data provenance);
:func:`build_manifest` turns it into the runtime's own
:class:`~edgeae_runtime.manifest.Manifest` for one file role.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from edgeae_runtime.manifest import (
    AnomalySpec,
    CodecSpec,
    LogMelSpec,
    Manifest,
    Parity,
    Preprocessing,
    Provenance,
    SensorLogSpec,
    SignalSpec,
    SpectralSpec,
    TensorSpec,
    WindowSpec,
)

from .errors import ExportError

__all__ = [
    "INPUT_NAME",
    "LATENT_NAME",
    "RECONSTRUCTION_NAME",
    "ExportInfo",
    "build_manifest",
    "export_versions",
    "role_io",
]

INPUT_NAME = "input"
LATENT_NAME = "latent"
RECONSTRUCTION_NAME = "reconstruction"

Role = Literal["autoencoder", "encoder", "decoder"]


@dataclass(frozen=True)
class ExportInfo:
    """What the exporter needs to know about a trained model besides its weights."""

    arch: str
    layout: Literal["NF", "NCW", "NCHW"]
    item_shape: tuple[int, ...]
    latent_shape: tuple[int, ...]
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    arch_config: Mapping[str, Any] = field(default_factory=dict)
    signal: SignalSpec | None = None
    anomaly: AnomalySpec | None = None
    data_fingerprint: str = ""
    source: str = ""
    spectral: SpectralSpec | None = None
    features: LogMelSpec | None = None  # the log-mel front-end of machine-sound models
    sensorlog: SensorLogSpec | None = None  # how a CSV sensor log becomes windows
    windows: WindowSpec | None = None  # signal windows without a signal section (NF, no rate)
    # Shape of one reconstruction when it differs from the item (a spectral mask).
    output_shape: tuple[int, ...] | None = None

    @property
    def reconstruction_shape(self) -> tuple[int, ...]:
        """Shape of one ``reconstruction`` output (the item shape unless ``output_shape``)."""
        return tuple(self.output_shape or self.item_shape)


def role_io(
    role: Role,
    item_shape: tuple[int, ...],
    latent_shape: tuple[int, ...],
    output_shape: tuple[int, ...] | None = None,
) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    """The graph inputs and outputs of one file role, batch axis dynamic (None)."""
    x = TensorSpec(INPUT_NAME, (None, *item_shape))
    z = TensorSpec(LATENT_NAME, (None, *latent_shape))
    y = TensorSpec(RECONSTRUCTION_NAME, (None, *(output_shape or item_shape)))
    if role == "autoencoder":
        return (x,), (y, z)
    if role == "encoder":
        return (x,), (z,)
    return (z,), (y,)


def export_versions() -> dict[str, str]:
    """Installed versions of the packages that made the file (absent ones are skipped)."""
    out: dict[str, str] = {}
    for dist in ("edgeae", "edgeae-export", "edgeae-runtime", "torch", "onnx", "onnxruntime"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def _plain_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The arch config as it reads back from JSON (tuples become lists), or ExportError."""
    try:
        return json.loads(json.dumps(dict(config)))
    except (TypeError, ValueError) as exc:
        raise ExportError(f"arch_config: must be JSON-serializable ({exc})") from None


def build_manifest(
    info: ExportInfo,
    *,
    role: Role,
    fingerprint: str,
    file_fingerprint: str,
    parity: Parity | None,
    codec: CodecSpec | None,
    versions: Mapping[str, str] | None = None,
    created: str | None = None,
) -> Manifest:
    """The manifest of one exported file (validated by the runtime's schema code)."""
    inputs, outputs = role_io(
        role, tuple(info.item_shape), tuple(info.latent_shape), info.reconstruction_shape
    )
    return Manifest(
        role=role,
        arch=info.arch,
        layout=info.layout,
        inputs=inputs,
        outputs=outputs,
        item_shape=tuple(info.item_shape),
        latent_shape=tuple(info.latent_shape),
        provenance=Provenance(
            fingerprint=fingerprint,
            file_fingerprint=file_fingerprint,
            data_fingerprint=info.data_fingerprint,
            versions=dict(versions if versions is not None else export_versions()),
            created=created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            source=info.source,
        ),
        preprocessing=info.preprocessing,
        arch_config=_plain_config(info.arch_config),
        signal=info.signal,
        spectral=info.spectral,
        features=info.features,
        sensorlog=info.sensorlog,
        windows=info.windows,
        anomaly=info.anomaly,
        codec=codec,
        parity=parity,
    )
