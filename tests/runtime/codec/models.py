"""Tiny models for the codec tests: signal triplets from tests.runtime.onnx_models and a conv2d.

The conv2d image model (Conv k=2 stride 2 + Relu encoder, ConvTranspose decoder)
is built here with onnx.helper, fixed weights from a seed, manifest included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime import CodecSpec, Manifest
from edgeae_runtime.manifest import MANIFEST_KEY, Provenance, TensorSpec

__all__ = ["entropy_codec", "make_image_pair"]


def make_image_pair(
    directory: Path,
    *,
    channels: int = 1,
    size: int = 8,
    hidden: int = 3,
    fingerprint: str = "image-test-0001",
    codec: CodecSpec | None = None,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write encoder.onnx and decoder.onnx of a tiny conv2d autoencoder; return their paths."""
    rng = np.random.default_rng(seed)
    w_enc = (rng.standard_normal((hidden, channels, 2, 2)) * 0.5).astype(np.float32)
    b_enc = np.full(hidden, 0.1, np.float32)
    w_dec = (rng.standard_normal((hidden, channels, 2, 2)) * 0.5).astype(np.float32)
    b_dec = np.zeros(channels, np.float32)
    item = (channels, size, size)
    latent = (hidden, size // 2, size // 2)
    paths = []
    for role in ("encoder", "decoder"):
        if role == "encoder":
            nodes = [
                helper.make_node("Conv", ["input", "w_enc", "b_enc"], ["pre"], strides=[2, 2]),
                helper.make_node("Relu", ["pre"], ["latent"]),
            ]
            src, dst, inits = ("input", item), ("latent", latent), [w_enc, b_enc]
            names = ["w_enc", "b_enc"]
        else:
            nodes = [
                helper.make_node(
                    "ConvTranspose",
                    ["latent", "w_dec", "b_dec"],
                    ["reconstruction"],
                    strides=[2, 2],
                )
            ]
            src, dst, inits = ("latent", latent), ("reconstruction", item), [w_dec, b_dec]
            names = ["w_dec", "b_dec"]
        graph = helper.make_graph(
            nodes,
            f"image_{role}",
            [helper.make_tensor_value_info(src[0], TensorProto.FLOAT, ["N", *src[1]])],
            [helper.make_tensor_value_info(dst[0], TensorProto.FLOAT, ["N", *dst[1]])],
            [numpy_helper.from_array(a, n) for a, n in zip(inits, names, strict=True)],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        manifest = Manifest(
            role=role,
            arch="test-conv2d",
            layout="NCHW",
            inputs=(TensorSpec(src[0], (None, *src[1])),),
            outputs=(TensorSpec(dst[0], (None, *dst[1])),),
            item_shape=item,
            latent_shape=latent,
            provenance=Provenance(fingerprint=fingerprint),
            codec=codec,
        )
        helper.set_model_props(model, {MANIFEST_KEY: manifest.to_json()})
        onnx.checker.check_model(model)
        path = Path(directory) / f"{role}.onnx"
        onnx.save(model, path)
        paths.append(path)
    return paths[0], paths[1]


def entropy_codec(
    latents: np.ndarray, step: float, *, support: float = 100.0, fitted: bool = True
) -> CodecSpec:
    """A CodecSpec coding ``round(z / step)`` with entropy tables fitted to ``latents``.

    One table per latent channel (axis 1 of ``latents``), from the codes' histogram as
    training would give it. ``support`` (a percentile of |code|) narrows the tables so
    the rarest codes take the escape path; ``fitted=False`` gives flat tables.
    """
    from edgeae_runtime.codec.entropy import EntropyTables

    codes = np.rint(np.asarray(latents, np.float64) / step).astype(np.int64)
    channels = codes.shape[1]
    rows = np.moveaxis(codes, 1, 0).reshape(channels, -1)
    half = int(np.percentile(np.abs(codes), support)) + 1
    inside = [r[np.abs(r) < half] + half for r in rows]
    counts = np.stack([np.bincount(r, minlength=2 * half + 1) for r in inside]).astype(float)
    if not fitted:
        counts = np.ones_like(counts)
    pmf = np.concatenate([counts + 0.5, np.full((channels, 1), 1e-3)], axis=1)
    spec = EntropyTables.from_pmf(pmf, offset=[-half] * channels).to_spec()
    return CodecSpec(scale=(step,), entropy=spec)
