"""Tiny ONNX autoencoders built with ``onnx.helper``, so runtime tests need no trained model.

Every builder writes one file and returns its path. Shapes and names follow
docs/architecture.md: ``model.onnx`` (input ``input``, outputs ``reconstruction`` and
``latent``), ``encoder.onnx`` (``input`` -> ``latent``), ``decoder.onnx``
(``latent`` -> ``reconstruction``). Encoder and decoder built with the same ``seed``
share weights with the autoencoder, so ``decode(encode(x)) == reconstruct(x)``.

``kind``:
- ``"dense"``: item ``(features,)``, latent ``(latent,)``; tanh encoder, linear decoder.
- ``"conv1d"``: item ``(channels, window)``, latent ``(hidden, window // 2)``;
  Conv(k=4, stride 2) + Relu encoder, ConvTranspose(k=2, stride 2) decoder.
- ``"identity"``: item ``(channels, window)`` (or ``(features,)`` with ``channels=0``);
  reconstruction == input exactly, latent = the input scaled by 0.5; the reference
  for overlap-add tests (denoising a signal with it must give the signal back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime import (
    MANIFEST_KEY,
    AnomalySpec,
    CodecSpec,
    Manifest,
    Preprocessing,
    Provenance,
    SignalSpec,
    TensorSpec,
)

__all__ = [
    "make_autoencoder",
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
        provenance=Provenance(fingerprint=fingerprint, source="tests/runtime/onnx_models.py"),
        preprocessing=preprocessing,
        signal=signal,
        anomaly=anomaly,
        codec=codec,
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
) -> Path:
    item_shape, latent_shape, layout = _shapes(kind, channels, window, features, latent, hidden)
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


def make_triplet(directory: str | Path, **kwargs: Any) -> tuple[Path, Path, Path]:
    """Write model.onnx, encoder.onnx and decoder.onnx of one model into ``directory``."""
    d = Path(directory)
    return (
        make_autoencoder(d / "model.onnx", **kwargs),
        make_encoder(d / "encoder.onnx", **kwargs),
        make_decoder(d / "decoder.onnx", **kwargs),
    )


def make_not_onnx(path: str | Path) -> Path:
    """Write a file that is not an ONNX model (for the bad-input tests)."""
    path = Path(path)
    path.write_text("this is not an onnx model\n")
    return path
