"""The model registry: architectures by name, default configs, and config <-> dict for checkpoints.

A checkpoint stores ``arch`` and ``asdict(config)``; :func:`config_from_dict`
and :func:`build_model` rebuild the exact model from them, never guessing
shapes from weights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from torch import nn

from edgeae.errors import ConfigError

from .conv1d import Conv1dAE, Conv1dConfig
from .conv2d import Conv2dAE, Conv2dConfig
from .dense import DenseAE, DenseConfig
from .dense2d import Dense2dAE, Dense2dConfig
from .spectral import SpectralConfig, SpectralMaskAE
from .spectral_gru import SpectralGRUMask

__all__ = [
    "ARCHS",
    "ArchSpec",
    "ModelConfig",
    "arch_for_layout",
    "asdict",
    "build_model",
    "config_from_dict",
    "default_config",
]

ModelConfig = DenseConfig | Conv1dConfig | Conv2dConfig | Dense2dConfig | SpectralConfig


class ArchSpec(NamedTuple):
    """One registered architecture: its model class, config class and input layout."""

    model: Callable[[Any], nn.Module]
    config: type
    layout: str


ARCHS: dict[str, ArchSpec] = {
    "dense": ArchSpec(DenseAE, DenseConfig, "NF"),
    "conv1d": ArchSpec(Conv1dAE, Conv1dConfig, "NCW"),
    "conv2d": ArchSpec(Conv2dAE, Conv2dConfig, "NCHW"),
    # after conv2d: arch_for_layout picks the first arch of a layout
    "dense2d": ArchSpec(Dense2dAE, Dense2dConfig, "NCHW"),
    # after conv1d: a spectral-mask denoiser (STFT items), never the default of a layout
    "spectral": ArchSpec(
        lambda c: SpectralGRUMask(c) if c.recurrent else SpectralMaskAE(c), SpectralConfig, "NCW"
    ),
}

# CLI-friendly names mapped onto each family's own fields.
_ALIASES = {
    "dense": {},
    "conv1d": {"latent": "latent_channels", "hidden": "channels"},
    "conv2d": {"latent": "latent_channels", "hidden": "channels"},
    "dense2d": {},
    "spectral": {"latent": "latent_channels", "hidden": "channels"},
}


def _spec(arch: str) -> ArchSpec:
    try:
        return ARCHS[arch]
    except KeyError:
        raise ConfigError(
            f"unknown arch {arch!r}; choose one of {', '.join(sorted(ARCHS))}"
        ) from None


def arch_for_layout(layout: str) -> str:
    """The default architecture for a data layout: NF -> dense, NCW -> conv1d, NCHW -> conv2d."""
    for name, spec in ARCHS.items():
        if spec.layout == layout:
            return name
    raise ConfigError(f"no architecture for layout {layout!r}; expected NF, NCW or NCHW")


def _normalize_fields(arch: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Apply aliases, drop ``None`` values, turn lists into tuples, refuse unknown fields."""
    cls = _spec(arch).config
    names = {f.name for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        key = _ALIASES[arch].get(key, key)
        if key not in names:
            raise ConfigError(
                f"{arch}: unknown model option {key!r}; known: {', '.join(sorted(names))}"
            )
        if isinstance(value, list):
            value = tuple(value)
        if key in ("hidden", "channels") and isinstance(value, int) and arch != "spectral":
            value = (value,)  # one level of a conv/dense stack (spectral: one width)
        out[key] = value
    return out


def default_config(arch: str, item_shape: tuple[int, ...], **overrides: Any) -> ModelConfig:
    """The default config of ``arch`` for items of ``item_shape``, with ``overrides`` applied.

    ``None`` overrides are ignored (so CLI options left unset keep the default);
    conv archs also accept ``latent`` (latent_channels) and ``hidden`` (channels).
    """
    fields = _normalize_fields(arch, overrides)
    fields["item_shape"] = tuple(int(s) for s in item_shape)
    return _make(arch, fields)


def _make(arch: str, fields: dict[str, Any]) -> ModelConfig:
    try:
        return _spec(arch).config(**fields)
    except TypeError as exc:
        raise ConfigError(f"{arch}: invalid model config ({exc})") from None


def build_model(arch: str, config: ModelConfig | None = None, **fields: Any) -> nn.Module:
    """Build an ``arch`` model from a config object or from config fields (incl. item_shape)."""
    spec = _spec(arch)
    if config is None:
        if "item_shape" not in fields:
            raise ConfigError(f"{arch}: item_shape is required to build a model")
        config = _make(arch, _normalize_fields(arch, fields))
    elif fields:
        config = dataclasses.replace(config, **_normalize_fields(arch, fields))
    if not isinstance(config, spec.config):
        raise ConfigError(f"{arch}: expected a {spec.config.__name__}, got {type(config).__name__}")
    return spec.model(config)


def asdict(config: ModelConfig) -> dict[str, Any]:
    """A plain dict of the config (tuples as lists): JSON- and ``weights_only``-safe."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def config_from_dict(arch: str, data: Mapping[str, Any]) -> ModelConfig:
    """Rebuild a config from :func:`asdict` output (e.g. read from a checkpoint)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{arch}: model config must be a mapping, got {type(data).__name__}")
    return _make(arch, _normalize_fields(arch, dict(data)))
