"""Tiny float ONNX autoencoders with a manifest, built with ``onnx.helper`` (no torch, fast).

``dense``: item (F,), Gemm -> Relu -> Gemm (latent) -> Gemm -> Relu -> Gemm, weights
from a PCA of the test data so reconstructions are good (PSNR is meaningful).
``conv1d`` / ``conv2d``: a stride-2 Conv + Relu encoder, a Conv to the latent, and
an upsample (Resize) + Conv decoder or a ConvTranspose decoder. Every node is named.
Encoder and decoder files share the autoencoder's weights and fingerprint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae_export.fingerprint import model_fingerprint
from edgeae_export.onnx_io import write_onnx
from edgeae_runtime import AnomalySpec, Manifest, Preprocessing, Provenance, TensorSpec

__all__ = ["make_data", "make_model", "make_triplet"]

OPSET = 17


def make_data(kind: str, n: int = 256, seed: int = 0) -> np.ndarray:
    """Raw test items for ``kind``: low-rank structure plus a little noise, values around 0..4."""
    rng = np.random.default_rng(seed)
    if kind == "dense":
        basis = np.random.default_rng(1234).standard_normal((6, 32)).astype(np.float32)
        x = rng.standard_normal((n, 6)).astype(np.float32) @ basis
        return (x * 0.3 + 2.0 + 0.02 * rng.standard_normal((n, 32))).astype(np.float32)
    if kind == "conv1d":
        t = np.linspace(0, 1, 64, dtype=np.float32)
        f = rng.uniform(1, 4, size=(n, 1, 1)).astype(np.float32)
        return (2 + np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal((n, 2, 64))).astype(
            np.float32
        )
    yy, xx = np.mgrid[0:8, 0:8].astype(np.float32)
    c = rng.uniform(2, 6, size=(n, 1, 1, 1)).astype(np.float32)
    return (np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / 8) * 4).astype(np.float32)


def _init(name: str, arr: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def _dense(data: np.ndarray, latent: int) -> tuple[list, list, list, list]:
    mean = data.mean(axis=0)
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    u = vt[:latent].T  # (F, k)
    xn_mean = (mean - 2.0) / 0.5
    w1 = np.concatenate([u, -u], axis=1)  # relu(a) - relu(-a) == a
    b1 = np.concatenate([-(xn_mean @ u), xn_mean @ u])
    w2 = np.concatenate([np.eye(latent), -np.eye(latent)], axis=0)
    w3 = np.concatenate([u.T, -u.T], axis=1)
    w4 = np.concatenate([np.eye(u.shape[0]), -np.eye(u.shape[0])], axis=0)
    b4 = xn_mean
    inits = [_init("w1", w1), _init("b1", b1), _init("w2", w2), _init("w3", w3), _init("w4", w4)]
    inits.append(_init("b4", b4))
    enc = [
        helper.make_node("Gemm", ["input", "w1", "b1"], ["h1"], name="enc_fc1"),
        helper.make_node("Relu", ["h1"], ["r1"], name="enc_relu1"),
        helper.make_node("Gemm", ["r1", "w2"], ["latent"], name="enc_fc2"),
    ]
    dec = [
        helper.make_node("Gemm", ["latent", "w3"], ["h3"], name="dec_fc1"),
        helper.make_node("Relu", ["h3"], ["r3"], name="dec_relu1"),
        helper.make_node("Gemm", ["r3", "w4", "b4"], ["reconstruction"], name="dec_fc2"),
    ]
    return inits, enc, dec, [u.shape[0]]


def _conv(dims: int, item: tuple[int, ...], width: int, decoder: str, seed: int):
    rng = np.random.default_rng(seed)
    c, k = item[0], 3
    ks = (k,) * dims

    def w(name: str, shape: tuple[int, ...]) -> onnx.TensorProto:
        fan = int(np.prod(shape[1:]))
        return _init(name, rng.standard_normal(shape) / np.sqrt(fan))

    pads = [1] * (2 * dims)
    lat_c = 4
    inits = [
        w("we1", (width, c, *ks)),
        _init("be1", np.zeros(width)),
        w("we2", (lat_c, width, *ks)),
        w("wd1", (width, lat_c, *ks)),
        _init("bd1", np.full(width, 0.1)),
    ]
    enc = [
        helper.make_node(
            "Conv", ["input", "we1", "be1"], ["e1"], name="enc_conv1", strides=[2] * dims, pads=pads
        ),
        helper.make_node("Relu", ["e1"], ["e1r"], name="enc_relu1"),
        helper.make_node("Conv", ["e1r", "we2"], ["latent"], name="enc_conv2", pads=pads),
    ]
    dec = [
        helper.make_node("Conv", ["latent", "wd1", "bd1"], ["d1"], name="dec_conv1", pads=pads),
        helper.make_node("Relu", ["d1"], ["d1r"], name="dec_relu1"),
    ]
    if decoder == "upsample":
        inits += [
            _init("scales", np.array([1, 1] + [2] * dims)),
            w("wd2", (c, width, *ks)),
            _init("bd2", np.full(c, 2.0)),
        ]
        dec += [
            helper.make_node(
                "Resize", ["d1r", "", "scales"], ["u1"], name="dec_up", mode="nearest"
            ),
            helper.make_node(
                "Conv", ["u1", "wd2", "bd2"], ["reconstruction"], name="dec_conv2", pads=pads
            ),
        ]
    else:
        inits += [w("wd2", (width, c, *(4,) * dims)), _init("bd2", np.full(c, 2.0))]
        dec.append(
            helper.make_node(
                "ConvTranspose",
                ["d1r", "wd2", "bd2"],
                ["reconstruction"],
                name="dec_convT",
                strides=[2] * dims,
                pads=[1] * (2 * dims),
            )
        )
    latent_shape = (lat_c, *(s // 2 for s in item[1:]))
    return inits, enc, dec, latent_shape


def _spec(kind: str) -> tuple[str, tuple[int, ...]]:
    return {"dense": ("NF", (32,)), "conv1d": ("NCW", (2, 64)), "conv2d": ("NCHW", (1, 8, 8))}[kind]


def make_triplet(
    out_dir: Path,
    kind: str = "dense",
    *,
    decoder: str = "upsample",
    width: int = 16,
    anomaly: bool = False,
    seed: int = 0,
) -> dict[str, Path]:
    """Write model.onnx, encoder.onnx and decoder.onnx for ``kind`` into ``out_dir``."""
    layout, item = _spec(kind)
    if kind == "dense":
        inits, enc, dec, _ = _dense(make_data("dense", 512, seed=99), latent=6)
        latent_shape: tuple[int, ...] = (6,)
    else:
        dims = 1 if kind == "conv1d" else 2
        inits, enc, dec, latent_shape = _conv(dims, item, width, decoder, seed)
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *item])
    z = helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["N", *latent_shape])
    y = helper.make_tensor_value_info("reconstruction", TensorProto.FLOAT, ["N", *item])

    def model(nodes: list, ins: list, outs: list, name: str) -> onnx.ModelProto:
        used = {i for n in nodes for i in n.input}
        graph = helper.make_graph(nodes, name, ins, outs, [t for t in inits if t.name in used])
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        m.ir_version = 8
        return onnx.shape_inference.infer_shapes(m)

    full = model(enc + dec, [x], [y, z], "autoencoder")
    files = {
        "autoencoder": full,
        "encoder": model(enc, [x], [z], "encoder"),
        "decoder": model(dec, [z], [y], "decoder"),
    }
    fp = model_fingerprint(full)
    paths = {}
    for role, proto in files.items():
        lat = TensorSpec("latent", (None, *latent_shape))
        item_t, rec = (
            TensorSpec("input", (None, *item)),
            TensorSpec("reconstruction", (None, *item)),
        )
        io = {"autoencoder": ((item_t,), (rec, lat)), "encoder": ((item_t,), (lat,))}
        ins, outs = io.get(role, ((lat,), (rec,)))
        manifest = Manifest(
            role=role,  # type: ignore[arg-type]
            arch=f"test-{kind}",
            layout=layout,  # type: ignore[arg-type]
            inputs=ins,
            outputs=outs,
            item_shape=item,
            latent_shape=latent_shape,
            provenance=Provenance(
                fingerprint=fp, file_fingerprint=model_fingerprint(proto), source="builtin:test"
            ),
            preprocessing=Preprocessing(offset=(2.0,), scale=(0.5,), value_range=(0.0, 4.0)),
            anomaly=AnomalySpec(threshold=1.0, percentile=95.0) if anomaly else None,
        )
        name = {"autoencoder": "model", "encoder": "encoder", "decoder": "decoder"}[role]
        paths[role] = write_onnx(proto, out_dir / f"{name}.onnx", manifest)
    return paths


def make_model(out_dir: Path, kind: str = "dense", **kwargs: object) -> Path:
    """Write the triplet and return the full autoencoder's path."""
    return make_triplet(out_dir, kind, **kwargs)["autoencoder"]  # type: ignore[arg-type]
