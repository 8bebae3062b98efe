"""Stream codec benchmark: throughput, bytes per second of signal, SNR; entropy coding on/off.

The model is a conv1d "DCT codec" built here with onnx.helper (no training, no
download): the encoder is a Conv whose 4 kernels are the first DCT-II basis
vectors of 16-sample blocks (stride 16), the decoder the matching ConvTranspose;
window 256, hop 128, 16 kHz, mono, one onnxruntime thread. The signal is 10 s
(2 s with --quick) of low tones plus noise. All variants run side by side in one
process on the same signal. The "rANS" variants give the same model a learned-style
entropy model (per-channel code step = the channel's calibrated 8-bit step, tables
fitted to the codes of another 10 s of the same kind of signal), coded one window
per frame (format version 2) and 8 windows per frame (version 3, the default).

    python benchmarks/bench_codec.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime import CodecSpec, Manifest, SignalSpec
from edgeae_runtime.codec import StreamDecoder, StreamEncoder, calibrate_codec
from edgeae_runtime.codec.entropy import EntropyTables
from edgeae_runtime.manifest import MANIFEST_KEY, Provenance, TensorSpec
from edgeae_runtime.metrics import snr_db
from edgeae_runtime.model import Model

RATE, WINDOW, HOP, BLOCK, KEEP = 16000, 256, 128, 16, 4
RESULTS = Path(__file__).parent / "results" / "codec.json"


def build_models(directory: Path, codec: CodecSpec | None = None) -> tuple[Model, Model]:
    """Encoder/decoder ONNX files of the DCT codec, with manifests (and ``codec``)."""
    n = np.arange(BLOCK)
    basis = np.stack([np.cos(np.pi * (n + 0.5) * k / BLOCK) for k in range(KEEP)])
    basis /= np.linalg.norm(basis, axis=1, keepdims=True)
    w = basis[:, None, :].astype(np.float32)  # (KEEP, 1, BLOCK)
    item, latent = (1, WINDOW), (KEEP, WINDOW // BLOCK)
    signal = SignalSpec(sample_rate=RATE, channels=1, window=WINDOW, hop=HOP)
    models = []
    for role in ("encoder", "decoder"):
        if role == "encoder":
            node = helper.make_node("Conv", ["input", "w"], ["latent"], strides=[BLOCK])
            src, dst = ("input", item), ("latent", latent)
        else:
            node = helper.make_node(
                "ConvTranspose", ["latent", "w"], ["reconstruction"], strides=[BLOCK]
            )
            src, dst = ("latent", latent), ("reconstruction", item)
        graph = helper.make_graph(
            [node],
            role,
            [helper.make_tensor_value_info(src[0], TensorProto.FLOAT, ["N", *src[1]])],
            [helper.make_tensor_value_info(dst[0], TensorProto.FLOAT, ["N", *dst[1]])],
            [numpy_helper.from_array(w, "w")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        manifest = Manifest(
            role=role,
            arch="dct-codec",
            layout="NCW",
            inputs=(TensorSpec(src[0], (None, *src[1])),),
            outputs=(TensorSpec(dst[0], (None, *dst[1])),),
            item_shape=item,
            latent_shape=latent,
            provenance=Provenance(fingerprint="sha256:bench-dct"),
            signal=signal,
            codec=codec,
        )
        helper.set_model_props(model, {MANIFEST_KEY: manifest.to_json()})
        path = directory / f"{role}.onnx"
        onnx.save(model, path)
        models.append(Model(path, threads=1))
    return models[0], models[1]


def entropy_codec(enc: Model, x: np.ndarray) -> CodecSpec:
    """Per-channel steps of a calibrated 8-bit codec, rANS tables from the codes' histogram."""
    frames = x[0, : x.shape[1] // WINDOW * WINDOW].reshape(-1, 1, WINDOW)
    z = enc.encode(frames)
    scale = np.asarray(calibrate_codec(z, bits=8).scale, np.float64)
    codes = np.rint(z / scale[None, :, None]).astype(np.int64).transpose(1, 0, 2)
    codes = codes.reshape(KEEP, -1)
    low, high = codes.min(axis=1), codes.max(axis=1)
    width = int((high - low).max()) + 1
    rows = zip(codes, low, strict=True)
    counts = np.stack([np.bincount(c - lo, minlength=width) for c, lo in rows])
    pmf = np.concatenate([counts + 0.5, np.full((KEEP, 1), 1e-3)], axis=1)
    tables = EntropyTables.from_pmf(pmf, offset=low)
    steps = tuple(float(v) for v in scale)
    return CodecSpec(bits=8, scale=steps, zero_point=(0,) * KEEP, entropy=tables.to_spec())


def test_signal(seconds: float, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    x = 0.3 * np.sin(2 * np.pi * 110 * t) + 0.2 * np.sin(2 * np.pi * 220 * t + 1)
    x += 0.1 * np.sin(2 * np.pi * 330 * t) * np.sin(2 * np.pi * 0.5 * t)
    x += 0.003 * rng.standard_normal(t.size)
    return x[None].astype(np.float32)


def run(enc: Model, dec: Model, x: np.ndarray, chunk: int, **options: object) -> dict:
    """Encode then decode ``x`` in chunks of ``chunk`` samples / the matching bytes."""
    e = StreamEncoder(enc, **options)
    t0 = time.perf_counter()
    parts = [e.push(x[:, i : i + chunk]) for i in range(0, x.shape[1], chunk)]
    parts.append(e.flush())
    t_enc = time.perf_counter() - t0
    data = b"".join(parts)
    d = StreamDecoder(dec)
    t0 = time.perf_counter()
    y = np.concatenate([d.push(p) for p in parts] + [d.flush()], axis=1)
    t_dec = time.perf_counter() - t0
    seconds = x.shape[1] / RATE
    return {
        "bytes": len(data),
        "bytes_per_second": len(data) / seconds,
        "ratio_vs_pcm16": x.size * 2 / len(data),
        "snr_db": snr_db(x, y),
        "encode_samples_per_s": x.shape[1] / t_enc,
        "decode_samples_per_s": x.shape[1] / t_dec,
        "encode_x_realtime": seconds / t_enc,
        "decode_x_realtime": seconds / t_dec,
    }


VARIANTS = {
    "8-bit, hop=window, deflate": {"entropy": True},
    "8-bit, hop=window, raw": {"entropy": False},
    "8-bit, overlap hop=128, deflate": {"entropy": True, "overlap": True},
    "4-bit, hop=window, deflate": {"entropy": True, "bits": 4},
    "4-bit, hop=window, raw": {"entropy": False, "bits": 4},
    "16-bit, hop=window, deflate": {"entropy": True, "bits": 16},
    "rANS, 1 window/frame (v2)": {"frame_windows": 1},
    "rANS, 8 windows/frame (v3)": {"frame_windows": 8},
}


def main() -> None:
    """Run every variant on the same signal; print a Markdown table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s of signal, 1 repeat")
    args = parser.parse_args()
    x = test_signal(2.0 if args.quick else 10.0)
    repeats = 1 if args.quick else 3
    chunk = RATE // 10  # 100 ms chunks
    with tempfile.TemporaryDirectory() as tmp:
        enc, dec = build_models(Path(tmp))
        (Path(tmp) / "rans").mkdir()
        codec = entropy_codec(enc, test_signal(10.0, seed=1))
        enc_e, dec_e = build_models(Path(tmp) / "rans", codec)
        results = {}
        for name, options in VARIANTS.items():
            pair = (enc_e, dec_e) if name.startswith("rANS") else (enc, dec)
            runs = [run(*pair, x, chunk, **options) for _ in range(repeats)]
            best = dict(runs[0])
            for key in (
                "encode_samples_per_s",
                "decode_samples_per_s",
                "encode_x_realtime",
                "decode_x_realtime",
            ):
                best[key] = float(np.median([r[key] for r in runs]))
            results[name] = best
    print(
        f"DCT conv1d codec, 16 kHz mono, window {WINDOW}, {KEEP}x{WINDOW // BLOCK} latent, "
        f"{x.shape[1] / RATE:.0f} s signal, 100 ms chunks, 1 thread; raw PCM16 = 32000 B/s\n"
    )
    print("| variant | bytes/s | ratio vs PCM16 | SNR dB | encode x RT | decode x RT |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['bytes_per_second']:.0f} | {r['ratio_vs_pcm16']:.1f} | "
            f"{r['snr_db']:.1f} | {r['encode_x_realtime']:.0f} | {r['decode_x_realtime']:.0f} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"quick": args.quick, "results": results}, indent=2))


if __name__ == "__main__":
    main()
