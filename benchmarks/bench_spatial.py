"""What spatial axes cost: a conv2d model's graphs exported at a fixed size vs with any size.

`edgeae export` writes a fully convolutional image model with dynamic height and width,
so a whole photo goes through it in one run (docs/stream-format.md, "Version 6"). This
checks that onnxruntime runs such a graph as fast as the fixed-size one at the model's
item size: the same trained module exported both ways (encoder and decoder in float, and
the encoder statically quantized to int8 on the same calibration items), timed
interleaved at batch 1 and 64, one thread, the median of the rounds under the timing
lock. The model is the digits conv2d recipe trained here for 3 epochs (speed, not
quality, is measured). Prints a table, writes benchmarks/results/spatial.json.

    python benchmarks/bench_spatial.py [--rounds 5] [--lock PATH|'']
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import torch
from timing_lock import LOCK, timing_lock

from edgeae.data import load_source
from edgeae.train import TrainConfig, load_checkpoint, train
from edgeae_export import QuantizeRequest, export_autoencoder, quantize_model
from edgeae_export.torch_export import torch_to_onnx
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.manifest import MANIFEST_KEY
from edgeae_runtime.preprocess import normalize
from edgeae_runtime.session import open_session

RESULTS = Path(__file__).parent / "results" / "spatial.json"
BATCHES = ((1, 400), (64, 20))  # batch, calls per round
FORMS = ("fixed size", "any size")


def latency_us(path: str, x: np.ndarray, calls: int) -> float:
    """Mean µs of one ``session.run`` over ``calls`` calls, after one warm-up call."""
    sess = open_session(path, threads=1)
    feed = {sess.get_inputs()[0].name: x}
    sess.run(None, feed)
    start = time.perf_counter()
    for _ in range(calls):
        sess.run(None, feed)
    return (time.perf_counter() - start) / calls * 1e6


def build(work: Path) -> tuple[dict[str, dict[str, str]], dict[str, tuple[int, ...]]]:
    """Both forms of each graph, as files, and each graph's item shape."""
    ds = load_source("builtin:digits")
    train(ds, "conv2d", {}, TrainConfig(epochs=3), work / "run", force=True, progress=False)
    ckpt = load_checkpoint(work / "run")
    module = ckpt.model.eval()
    x = normalize(ds.x[:256].astype(np.float32), ckpt.preprocessing)
    export_autoencoder(module, out_dir=work / "onnx", example_inputs=x, info=ckpt.export_info())
    traced = module.for_export() if hasattr(module, "for_export") else module
    with torch.no_grad():
        z = traced.encode(torch.from_numpy(x[:2])).numpy()
    files: dict[str, dict[str, str]] = {}
    for role, example in (("encoder", x[:2]), ("decoder", z)):
        exported = onnx.load(str(work / "onnx" / f"{role}.onnx"))  # any size, with manifest
        fixed = torch_to_onnx(traced, example, role=role)
        meta = {p.key: p.value for p in exported.metadata_props if p.key == MANIFEST_KEY}
        onnx.helper.set_model_props(fixed, meta)
        onnx.save(fixed, work / f"{role}.fixed.onnx")
        files[f"{role} float"] = {
            "fixed size": str(work / f"{role}.fixed.onnx"),
            "any size": str(work / "onnx" / f"{role}.onnx"),
        }
    files["encoder int8"] = {}
    for form, src in files["encoder float"].items():
        out = work / f"encoder.{form.replace(' ', '-')}.int8.onnx"
        quantize_model(QuantizeRequest(src, out, mode="static", calibration=ds.x[:512],
                                       speed_gate=False, force=True))  # fmt: skip
        files["encoder int8"][form] = str(out)
    shapes = {"encoder float": x.shape[1:], "decoder float": z.shape[1:]}
    shapes["encoder int8"] = shapes["encoder float"]
    return files, shapes


def measure(files: dict, shapes: dict, rounds: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for graph, forms in files.items():
        for batch, calls in BATCHES:
            x = rng.standard_normal((batch, *shapes[graph])).astype(np.float32)
            times: dict[str, list[float]] = {form: [] for form in FORMS}
            with timing_lock():
                for _ in range(rounds):  # interleaved: both forms see the same machine
                    for form in FORMS:
                        times[form].append(latency_us(forms[form], x, calls))
            med = {form: float(np.median(t)) for form, t in times.items()}
            rows.append({"graph": graph, "batch": batch, "us": med, "rounds": rounds,
                         "ratio": med["any size"] / med["fixed size"]})  # fmt: skip
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "digits conv2d (8x8 items), exported at a fixed size and with spatial axes; median µs "
        "per call, 1 thread, interleaved rounds",
        "",
        "| graph | batch | fixed size µs | any size µs | any / fixed |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['graph']} | {r['batch']} | {r['us']['fixed size']:.1f} | "
            f"{r['us']['any size']:.1f} | {r['ratio']:.3f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lock", default=LOCK["path"], help="flock held while timing ('' none)")
    args = parser.parse_args()
    LOCK["path"] = args.lock
    torch.set_num_threads(1)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        files, shapes = build(Path(tmp))
        rows = measure(files, shapes, args.rounds)
    print(table(rows))
    write_text_atomic(RESULTS, json.dumps({"rows": rows}, indent=2))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
