"""Autoencoder models: dense (flat and image), conv1d, conv2d, spectral-mask and a registry by name.

Every model has ``encode(x)``, ``decode(z)``, ``forward(x) -> reconstruction``,
a frozen ``config`` (with ``item_shape`` and ``latent_shape``) and a ``layout``.
"""

from .conv1d import Conv1dAE as Conv1dAE
from .conv1d import Conv1dConfig as Conv1dConfig
from .conv2d import Conv2dAE as Conv2dAE
from .conv2d import Conv2dConfig as Conv2dConfig
from .dense import DenseAE as DenseAE
from .dense import DenseConfig as DenseConfig
from .dense2d import Dense2dAE as Dense2dAE
from .dense2d import Dense2dConfig as Dense2dConfig
from .registry import ARCHS as ARCHS
from .registry import ArchSpec as ArchSpec
from .registry import ModelConfig as ModelConfig
from .registry import arch_for_layout as arch_for_layout
from .registry import asdict as asdict
from .registry import build_model as build_model
from .registry import config_from_dict as config_from_dict
from .registry import default_config as default_config
from .spectral import SpectralConfig as SpectralConfig
from .spectral import SpectralMaskAE as SpectralMaskAE
from .spectral_gru import SpectralGRUMask as SpectralGRUMask

__all__ = [
    "ARCHS",
    "ArchSpec",
    "Conv1dAE",
    "Conv1dConfig",
    "Conv2dAE",
    "Conv2dConfig",
    "Dense2dAE",
    "Dense2dConfig",
    "DenseAE",
    "DenseConfig",
    "ModelConfig",
    "SpectralConfig",
    "SpectralGRUMask",
    "SpectralMaskAE",
    "arch_for_layout",
    "asdict",
    "build_model",
    "config_from_dict",
    "default_config",
]
