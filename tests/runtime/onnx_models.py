"""Tiny ONNX autoencoders built with ``onnx.helper``, so runtime tests need no trained model.

Every builder writes one file and returns its path. Shapes and names follow
docs/architecture.md: ``model.onnx`` (input ``input``, outputs ``reconstruction`` and
``latent``), ``encoder.onnx`` (``input`` -> ``latent``), ``decoder.onnx``
(``latent`` -> ``reconstruction``). Encoder and decoder built with the same ``seed``
share weights with the autoencoder, so ``decode(encode(x)) == reconstruct(x)``.

``kind``:
- ``"dense"``: item ``(features,)``, latent ``(latent,)``; tanh encoder, linear decoder.
- ``"conv1d"``: item ``(channels, window)``, latent ``(hidden, window // 2)``;
  Conv(k=4, stride 2) + Relu encoder, ConvTranspose(k=2, stride 2) decoder. With
  ``logmel=LogMelSpec(...)`` (``channels=n_mels``, ``window=frames``) it is a log-mel
  model of NCW items (manifest.features, no signal).
- ``"identity"``: item ``(channels, window)`` (or ``(features,)`` with ``channels=0``);
  reconstruction == input exactly, latent = the input scaled by 0.5; the reference
  for overlap-add tests (denoising a signal with it must give the signal back).

:func:`make_triplet` also builds the quantizer's models (``kind`` ``"qdense"``,
``"qconv1d"``, ``"qconv2d"``, every node named, raw values around 0..4 as
:func:`make_data` makes them): ``qdense`` is Gemm -> Relu -> Gemm (latent) -> Gemm ->
Relu -> Gemm with weights from a PCA of the test data (good reconstructions, so PSNR
means something); ``qconv1d``/``qconv2d`` are a stride-2 Conv + Relu encoder, a Conv to
the latent, and an upsample (Resize) + Conv or a ConvTranspose decoder (``decoder=``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime import AnomalySpec, CodecSpec, Manifest, Preprocessing, SignalSpec
from edgeae_runtime.manifest import MANIFEST_KEY, LogMelSpec, Provenance, TensorSpec

__all__ = [
    "QUANT_KINDS",
    "Triplet",
    "make_autoencoder",
    "make_data",
    "make_decoder",
    "make_encoder",
    "make_not_onnx",
    "make_triplet",
]

Kind = Literal["dense", "conv1d", "identity"]
Role = Literal["autoencoder", "encoder", "decoder"]
OPSET = 17


def _shapes(kind: Kind, channels: int, window: int, features: int, latent: int, hidden: int):
    """(item_shape, latent_shape, layout) for a kind."""
    if kind == "dense":
        return (features,), (latent,), "NF"
    if kind == "conv1d":
        return (channels, window), (hidden, window // 2), "NCW"
    if channels == 0:  # identity, flat
        return (features,), (features,), "NF"
    return (channels, window), (channels, window), "NCW"


def _weights(kind: Kind, item_shape, latent_shape, seed: int) -> list[onnx.TensorProto]:
    rng = np.random.default_rng(seed)

    def t(name: str, shape: tuple[int, ...], scale: float) -> onnx.TensorProto:
        return numpy_helper.from_array(
            (rng.standard_normal(shape) * scale).astype(np.float32), name
        )

    if kind == "dense":
        f, lat = item_shape[0], latent_shape[0]
        return [
            t("w_enc", (f, lat), 1 / np.sqrt(f)),
            t("b_enc", (lat,), 0.1),
            t("w_dec", (lat, f), 1 / np.sqrt(lat)),
            t("b_dec", (f,), 0.1),
        ]
    if kind == "conv1d":
        c, h = item_shape[0], latent_shape[0]
        return [
            t("w_enc", (h, c, 4), 1 / np.sqrt(4 * c)),
            t("b_enc", (h,), 0.1),
            t("w_dec", (h, c, 2), 1 / np.sqrt(2 * h)),
            t("b_dec", (c,), 0.1),
        ]
    return [numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half")]


def _encoder_nodes(kind: Kind, src: str, dst: str) -> list[onnx.NodeProto]:
    if kind == "dense":
        return [
            helper.make_node("MatMul", [src, "w_enc"], ["enc_mm"]),
            helper.make_node("Add", ["enc_mm", "b_enc"], ["enc_pre"]),
            helper.make_node("Tanh", ["enc_pre"], [dst]),
        ]
    if kind == "conv1d":
        return [
            helper.make_node(
                "Conv", [src, "w_enc", "b_enc"], ["enc_pre"], strides=[2], pads=[1, 1]
            ),
            helper.make_node("Relu", ["enc_pre"], [dst]),
        ]
    return [helper.make_node("Mul", [src, "half"], [dst])]


def _decoder_nodes(kind: Kind, src: str, dst: str) -> list[onnx.NodeProto]:
    if kind == "dense":
        return [
            helper.make_node("MatMul", [src, "w_dec"], ["dec_mm"]),
            helper.make_node("Add", ["dec_mm", "b_dec"], [dst]),
        ]
    if kind == "conv1d":
        return [
            helper.make_node("ConvTranspose", [src, "w_dec", "b_dec"], [dst], strides=[2]),
        ]
    return [helper.make_node("Div", [src, "half"], [dst])]


def _manifest(
    role: Role,
    kind: Kind,
    item_shape: tuple[int, ...],
    latent_shape: tuple[int, ...],
    layout: str,
    *,
    signal: SignalSpec | None,
    anomaly: AnomalySpec | None,
    preprocessing: Preprocessing,
    codec: CodecSpec | None,
    fingerprint: str,
    file_fingerprint: str | None = None,
    source: str = "tests/runtime/onnx_models.py",
    features: LogMelSpec | None = None,
) -> Manifest:
    item = TensorSpec("input", (None, *item_shape))
    lat = TensorSpec("latent", (None, *latent_shape))
    rec = TensorSpec("reconstruction", (None, *item_shape))
    io = {
        "autoencoder": ((item,), (rec, lat)),
        "encoder": ((item,), (lat,)),
        "decoder": ((lat,), (rec,)),
    }[role]
    return Manifest(
        role=role,
        arch=f"test-{kind}",
        layout=layout,  # type: ignore[arg-type]
        inputs=io[0],
        outputs=io[1],
        item_shape=item_shape,
        latent_shape=latent_shape,
        provenance=Provenance(
            fingerprint=fingerprint, file_fingerprint=file_fingerprint or "", source=source
        ),
        preprocessing=preprocessing,
        signal=signal,
        anomaly=anomaly,
        codec=codec,
        features=features,
    )


def _build(
    path: str | Path,
    role: Role,
    *,
    kind: Kind = "conv1d",
    channels: int = 1,
    window: int = 32,
    hop: int | None = None,
    features: int = 16,
    latent: int = 4,
    hidden: int = 4,
    sample_rate: int = 16000,
    synthesis_window: Literal["hann", "rect"] = "hann",
    signal: SignalSpec | Literal["auto"] | None = "auto",
    anomaly: AnomalySpec | None = None,
    preprocessing: Preprocessing | None = None,
    codec: CodecSpec | None = None,
    fingerprint: str = "test-fingerprint-0001",
    manifest: bool = True,
    seed: int = 0,
    batch: int | None = None,
    logmel: LogMelSpec | None = None,
) -> Path:
    item_shape, latent_shape, layout = _shapes(kind, channels, window, features, latent, hidden)
    if logmel is not None:  # a log-mel model: conv1d items (n_mels, frames), no signal
        signal = None
    if signal == "auto":
        signal = None
        if layout == "NCW":
            signal = SignalSpec(
                sample_rate=sample_rate,
                channels=channels,
                window=window,
                hop=hop or window // 2,
                synthesis_window=synthesis_window,
            )
    batch_dim: Any = batch if batch is not None else "N"
    vi_item = helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch_dim, *item_shape])
    vi_lat = helper.make_tensor_value_info("latent", TensorProto.FLOAT, [batch_dim, *latent_shape])
    vi_rec = helper.make_tensor_value_info(
        "reconstruction", TensorProto.FLOAT, [batch_dim, *item_shape]
    )
    weights = _weights(kind, item_shape, latent_shape, seed)
    if role == "autoencoder":
        nodes = _encoder_nodes(kind, "input", "latent") + _decoder_nodes(
            kind, "latent", "reconstruction"
        )
        inputs, outputs = [vi_item], [vi_rec, vi_lat]
    elif role == "encoder":
        nodes, inputs, outputs = _encoder_nodes(kind, "input", "latent"), [vi_item], [vi_lat]
    else:
        nodes = _decoder_nodes(kind, "latent", "reconstruction")
        inputs, outputs = [vi_lat], [vi_rec]
    used = {i for n in nodes for i in n.input}
    graph = helper.make_graph(
        nodes, f"{kind}_{role}", inputs, outputs, [w for w in weights if w.name in used]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    if manifest:
        m = _manifest(
            role,
            kind,
            item_shape,
            latent_shape,
            layout,
            signal=signal,
            anomaly=anomaly,
            preprocessing=preprocessing or Preprocessing(),
            codec=codec,
            fingerprint=fingerprint,
            features=logmel,
        )
        helper.set_model_props(model, {MANIFEST_KEY: m.to_json()})
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, path)
    return path


def make_autoencoder(path: str | Path, **kwargs: Any) -> Path:
    """Write a full autoencoder (role ``autoencoder``) to ``path``; see the module doc."""
    return _build(path, "autoencoder", **kwargs)


def make_encoder(path: str | Path, **kwargs: Any) -> Path:
    """Write the encoder half (role ``encoder``) with the same weights as the autoencoder."""
    return _build(path, "encoder", **kwargs)


def make_decoder(path: str | Path, **kwargs: Any) -> Path:
    """Write the decoder half (role ``decoder``) with the same weights as the autoencoder."""
    return _build(path, "decoder", **kwargs)


class Triplet(NamedTuple):
    """The three files of one model; unpacks as a tuple, and ``t["encoder"]`` works too."""

    autoencoder: Path
    encoder: Path
    decoder: Path

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        return getattr(self, key) if isinstance(key, str) else tuple.__getitem__(self, key)


#: The quantizer's model kinds (named nodes, PCA or random weights; see the module doc).
QUANT_KINDS = ("qdense", "qconv1d", "qconv2d")


def make_triplet(directory: str | Path, kind: str = "conv1d", **kwargs: Any) -> Triplet:
    """Write model.onnx, encoder.onnx and decoder.onnx of one model into ``directory``.

    ``kind`` is one of this module's kinds (options as for :func:`make_autoencoder`)
    or one of :data:`QUANT_KINDS` (options ``decoder``, ``width``, ``anomaly``, ``seed``).
    """
    d = Path(directory)
    if kind in QUANT_KINDS:
        return _quant_triplet(d, kind[1:], **kwargs)
    return Triplet(
        make_autoencoder(d / "model.onnx", kind=kind, **kwargs),
        make_encoder(d / "encoder.onnx", kind=kind, **kwargs),
        make_decoder(d / "decoder.onnx", kind=kind, **kwargs),
    )


def make_data(kind: str, n: int = 256, seed: int = 0) -> np.ndarray:
    """Raw items for the quantizer's ``kind`` (dense, conv1d, conv2d): low rank plus noise."""
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


def _pca_dense(data: np.ndarray, latent: int) -> tuple[list, list, list]:
    """Gemm layers that reconstruct ``data`` through its top ``latent`` principal components."""
    mean = data.mean(axis=0)
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    u = vt[:latent].T  # (F, k)
    xn_mean = (mean - 2.0) / 0.5
    w1 = np.concatenate([u, -u], axis=1)  # relu(a) - relu(-a) == a
    b1 = np.concatenate([-(xn_mean @ u), xn_mean @ u])
    w2 = np.concatenate([np.eye(latent), -np.eye(latent)], axis=0)
    w3 = np.concatenate([u.T, -u.T], axis=1)
    w4 = np.concatenate([np.eye(u.shape[0]), -np.eye(u.shape[0])], axis=0)
    inits = [_init("w1", w1), _init("b1", b1), _init("w2", w2), _init("w3", w3), _init("w4", w4)]
    inits.append(_init("b4", xn_mean))
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
    return inits, enc, dec


def _quant_conv(dims: int, item: tuple[int, ...], width: int, decoder: str, seed: int):
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
    return inits, enc, dec, (lat_c, *(s // 2 for s in item[1:]))


def _sha(proto: onnx.ModelProto) -> str:
    return hashlib.sha256(proto.SerializeToString(deterministic=True)).hexdigest()


def _quant_triplet(
    out_dir: Path,
    kind: str,
    *,
    decoder: str = "upsample",
    width: int = 16,
    anomaly: bool = False,
    seed: int = 0,
) -> Triplet:
    layout, item = {"dense": ("NF", (32,)), "conv1d": ("NCW", (2, 64)),
                    "conv2d": ("NCHW", (1, 8, 8))}[kind]  # fmt: skip
    if kind == "dense":
        inits, enc, dec = _pca_dense(make_data("dense", 512, seed=99), latent=6)
        latent_shape: tuple[int, ...] = (6,)
    else:
        dims = 1 if kind == "conv1d" else 2
        inits, enc, dec, latent_shape = _quant_conv(dims, item, width, decoder, seed)
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *item])
    z = helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["N", *latent_shape])
    y = helper.make_tensor_value_info("reconstruction", TensorProto.FLOAT, ["N", *item])

    def model(nodes: list, ins: list, outs: list, name: str) -> onnx.ModelProto:
        used = {i for n in nodes for i in n.input}
        graph = helper.make_graph(nodes, name, ins, outs, [t for t in inits if t.name in used])
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        m.ir_version = 8
        return onnx.shape_inference.infer_shapes(m)

    protos = {
        "autoencoder": model(enc + dec, [x], [y, z], "autoencoder"),
        "encoder": model(enc, [x], [z], "encoder"),
        "decoder": model(dec, [z], [y], "decoder"),
    }
    fingerprint = _sha(protos["autoencoder"])
    paths = {}
    for role, proto in protos.items():
        m = _manifest(
            role,  # type: ignore[arg-type]
            kind,
            item,
            latent_shape,
            layout,
            signal=None,
            anomaly=AnomalySpec(threshold=1.0, percentile=95.0) if anomaly else None,
            preprocessing=Preprocessing(offset=(2.0,), scale=(0.5,), value_range=(0.0, 4.0)),
            codec=None,
            fingerprint=fingerprint,
            file_fingerprint=_sha(proto),
            source="builtin:test",
        )
        helper.set_model_props(proto, {MANIFEST_KEY: m.to_json()})
        name = {"autoencoder": "model", "encoder": "encoder", "decoder": "decoder"}[role]
        paths[role] = out_dir / f"{name}.onnx"
        onnx.save(proto, paths[role])
    return Triplet(paths["autoencoder"], paths["encoder"], paths["decoder"])


def make_not_onnx(path: str | Path) -> Path:
    """Write a file that is not an ONNX model (for the bad-input tests)."""
    path = Path(path)
    path.write_text("this is not an onnx model\n")
    return path
