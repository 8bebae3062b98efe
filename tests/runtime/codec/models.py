"""Tiny models for the codec tests: signal triplets from tests.runtime.onnx_models and conv2d.

The conv2d image model (Conv k=2 stride 2 + Relu encoder, ConvTranspose decoder)
is built here with onnx.helper, fixed weights from a seed, manifest included; the pixel
pair is lossless (space-to-depth Conv, depth-to-space ConvTranspose: the latent is the
pixels) with a digits-like manifest (raw units 0..16).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime import CodecSpec, Manifest
from edgeae_runtime.manifest import MANIFEST_KEY, Preprocessing, Provenance, TensorSpec

__all__ = [
    "DIGITS_LIKE",
    "PIXEL_SHAPE",
    "entropy_codec",
    "entropy_image_pair",
    "entropy_items_pair",
    "entropy_signal_pair",
    "make_image_pair",
    "make_pixel_pair",
]


def make_image_pair(
    directory: Path,
    *,
    channels: int = 1,
    size: int = 8,
    hidden: int = 3,
    fingerprint: str = "image-test-0001",
    codec: CodecSpec | None = None,
    seed: int = 0,
    any_size: bool = False,
) -> tuple[Path, Path]:
    """Write encoder.onnx and decoder.onnx of a tiny conv2d autoencoder; return their paths.
    ``any_size``: graphs with spatial axes (what the exporter writes for conv2d models)."""
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
            [helper.make_tensor_value_info(src[0], TensorProto.FLOAT, _dims(src[1], any_size))],
            [helper.make_tensor_value_info(dst[0], TensorProto.FLOAT, _dims(dst[1], any_size))],
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


def _dims(shape: tuple[int, ...], any_size: bool) -> list[Any]:
    """A graph I/O's dims: a symbolic batch, and with ``any_size`` symbolic height/width."""
    return ["N", shape[0], "H", "W"] if any_size else ["N", *shape]


def entropy_codec(
    latents: np.ndarray,
    step: float,
    *,
    support: float = 100.0,
    fitted: bool = True,
    context: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    adaptive: int = 0,
) -> CodecSpec:
    """A CodecSpec coding ``round(z / step)`` with entropy tables fitted to ``latents``.

    One table per latent channel (axis 1 of ``latents``), from the codes' histogram as
    training would give it. ``support`` (a percentile of |code|) narrows the tables so
    the rarest codes take the escape path; ``fitted=False`` gives flat tables.
    ``context=(thresholds, neighbours)`` adds a context model over the same symbols,
    counted per context class (format version 4 streams); ``adaptive`` above 0 adds an
    adaptive model of that weight (format version 5) over the context tables, split by
    position.
    """
    from edgeae_runtime.codec.entropy import EntropyTables, context_classes, neighbour_map

    codes = np.rint(np.asarray(latents, np.float64) / step).astype(np.int64)
    channels = codes.shape[1]
    rows = np.moveaxis(codes, 1, 0).reshape(channels, -1)
    half = int(np.percentile(np.abs(codes), support)) + 1
    inside = [r[np.abs(r) < half] + half for r in rows]
    counts = np.stack([np.bincount(r, minlength=2 * half + 1) for r in inside]).astype(float)
    if not fitted:
        counts = np.ones_like(counts)
    pmf = np.concatenate([counts + 0.5, np.full((channels, 1), 1e-3)], axis=1)
    base = EntropyTables.from_pmf(pmf, offset=[-half] * channels)
    if context is None:
        return CodecSpec(scale=(step,), entropy=base.to_spec())
    thresholds, axes = context
    k = len(thresholds) + 1
    law = EntropyTables(
        cdf=np.repeat(base.cdf, k, axis=0), offset=base.offset,
        thresholds=thresholds, neighbours=axes,
    )  # fmt: skip
    flat = codes.reshape(len(codes), -1)
    ch = np.repeat(np.arange(channels), flat.shape[1] // channels)
    tab = ch * k + context_classes(flat, ch, neighbour_map(codes.shape[1:], 1, axes), law)
    sym = flat + half
    sym[(sym < 0) | (sym > 2 * half)] = 2 * half + 1  # outside the support: the escape
    ctx_counts = np.zeros((channels * k, 2 * half + 2))
    np.add.at(ctx_counts, (tab.ravel(), sym.ravel()), 1.0)
    tables = EntropyTables.from_pmf(
        ctx_counts + 0.5, base.offset, thresholds=thresholds, neighbours=axes
    )
    ada = None
    if adaptive:
        ada = dataclasses.replace(tables, adapt=adaptive, positions=True).to_spec()
    return CodecSpec(
        scale=(step,), entropy=base.to_spec(), context=tables.to_spec(), adaptive=ada
    )


def entropy_signal_pair(
    directory: Path,
    window: int = 32,
    hop: int = 16,
    *,
    context: bool = False,
    adaptive: bool = False,
) -> tuple[Any, Any]:
    """An identity signal pair whose codes are rANS-coded (tables fitted, some codes escape);
    ``context`` adds a context model (previous sample, thresholds 4/16/48), ``adaptive``
    an adaptive model over it as well (weight 8)."""
    from edgeae_runtime import Model
    from tests.runtime.onnx_models import make_triplet

    t = np.arange(64 * window) / 16000
    rng = np.random.default_rng(9)
    fit = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    codec = entropy_codec(
        fit.reshape(-1, 1, window), 0.02, support=95.0,
        context=((4, 16, 48), (1,)) if context or adaptive else None,
        adaptive=8 if adaptive else 0,
    )  # fmt: skip
    _, enc, dec = make_triplet(
        directory, kind="identity", window=window, hop=hop, codec=codec, fingerprint="sha256:rans"
    )
    return Model(enc), Model(dec)


def entropy_items_pair(
    directory: Path, features: int = 16, *, context: bool = False, adaptive: bool = False
) -> tuple[Any, Any]:
    """A dense item pair (16 features, latent 4) whose codes are rANS-coded; ``context``
    adds a context model (previous latent element), ``adaptive`` an adaptive model over it
    as well (weight 8)."""
    from edgeae_runtime import Model
    from tests.runtime.onnx_models import make_triplet

    x = np.random.default_rng(5).standard_normal((64, features)).astype(np.float32)
    (directory / "plain").mkdir(parents=True, exist_ok=True)
    _, enc, _ = make_triplet(directory / "plain", kind="dense", features=features, latent=4)
    codec = entropy_codec(
        Model(enc).encode(x), 0.1, support=90.0,
        context=((2, 6), (0,)) if context or adaptive else None, adaptive=8 if adaptive else 0,
    )  # fmt: skip
    _, enc, dec = make_triplet(
        directory, kind="dense", features=features, latent=4, codec=codec,
        fingerprint="sha256:rans-items",
    )  # fmt: skip
    return Model(enc), Model(dec)


def entropy_image_pair(
    directory: Path, *, adaptive: bool = True, any_size: bool = False
) -> tuple[Any, Any]:
    """A conv2d (1, 8, 8) image pair whose codes are rANS-coded: factorized tables, a context
    model (the previous latent element along the width) and, with ``adaptive``, an adaptive
    model over it (weight 8); fitted on smooth random images. ``any_size``: spatial axes."""
    from edgeae_runtime import Model

    rng = np.random.default_rng(21)
    x = np.cumsum(rng.standard_normal((64, 1, 8, 8)), axis=-1).astype(np.float32) * 0.2
    plain = Path(directory) / "plain"
    plain.mkdir(parents=True, exist_ok=True)
    enc, _ = make_image_pair(plain)
    codec = entropy_codec(
        Model(enc).encode(x), 0.05, support=95.0, context=((2, 6), (2,)),
        adaptive=8 if adaptive else 0,
    )  # fmt: skip
    enc, dec = make_image_pair(
        Path(directory), codec=codec, fingerprint="sha256:rans-image", any_size=any_size
    )
    return Model(enc), Model(dec)


PIXEL_SHAPE = (3, 6, 8)  # RGB, not square: a height/width or channel mix-up shows


def make_pixel_pair(
    directory: Path, pre: Preprocessing, *, any_size: bool = False
) -> tuple[Path, Path]:
    """encoder.onnx / decoder.onnx of a lossless 2x2 space-to-depth conv2d codec
    (``any_size``: with spatial axes)."""
    c, h, w = PIXEL_SHAPE
    kernel = np.zeros((4 * c, c, 2, 2), np.float32)
    for ch in range(c):
        for k in range(4):
            kernel[ch * 4 + k, ch, k // 2, k % 2] = 1.0
    latent = (4 * c, h // 2, w // 2)
    paths = []
    for role, src, dst, op in (
        ("encoder", ("input", PIXEL_SHAPE), ("latent", latent), "Conv"),
        ("decoder", ("latent", latent), ("reconstruction", PIXEL_SHAPE), "ConvTranspose"),
    ):
        graph = helper.make_graph(
            [helper.make_node(op, [src[0], "k"], [dst[0]], strides=[2, 2])],
            f"pixels_{role}",
            [helper.make_tensor_value_info(src[0], TensorProto.FLOAT, _dims(src[1], any_size))],
            [helper.make_tensor_value_info(dst[0], TensorProto.FLOAT, _dims(dst[1], any_size))],
            [numpy_helper.from_array(kernel, "k")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        manifest = Manifest(
            role=role,
            arch="test-space-to-depth",
            layout="NCHW",
            inputs=(TensorSpec(src[0], (None, *src[1])),),
            outputs=(TensorSpec(dst[0], (None, *dst[1])),),
            item_shape=PIXEL_SHAPE,
            latent_shape=latent,
            preprocessing=pre,
            provenance=Provenance(fingerprint="sha256:pixels"),
        )
        helper.set_model_props(model, {MANIFEST_KEY: manifest.to_json()})
        path = directory / f"{role}.onnx"
        onnx.save(model, path)
        paths.append(path)
    return paths[0], paths[1]


DIGITS_LIKE = Preprocessing(offset=(0.0,), scale=(16.0,), clip=(0.0, 16.0), value_range=(0, 16))
