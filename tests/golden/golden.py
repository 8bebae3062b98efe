"""Golden outputs across architectures: shipped models, inputs and their x86 outputs.

``tests/golden/`` holds a few small models (float, int8 QDQ with the ARM int8 types S8S8 and
with the x86 types U8S8, the codec's encoder/decoder), the inputs they are run on, and what
the runtime computed from them on x86 (``expected/``). :func:`check` runs the same inputs
through the runtime on the machine it is on and compares:

- float outputs: ``|got - x86| <= FLOAT_ATOL + FLOAT_RTOL * |x86|`` element-wise;
- int8 outputs (a QDQ model's output that leaves a DequantizeLinear): within
  ``INT8_STEPS`` quantization step(s) of that output's scale (stored at generation) and at
  most ``INT8_MAX_FRACTION`` of the elements differing at all;
- a signal out of an int8 model (kind ``signal``: the denoiser's samples, where an int8
  step is not the output's): SNR of the output against the x86 output >= ``SIGNAL_SNR_DB``;
- the codec: compressing the input gives the x86 stream byte for byte, and decoding the
  x86 stream gives the x86 samples (float tolerance); version 1 (fixed codes), version 2
  (rANS-coded signal windows and item batches, escapes included), version 3 (rANS-coded
  signal windows grouped into frames), version 4 (the context entropy model, signal
  windows and item batches) and version 5 (the adaptive entropy model, the same), so the
  ARM check covers the entropy decoder.

It runs in ``make test`` on x86 (tests/golden/test_golden.py) and inside the arm64 rootfs in
``make test-arm`` (``python -m tests.golden.golden``), so it needs only numpy, onnxruntime and
edgeae_runtime; generating (``GENERATE_EXPECTED=1``, on x86 only, never silently) also needs
onnx and edgeae_export; ``GENERATE_CASES=a,b`` regenerates only those cases (and their
models), leaving every other case's x86 reference as it was. To add a model, add a case
to :data:`CASES` (and its model to a builder: :func:`_build_models`,
:func:`_build_entropy_models`, :func:`_build_context_models`) and regenerate that case.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CASES",
    "FLOAT_ATOL",
    "FLOAT_RTOL",
    "GOLDEN",
    "INT8_MAX_FRACTION",
    "INT8_STEPS",
    "SIGNAL_SNR_DB",
    "SIGNAL_SNR_SATURATING_DB",
    "CaseResult",
    "check",
    "generate",
    "main",
]

GOLDEN = Path(__file__).resolve().parent
#: Float outputs: different SIMD kernels (AVX vs NEON) only reorder sums.
FLOAT_ATOL = 1e-5
FLOAT_RTOL = 1e-5
#: int8 outputs: a requantization may round the other way on another instruction set.
INT8_STEPS = 1
INT8_MAX_FRACTION = 0.01
#: Signals out of int8 models: the ARM-vs-x86 difference at least this far below the signal.
SIGNAL_SNR_DB = 50.0
#: ... except for a full-range U8S8 model on x86 without VNNI: onnxruntime's AVX2 kernels
#: add pairs of u8 x s8 products in 16 bits, which saturate unless the weights are 7-bit
#: (``reduce_range``; docs/quantization.md). Every golden int8 model and, since 2026-12-02c,
#: the shipped denoiser have 7-bit weights, so this floor is for a user's full-range model
#: (the denoiser shipped before, full range, was 40.6 dB from the x86 VNNI output here).
SIGNAL_SNR_SATURATING_DB = 35.0
SEED = 1234


@dataclass(frozen=True)
class Case:
    """One golden model: its file(s), the runtime call, and the kind of tolerance."""

    name: str
    kind: str  # "float" | "int8" | "codec"
    files: tuple[str, ...]
    call: str  # "reconstruct" | "encode" | "denoise" | "codec" | "codec_items" | "codec_image"
    what: str
    options: tuple[tuple[str, Any], ...] = ()  # keyword arguments of the compress call


CASES: tuple[Case, ...] = (
    Case("float_conv1d", "float", ("conv1d.onnx",), "reconstruct", "conv1d autoencoder, float"),
    Case("float_dense", "float", ("dense.onnx",), "reconstruct", "dense autoencoder, float"),
    Case(
        "float_conv1d_denoise",
        "float",
        ("conv1d.onnx",),
        "denoise",
        "streaming denoiser (framing + overlap-add) with the conv1d autoencoder, float",
    ),
    Case(
        "int8_s8s8_conv1d_encoder",
        "int8",
        ("conv1d_encoder.s8s8.onnx",),
        "encode",
        "conv1d encoder, static QDQ int8, S8S8 (the ARM types)",
    ),
    Case(
        "int8_u8s8_conv1d_encoder",
        "int8",
        ("conv1d_encoder.u8s8.onnx",),
        "encode",
        "conv1d encoder, static QDQ int8, U8S8 (the x86 types)",
    ),
    Case(
        "int8_s8s8_dense",
        "int8",
        ("dense.s8s8.onnx",),
        "reconstruct",
        "dense autoencoder, static QDQ int8, S8S8",
    ),
    Case(
        "int8_u8s8_dense",
        "int8",
        ("dense.u8s8.onnx",),
        "reconstruct",
        "dense autoencoder, static QDQ int8, U8S8",
    ),
    Case(
        "int8_speech_denoiser",
        "signal",
        ("pkg:speech-denoiser",),
        "denoise",
        "the pretrained speech denoiser shipped in the runtime (static int8, spectral mask)",
    ),
    Case(
        "codec_conv1d",
        "codec",
        ("codec_encoder.onnx", "codec_decoder.onnx"),
        "codec",
        "the codec's conv1d encoder/decoder: stream bytes and decoded samples",
    ),
    Case(
        "codec_conv1d_entropy_v2",
        "codec",
        ("codec_entropy_encoder.onnx", "codec_entropy_decoder.onnx"),
        "codec",
        "format version 2: a rANS-coded signal stream, one window per frame, with escapes",
        (("frame_windows", 1),),
    ),
    Case(
        "codec_conv1d_entropy_v3",
        "codec",
        ("codec_entropy_encoder.onnx", "codec_entropy_decoder.onnx"),
        "codec",
        "format version 3: the same signal, 8 windows per rANS-coded frame, a partial last one",
    ),
    Case(
        "codec_items_entropy_v2",
        "codec",
        ("items_entropy_encoder.onnx", "items_entropy_decoder.onnx"),
        "codec_items",
        "format version 2: a rANS-coded batch of dense items, 8 items per frame, with escapes",
        (("frame_items", 8),),
    ),
    Case(
        "codec_conv1d_context_v4",
        "codec",
        ("codec_context_encoder.onnx", "codec_context_decoder.onnx"),
        "codec",
        "format version 4: the signal coded with a context model (previous step, previous "
        "channel), 8 windows per frame, with escapes",
    ),
    Case(
        "codec_items_context_v4",
        "codec",
        ("items_context_encoder.onnx", "items_context_decoder.onnx"),
        "codec_items",
        "format version 4: dense items coded with a context model (previous element), "
        "8 items per frame, with escapes",
        (("frame_items", 8),),
    ),
    Case(
        "codec_conv1d_adaptive_v5",
        "codec",
        ("codec_adaptive_encoder.onnx", "codec_adaptive_decoder.onnx"),
        "codec",
        "format version 5: the signal coded with an adaptive model (the context tables as "
        "its prior, weight 8, by position), 8 windows per frame, with escapes",
    ),
    Case(
        "codec_items_adaptive_v5",
        "codec",
        ("items_adaptive_encoder.onnx", "items_adaptive_decoder.onnx"),
        "codec_items",
        "format version 5: dense items coded with an adaptive model (weight 8), "
        "8 items per frame, with escapes",
        (("frame_items", 8),),
    ),
    Case(
        "codec_image_tiles_v6",
        "codec",
        ("image_adaptive_encoder.onnx", "image_adaptive_decoder.onnx"),
        "codec_image",
        "format version 6: one 21x30 image in 1x8x8 tiles (edge-padded), coded with an "
        "adaptive model (weight 8), 4 tiles per frame, with escapes",
        (("frame_items", 4),),
    ),
    Case(
        "codec_image_map_v6",
        "codec",
        ("image_map_encoder.onnx", "image_map_decoder.onnx"),
        "codec_image",
        "format version 6: the same image as one latent map (the pair with spatial axes: "
        "encoded and decoded whole), adaptive model, 4 tiles per frame",
        (("frame_items", 4),),
    ),
)
#: compress / decompress of each codec call, by name in edgeae_runtime.codec.
_CODEC_CALLS = {
    "codec": ("compress", "decompress"),
    "codec_items": ("compress_items", "decompress_items"),
    "codec_image": ("compress_image", "decompress_image"),
}
#: The cases each model builder writes (regenerating a case rebuilds its builder's models).
_ENTROPY_CASES = ("codec_conv1d_entropy_v2", "codec_items_entropy_v2", "codec_conv1d_entropy_v3")
_CONTEXT_CASES = ("codec_conv1d_context_v4", "codec_items_context_v4")
_ADAPTIVE_CASES = ("codec_conv1d_adaptive_v5", "codec_items_adaptive_v5")
_IMAGE_CASES = ("codec_image_tiles_v6", "codec_image_map_v6")


def _codec_pair(call: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The runtime's compress and decompress functions of a codec case."""
    from edgeae_runtime import codec

    pack, unpack = _CODEC_CALLS[call]
    return getattr(codec, pack), getattr(codec, unpack)
# A file "pkg:NAME" is edgeae_runtime's pretrained model NAME (edgeae_runtime/pretrained/);
# its sha256 is stored at generation, and a changed file fails the check by name until the
# outputs are regenerated (GENERATE_EXPECTED=1 on x86; review and commit). A new pretrained
# model joins as one more Case line plus its input in _build_models.


@dataclass
class CaseResult:
    """What one case measured here against the x86 expected outputs."""

    name: str
    kind: str
    ok: bool
    max_abs_diff: float
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        verdict = "ok  " if self.ok else "FAIL"
        return f"{verdict} {self.name:28s} max|diff| {self.max_abs_diff:.3g}  {self.detail}"


# -- running --------------------------------------------------------------------------------
def _model(path: Path) -> Any:
    from edgeae_runtime import Model

    return Model(path, threads=1)


def _model_file(golden: Path, name: str) -> Path:
    if name.startswith("pkg:"):  # a pretrained model shipped inside the runtime package
        from edgeae_runtime.pretrained import pretrained_path

        return pretrained_path(name[4:])
    return golden / "models" / name


def _run(case: Case, golden: Path) -> dict[str, Any]:
    """The outputs of ``case`` computed here: arrays, and for the codec the stream bytes."""
    x = np.load(golden / "inputs" / f"{case.name}.npy", allow_pickle=False)
    models = [_model_file(golden, f) for f in case.files]
    if case.call == "reconstruct":
        return {"output": _model(models[0]).reconstruct(x)}
    if case.call == "encode":
        return {"output": _model(models[0]).encode(x)}
    if case.call == "denoise":
        from edgeae_runtime.speech import denoise_signal

        return {"output": denoise_signal(_model(models[0]), x)}
    if case.call in _CODEC_CALLS:
        pack, unpack = _codec_pair(case.call)
        stream = pack(_model(models[0]), x, **dict(case.options))
        x86_stream = (golden / "expected" / f"{case.name}.eae").read_bytes()
        return {"stream": stream, "decoded": unpack(_model(models[1]), x86_stream)}
    raise ValueError(f"{case.name}: unknown call {case.call!r}")


# -- comparing -------------------------------------------------------------------------------
def _float_cmp(got: np.ndarray, ref: np.ndarray) -> tuple[bool, float, str]:
    if got.shape != ref.shape:
        return False, float("inf"), f"shape {got.shape} != x86 {ref.shape}"
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    bound = FLOAT_ATOL + FLOAT_RTOL * np.abs(ref.astype(np.float64))
    bad = int((diff > bound).sum())
    ok = bad == 0 and bool(np.isfinite(got).all())
    return ok, float(diff.max(initial=0.0)), f"{bad} element(s) outside float tolerance"


def _int8_cmp(got: np.ndarray, ref: np.ndarray, step: float) -> tuple[bool, float, str]:
    if got.shape != ref.shape:
        return False, float("inf"), f"shape {got.shape} != x86 {ref.shape}"
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    steps = diff / step
    differ = float(np.mean(steps > 1e-3))
    worst = float(steps.max(initial=0.0))
    ok = worst <= INT8_STEPS + 1e-3 and differ <= INT8_MAX_FRACTION
    detail = f"{worst:.2f} step(s) worst, {100 * differ:.2f}% of elements differ (step {step:.3g})"
    return ok, float(diff.max(initial=0.0)), detail


def _saturates_here(model: Path) -> bool:
    """True when ``model`` is full-range U8S8 and this CPU is x86 without VNNI."""
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    from edgeae_runtime import Model

    q = Model(model).manifest.quantization
    if q is None or q.activation_type != "QUInt8" or q.reduce_range:
        return False
    try:
        from edgeae_export.cpu import detect_cpu
    except ImportError:  # the runtime-only venv: assume the exact kernels
        return False
    return not detect_cpu().vnni


def _signal_cmp(got: np.ndarray, ref: np.ndarray, floor: float) -> tuple[bool, float, str]:
    if got.shape != ref.shape:
        return False, float("inf"), f"shape {got.shape} != x86 {ref.shape}"
    err = got.astype(np.float64) - ref.astype(np.float64)
    noise = float(np.sum(err**2))
    snr = float("inf") if noise == 0 else 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / noise)
    ok = snr >= floor and bool(np.isfinite(got).all())
    return ok, float(np.abs(err).max(initial=0.0)), f"SNR vs x86 {snr:.1f} dB"


def _compare(case: Case, golden: Path, meta: dict[str, Any], got: dict[str, Any]) -> CaseResult:
    exp = golden / "expected"
    if case.kind == "codec":
        x86_stream = (exp / f"{case.name}.eae").read_bytes()
        same = got["stream"] == x86_stream
        ok_dec, diff, dec_detail = _float_cmp(
            got["decoded"], np.load(exp / f"{case.name}.decoded.npy", allow_pickle=False)
        )
        n_diff = sum(a != b for a, b in zip(got["stream"], x86_stream, strict=False))
        n_diff += abs(len(got["stream"]) - len(x86_stream))
        detail = (
            f"stream {'identical' if same else f'DIFFERS ({n_diff} byte(s))'} "
            f"({len(x86_stream)} bytes); decoding the x86 stream: {dec_detail}"
        )
        return CaseResult(
            case.name, case.kind, bool(same and ok_dec), diff, detail, {"stream_identical": same}
        )
    ref = np.load(exp / f"{case.name}.npy", allow_pickle=False)
    if case.kind == "int8":
        ok, diff, detail = _int8_cmp(got["output"], ref, float(meta["step"]))
    elif case.kind == "signal":
        saturating = _saturates_here(_model_file(golden, case.files[0]))
        floor = SIGNAL_SNR_SATURATING_DB if saturating else SIGNAL_SNR_DB
        ok, diff, detail = _signal_cmp(got["output"], ref, floor)
        if saturating:
            detail += " (full-range U8S8 on x86 without VNNI: 16-bit pair sums saturate)"
    else:
        ok, diff, detail = _float_cmp(got["output"], ref)
    return CaseResult(case.name, case.kind, bool(ok), diff, detail)


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(golden: Path = GOLDEN, cases: tuple[Case, ...] = CASES) -> list[CaseResult]:
    """Run every case here and compare with the stored x86 outputs (see the module doc)."""
    meta = json.loads((golden / "expected" / "meta.json").read_text())
    results = []
    for case in cases:
        if case.name not in meta["cases"]:
            results.append(
                CaseResult(case.name, case.kind, False, float("inf"), "no expected output")
            )
            continue
        stored = meta["cases"][case.name].get("sha256", {})
        changed = [f for f in stored if _sha256(_model_file(golden, f)) != stored[f]]
        if changed:
            detail = (
                f"{', '.join(changed)} changed since the x86 outputs were made: regenerate "
                "them (GENERATE_EXPECTED=1 on x86) and commit"
            )
            results.append(CaseResult(case.name, case.kind, False, float("inf"), detail))
            continue
        try:
            got = _run(case, golden)
        except Exception as exc:  # a failure to run is a failed check, named
            results.append(
                CaseResult(
                    case.name, case.kind, False, float("inf"), f"{type(exc).__name__}: {exc}"
                )
            )
            continue
        results.append(_compare(case, golden, meta["cases"][case.name], got))
    return results


# -- generating (x86, on request only) -------------------------------------------------------
def _output_step(path: Path, output: str) -> float:
    """The scale of the DequantizeLinear that produces graph output ``output`` (int8 models)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if output in node.output and node.op_type == "DequantizeLinear":
            return float(np.max(inits[node.input[1]]))
    raise ValueError(f"{path.name}: output {output!r} does not leave a DequantizeLinear")


def _quantize(src: Path, out: Path, target: str, calibration: np.ndarray) -> None:
    """Static QDQ int8 with the int8 types of ``target`` (as ``edgeae quantize --target``),
    with 7-bit weights (``reduce_range``) so the integer sums are exact on every CPU
    (x86 without VNNI saturates full-range ones) and any difference left is the runtime's."""
    from edgeae_export.quantize import QuantizeRequest, quantize_model

    quantize_model(
        QuantizeRequest(
            src,
            out,
            mode="static",
            calibration=calibration,
            calibration_name="tests/golden calibration",
            exclude_op_types=(),
            target=target,
            reduce_range=True,
            speed_gate=False,
            force=True,
        )
    )


def _build_models(models: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Write the golden models into ``models/``; return the inputs per case."""
    from edgeae_runtime import CodecSpec, Model
    from tests.runtime.onnx_models import make_autoencoder, make_encoder, make_triplet

    conv = {"kind": "conv1d", "channels": 1, "window": 64, "hop": 32, "hidden": 8, "seed": 3}
    dense = {"kind": "dense", "features": 48, "latent": 12, "seed": 5}
    make_autoencoder(models / "conv1d.onnx", **conv)
    make_autoencoder(models / "dense.onnx", **dense)
    make_encoder(models / ".conv1d_encoder.float.onnx", **conv)
    x_conv = rng.standard_normal((16, 1, 64)).astype(np.float32) * 0.5
    x_dense = rng.standard_normal((16, 48)).astype(np.float32) * 0.5
    cal_conv = rng.standard_normal((64, 1, 64)).astype(np.float32) * 0.5
    cal_dense = rng.standard_normal((64, 48)).astype(np.float32) * 0.5
    for target, tag in (("arm64", "s8s8"), ("x86", "u8s8")):
        _quantize(
            models / ".conv1d_encoder.float.onnx",
            models / f"conv1d_encoder.{tag}.onnx",
            target,
            cal_conv,
        )
        _quantize(models / "dense.onnx", models / f"dense.{tag}.onnx", target, cal_dense)
    (models / ".conv1d_encoder.float.onnx").unlink()

    # The codec: a conv1d triplet, its CodecSpec fitted on the latents of a tone mix.
    t = np.arange(4000) / 16000
    signal = (
        0.4 * np.sin(2 * np.pi * 300 * t)
        + 0.2 * np.sin(2 * np.pi * 1100 * t)
        + 0.05 * rng.standard_normal(t.size)
    )[None].astype(np.float32)
    codec_args = {**conv, "fingerprint": "sha256:golden-arm-v1"}
    tmp = models / ".codec"
    tmp.mkdir(exist_ok=True)
    _, enc, _ = make_triplet(tmp, **codec_args)
    from edgeae_runtime.codec import calibrate_codec

    frames = np.lib.stride_tricks.sliding_window_view(signal[0], 64)[::32][:, None, :]
    spec: CodecSpec = calibrate_codec(Model(enc).encode(frames))
    make_encoder(models / "codec_encoder.onnx", **codec_args, codec=spec)
    from tests.runtime.onnx_models import make_decoder

    make_decoder(models / "codec_decoder.onnx", **codec_args, codec=spec)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    tone = signal[:, :2000] * 0.8
    # 0.5 s of a voiced, speech-like signal (120 Hz harmonics under two formants) in noise.
    t2 = np.arange(8000) / 16000
    voiced = sum(
        np.sin(2 * np.pi * 120 * k * t2)
        * (np.exp(-(((120 * k - 700) / 300) ** 2)) + 0.5 * np.exp(-(((120 * k - 1800) / 400) ** 2)))
        for k in range(1, 40)
    ) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t2))
    speech = 0.3 * voiced / np.abs(voiced).max() + 0.03 * rng.standard_normal(t2.size)
    return {
        "int8_speech_denoiser": speech[None].astype(np.float32),
        "float_conv1d_denoise": tone,
        "float_conv1d": x_conv,
        "float_dense": x_dense,
        "int8_s8s8_conv1d_encoder": x_conv,
        "int8_u8s8_conv1d_encoder": x_conv,
        "int8_s8s8_dense": x_dense,
        "int8_u8s8_dense": x_dense,
        "codec_conv1d": signal,
    }


def _build_entropy_models(models: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The entropy-coded codec cases: a conv1d signal pair and a dense item pair whose
    manifests carry rANS tables fitted to their codes (narrowed so some codes escape)."""
    from edgeae_runtime import Model
    from tests.runtime.codec.models import entropy_codec
    from tests.runtime.onnx_models import make_decoder, make_encoder

    t = np.arange(6000) / 16000
    signal = (
        0.4 * np.sin(2 * np.pi * 250 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
        + 0.15 * np.sin(2 * np.pi * 1300 * t)
        + 0.05 * rng.standard_normal(t.size)
    )[None].astype(np.float32)
    items = (rng.standard_normal((40, 48)) * 0.5).astype(np.float32)
    conv = {"kind": "conv1d", "channels": 1, "window": 64, "hop": 64, "hidden": 8, "seed": 11,
            "fingerprint": "sha256:golden-arm-v2-signal"}  # fmt: skip
    dense = {"kind": "dense", "features": 48, "latent": 12, "seed": 13,
             "fingerprint": "sha256:golden-arm-v2-items"}  # fmt: skip
    out = {}
    for case, name, args, x, fit, step, support in (
        (_ENTROPY_CASES[0], "codec", conv, signal, signal[0, :5760].reshape(90, 1, 64), 0.05, 97),
        (_ENTROPY_CASES[1], "items", dense, items, items, 0.1, 80),
    ):
        plain = make_encoder(models / f".{name}_entropy_plain.onnx", **args)
        spec = entropy_codec(Model(plain).encode(fit), step, support=support)
        plain.unlink()
        make_encoder(models / f"{name}_entropy_encoder.onnx", **args, codec=spec)
        make_decoder(models / f"{name}_entropy_decoder.onnx", **args, codec=spec)
        out[case] = x
    out[_ENTROPY_CASES[2]] = signal
    return out


def _build_context_models(
    models: Path, rng: np.random.Generator, adaptive: int = 0
) -> dict[str, np.ndarray]:
    """The version 4 cases: a conv1d signal pair and a dense item pair whose manifests also
    carry a context model counted on their codes (tests.runtime.codec.models.entropy_codec);
    with ``adaptive``, the version 5 cases: the same plus an adaptive model of that weight."""
    from edgeae_runtime import Model
    from tests.runtime.codec.models import entropy_codec
    from tests.runtime.onnx_models import make_decoder, make_encoder

    t = np.arange(2000) / 16000
    signal = (
        0.4 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
        + 0.05 * rng.standard_normal(t.size)
    )[None].astype(np.float32)
    items = (rng.standard_normal((20, 48)) * 0.5).astype(np.float32)
    v = "v5" if adaptive else "v4"
    conv = {"kind": "conv1d", "channels": 1, "window": 64, "hop": 64, "hidden": 8, "seed": 17,
            "fingerprint": f"sha256:golden-arm-{v}-signal"}  # fmt: skip
    dense = {"kind": "dense", "features": 48, "latent": 12, "seed": 19,
             "fingerprint": f"sha256:golden-arm-{v}-items"}  # fmt: skip
    cases, tag = (_ADAPTIVE_CASES, "adaptive") if adaptive else (_CONTEXT_CASES, "context")
    out = {}
    for case, name, args, x, fit, step, context in (
        (cases[0], "codec", conv, signal, signal[0, :1984].reshape(31, 1, 64), 0.05,
         ((2, 6, 16), (0, 1))),
        (cases[1], "items", dense, items, items, 0.1, ((3, 10), (0,))),
    ):  # fmt: skip
        plain = make_encoder(models / f".{name}_{tag}_plain.onnx", **args)
        spec = entropy_codec(
            Model(plain).encode(fit), step, support=90, context=context, adaptive=adaptive
        )
        plain.unlink()
        make_encoder(models / f"{name}_{tag}_encoder.onnx", **args, codec=spec)
        make_decoder(models / f"{name}_{tag}_decoder.onnx", **args, codec=spec)
        out[case] = x
    return out


def _build_image_models(models: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The version 6 cases: a conv2d (1, 8, 8) pair with factorized, context and adaptive
    tables (tests.runtime.codec.models.entropy_image_pair), with fixed sizes (tile by tile)
    and with spatial axes (one latent map), and a smooth 21x30 image."""
    import shutil

    from tests.runtime.codec.models import entropy_image_pair

    for tag, any_size in (("adaptive", False), ("map", True)):
        tmp = models / f".image_{tag}"
        entropy_image_pair(tmp, any_size=any_size)
        for role in ("encoder", "decoder"):
            (tmp / f"{role}.onnx").replace(models / f"image_{tag}_{role}.onnx")
        shutil.rmtree(tmp)
    image = (np.cumsum(rng.standard_normal((1, 21, 30)), axis=-1) * 0.2).astype(np.float32)
    return {name: image for name in _IMAGE_CASES}


def generate(golden: Path = GOLDEN, only: tuple[str, ...] | None = None) -> None:
    """Rebuild models, inputs and x86 expected outputs (only on request, on x86).

    ``only`` names the cases to regenerate: just the models of their builder are
    rebuilt, every other case keeps its files and its entry in meta.json.
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        raise SystemExit("golden outputs are the x86 reference: generate them on x86_64")
    models, inputs, exp = golden / "models", golden / "inputs", golden / "expected"
    for d in (models, inputs, exp):
        d.mkdir(parents=True, exist_ok=True)
    names = set(only) if only is not None else {c.name for c in CASES}
    unknown = names - {c.name for c in CASES}
    if unknown:
        raise SystemExit(f"no golden case named {', '.join(sorted(unknown))}")
    xs: dict[str, np.ndarray] = {}
    built = set(_ENTROPY_CASES) | set(_CONTEXT_CASES) | set(_ADAPTIVE_CASES) | set(_IMAGE_CASES)
    if names - built:
        xs.update(_build_models(models, np.random.default_rng(SEED)))
    if names & set(_ENTROPY_CASES):
        xs.update(_build_entropy_models(models, np.random.default_rng(SEED + 1)))
    if names & set(_CONTEXT_CASES):
        xs.update(_build_context_models(models, np.random.default_rng(SEED + 2)))
    if names & set(_ADAPTIVE_CASES):
        xs.update(_build_context_models(models, np.random.default_rng(SEED + 2), adaptive=8))
    if names & set(_IMAGE_CASES):
        xs.update(_build_image_models(models, np.random.default_rng(SEED + 3)))
    meta: dict[str, Any] = {"machine": platform.machine(), "cases": {}}
    if only is not None:
        meta = json.loads((exp / "meta.json").read_text())
    for case in CASES:
        if case.name not in names:
            continue
        np.save(inputs / f"{case.name}.npy", xs[case.name], allow_pickle=False)
        entry: dict[str, Any] = {"kind": case.kind, "what": case.what, "files": list(case.files)}
        packaged = [f for f in case.files if f.startswith("pkg:")]
        if packaged:
            entry["sha256"] = {f: _sha256(_model_file(golden, f)) for f in packaged}
        if case.kind == "codec":
            pack, unpack = _codec_pair(case.call)
            stream = pack(_model(models / case.files[0]), xs[case.name], **dict(case.options))
            (exp / f"{case.name}.eae").write_bytes(stream)
            decoded = unpack(_model(models / case.files[1]), stream)
            np.save(exp / f"{case.name}.decoded.npy", decoded, allow_pickle=False)
        else:
            out = _run(case, golden)["output"]
            np.save(exp / f"{case.name}.npy", out, allow_pickle=False)
            if case.kind == "int8":
                output = "latent" if case.call == "encode" else "reconstruction"
                entry["step"] = _output_step(models / case.files[0], output)
        if case.options:
            entry["options"] = dict(case.options)
        meta["cases"][case.name] = entry
    (exp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


# -- command line (run inside the arm64 rootfs by tools/arm/test-arm.sh) ---------------------
def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """``python -m tests.golden.golden [--golden DIR] [--json FILE]``: 0 all match, 1 not."""
    p = argparse.ArgumentParser(prog="golden", description=__doc__.splitlines()[0])
    p.add_argument("--golden", type=Path, default=GOLDEN)
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = p.parse_args(argv)
    results = check(args.golden)
    out(f"golden check on {platform.machine()} against the x86 outputs in {args.golden}:")
    for r in results:
        out("  " + r.line())
    failed = [r.name for r in results if not r.ok]
    out(f"golden check: {len(results) - len(failed)} of {len(results)} cases match")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {"machine": platform.machine(), "results": [r.__dict__ for r in results]},
                indent=2,
            )
            + "\n"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
