"""Tiny edgeae autoencoders and hand-built ONNX graphs for the export tests (fast, seeded)."""

from __future__ import annotations

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper
import torch
from torch import nn

from edgeae.models import Conv1dAE, Conv1dConfig, Conv2dAE, Conv2dConfig, DenseAE, DenseConfig
from edgeae.models import asdict as config_asdict
from edgeae_export import ExportInfo
from edgeae_runtime import Preprocessing

__all__ = ["ARCHS", "Skewed", "examples", "gemm_model", "tiny"]

torch.set_num_threads(1)

ARCHS = ("dense", "conv1d", "conv2d")


def tiny(arch: str, seed: int = 0) -> tuple[nn.Module, ExportInfo]:
    """A seeded tiny model of ``arch`` and the ExportInfo describing it."""
    torch.manual_seed(seed)
    if arch == "dense":
        config = DenseConfig(item_shape=(24,), hidden=(16,), latent=4)
        model: nn.Module = DenseAE(config)
    elif arch == "conv1d":
        config = Conv1dConfig(item_shape=(2, 32), channels=(4, 8), latent_channels=3)
        model = Conv1dAE(config)
    else:
        config = Conv2dConfig(item_shape=(1, 16, 16), channels=(4,), latent_channels=2)
        model = Conv2dAE(config)
    model.eval()
    info = ExportInfo(
        arch=arch,
        layout=config.layout,
        item_shape=tuple(config.item_shape),
        latent_shape=tuple(config.latent_shape),
        preprocessing=Preprocessing(offset=(0.5,), scale=(2.0,)),
        arch_config=config_asdict(config),
        data_fingerprint="data-123",
        source="tests",
    )
    return model, info


def examples(info: ExportInfo, n: int = 12, seed: int = 1) -> np.ndarray:
    """``n`` model-space items for ``info``."""
    return np.random.default_rng(seed).normal(size=(n, *info.item_shape)).astype(np.float32)


class Skewed(nn.Module):
    """A dense autoencoder whose exported graph adds ``skew`` to the reconstruction.

    torch's eager output does not: the parity gate must catch the difference.
    """

    def __init__(self, skew: float = 0.01) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.skew = skew
        self.enc = nn.Linear(8, 4)
        self.dec = nn.Linear(4, 8)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        y = self.dec(z)
        if torch.compiler.is_exporting():
            y = y + self.skew
        return y


def gemm_model(features: int = 6, latent: int = 3) -> onnx.ModelProto:
    """A float ONNX autoencoder-shaped graph (Gemm -> Relu -> Gemm) without a manifest."""
    rng = np.random.default_rng(0)
    w1 = onnx.numpy_helper.from_array(rng.normal(size=(features, latent)).astype(np.float32), "w1")
    w2 = onnx.numpy_helper.from_array(rng.normal(size=(latent, features)).astype(np.float32), "w2")
    nodes = [
        oh.make_node("Gemm", ["input", "w1"], ["latent"], name="enc_gemm"),
        oh.make_node("Relu", ["latent"], ["h"], name="relu"),
        oh.make_node("Gemm", ["h", "w2"], ["reconstruction"], name="dec_gemm"),
    ]
    graph = oh.make_graph(
        nodes,
        "tiny",
        [oh.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", features])],
        [
            oh.make_tensor_value_info(
                "reconstruction", onnx.TensorProto.FLOAT, ["batch", features]
            ),
            oh.make_tensor_value_info("latent", onnx.TensorProto.FLOAT, ["batch", latent]),
        ],
        [w1, w2],
    )
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    model.ir_version = 8
    return model
