"""The performance model of the shipped graphs, and where int8 QDQ stops paying (issue 14).

Two parts, one process, 1 thread:

1. **Where int8 pays.** A sweep of 3-layer conv1d stacks (C -> C channels, kernel 3,
   length 128, no bias), float vs the same graph in QDQ (uint8 activations, int8
   weights, as edgeae writes on x86), timed in interleaved rounds at batch 64. The
   x-axis is MACs per quantized activation value (``qdq_intensity``); the smallest
   intensity from which every wider stack was faster in int8 is the threshold
   ``edgeae_export.perf_model.QDQ_INTENSITY_MIN`` is checked against.
2. **The models.** ``performance_model`` of each model (the pretrained speech
   denoiser by default, plus every ``--model``): MACs per item, GMAC/s, share of
   the practical int8/fp32 peak (GEMM probe in this run), the slowest nodes.

    python benchmarks/bench_perf_model.py [--model M.onnx ...] [--quick] [--section]

Prints Markdown; writes benchmarks/results/perf_model.json (``--section`` also
writes the BENCHMARKS.md section with this command line).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae.report.perf_table import perf_text
from edgeae_export.bench import measure_onnx
from edgeae_export.perf_model import (
    QDQ_INTENSITY_MIN,
    measure_peak,
    performance_model,
    qdq_intensity,
)
from edgeae_runtime.model import Model

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PRETRAINED = ROOT / "runtime" / "edgeae_runtime" / "pretrained" / "speech-denoiser.onnx"


def conv_stack(channels: int, *, length: int = 128, layers: int = 3, qdq: bool) -> bytes:
    """``layers`` Conv(C -> C, k=3, pad 1); with ``qdq`` every activation is Q -> DQ and
    every weight int8 -> DQ (per-tensor), the pattern onnxruntime fuses into QLinearConv."""
    rng = np.random.default_rng(channels)
    nodes, inits = [], []
    cur = "x"
    scale = numpy_helper.from_array(np.array(0.05, np.float32), "s")
    zp = numpy_helper.from_array(np.array(128, np.uint8), "z")
    wzp = numpy_helper.from_array(np.array(0, np.int8), "wz")
    if qdq:
        inits += [scale, zp, wzp]
    for i in range(layers + 1):
        if qdq:
            nodes += [
                helper.make_node("QuantizeLinear", [cur, "s", "z"], [f"q{i}"], name=f"q{i}"),
                helper.make_node("DequantizeLinear", [f"q{i}", "s", "z"], [f"d{i}"], name=f"d{i}"),
            ]
            cur = f"d{i}"
        if i == layers:
            break
        w = (rng.standard_normal((channels, channels, 3)) / np.sqrt(channels)).astype(np.float32)
        if qdq:
            inits.append(numpy_helper.from_array((w * 40).round().astype(np.int8), f"w{i}q"))
            nodes.append(
                helper.make_node(
                    "DequantizeLinear", [f"w{i}q", "s", "wz"], [f"w{i}"], name=f"wd{i}"
                )
            )
        else:
            inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(
            helper.make_node("Conv", [cur, f"w{i}"], [f"c{i}"], name=f"conv{i}", pads=[1, 1])
        )
        cur = f"c{i}"
    graph = helper.make_graph(
        nodes,
        "stack",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", channels, length])],
        [helper.make_tensor_value_info(cur, TensorProto.FLOAT, None)],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def sweep(widths: list[int], rounds: int, batch: int, budget: float) -> list[dict]:
    """float vs QDQ per width, ``rounds`` interleaved rounds; median of the per-round ratios."""
    rows = []
    for c in widths:
        f, q = conv_stack(c, qdq=False), conv_stack(c, qdq=True)
        ratios, f_us, q_us = [], [], []
        for _ in range(rounds):
            a = measure_onnx(f, batch, budget_s=budget).median_us
            b = measure_onnx(q, batch, budget_s=budget).median_us
            f_us.append(a)
            q_us.append(b)
            ratios.append(a / b)
        rows.append(
            {
                "channels": c,
                "intensity": qdq_intensity(onnx.load_from_string(q)),
                "float_us": float(np.median(f_us)),
                "int8_us": float(np.median(q_us)),
                "speedup": float(np.median(ratios)),
                "speedup_min": float(min(ratios)),
                "speedup_max": float(max(ratios)),
            }
        )
        print(f"sweep C={c}: speed-up {rows[-1]['speedup']:.2f}x", file=sys.stderr)
    return rows


def threshold(rows: list[dict]) -> float | None:
    """The smallest intensity from which every wider stack had a median speed-up > 1."""
    ok = None
    for r in sorted(rows, key=lambda r: -r["intensity"]):
        if r["speedup"] <= 1.0:
            break
        ok = r["intensity"]
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="more models to profile")
    parser.add_argument("--batch", type=int, default=256, help="batch of the profiles")
    parser.add_argument("--quick", action="store_true", help="short timings, 1 round")
    parser.add_argument("--section", action="store_true", help="write the BENCHMARKS section")
    args = parser.parse_args()
    start = time.perf_counter()
    rounds, budget = (1, 0.1) if args.quick else (3, 0.3)
    widths = [2, 4, 8, 12, 16, 24, 32, 64, 128]

    peak = measure_peak(budget_s=budget)
    rows = sweep(widths, rounds, 64, budget)
    models = [PRETRAINED, *map(Path, args.model)]
    perfs = []
    for path in models:
        print(f"profile {path}", file=sys.stderr)
        pm = performance_model(path, batch=args.batch, budget_s=budget, peak=peak)
        quant = Model(path).manifest.quantization.mode
        perfs.append((path, quant, pm))
    peak_end = measure_peak(budget_s=budget)  # the machine moves: the probe again at the end

    given = ", ".join(sorted({f"{Path(m).parent.name}/" for m in args.model}))
    intro = (
        f"Models: the pretrained denoiser, and the float and int8 files of {given} (briefly "
        "trained recipe models, e.g. `edgeae demo --quick --out DEMO`'s or bench_peers.py "
        "build's: speed, not quality, is measured here). "
        if args.model
        else ""
    )
    lines = [
        intro
        + "1 thread; read ratios and shares rather than absolute rates, a shared machine moves "
        "(the GEMM probe, taken at the start and the end, "
        f"moved from {peak.int8_gmacs:.0f} to {peak_end.int8_gmacs:.0f} GMAC/s int8 and "
        f"{peak.fp32_gmacs:.0f} to {peak_end.fp32_gmacs:.0f} GMAC/s fp32). Practical peak = "
        "best of a 256- and a 1024-cube GEMM through onnxruntime (uint8 x int8 MatMulInteger, "
        f"fp32 MatMul): int8 {peak.int8_by_size[0]:.0f} / {peak.int8_by_size[1]:.0f}, fp32 "
        f"{peak.fp32_by_size[0]:.0f} / {peak.fp32_by_size[1]:.0f} GMAC/s at 256 / 1024: the "
        "1024-cube runs from memory.",
        "",
        f"### Where int8 QDQ pays: 3-layer conv1d stacks, batch 64, {rounds} interleaved rounds",
        "",
        "| channels | MACs per quantized value | float µs | int8 µs | int8 speed-up (min-max) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['channels']} | {r['intensity']:.0f} | {r['float_us']:.0f} | "
            f"{r['int8_us']:.0f} | {r['speedup']:.2f}x ({r['speedup_min']:.2f}-"
            f"{r['speedup_max']:.2f}) |"
        )
    thr = threshold(rows)
    lines += [
        "",
        f"int8 faster from {thr:.0f} MACs per quantized value on (every wider stack too); "
        f"`QDQ_INTENSITY_MIN` = {QDQ_INTENSITY_MIN:.0f} is what the speed gate's small-model "
        "line uses."
        if thr is not None
        else "int8 was not faster at any width in this run.",
        "",
        f"### Performance model per model (batch {args.batch}; `edgeae bench -m M --batch "
        f"{args.batch} --threads 1 --profile` prints the same)",
        "",
    ]
    for path, quant, pm in perfs:
        label = f"{path.parent.name}/{path.name}"
        lines += [f"{label} ({quant}):", "", "```", perf_text(pm, top=6, label=label), "```", ""]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "peak": peak.to_dict(),
        "peak_end": peak_end.to_dict(),
        "sweep": rows,
        "threshold": thr,
        "models": [{"path": str(p), "quantization": q, **pm.to_dict()} for p, q, pm in perfs],
    }
    (RESULTS / "perf_model.json").write_text(json.dumps(doc, indent=2))
    if args.section:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from run_all import machine

        argv = [a for a in sys.argv[1:] if a != "--section"]
        cmd = "flock /tmp/edgeae-heavy.lock .venv/bin/python benchmarks/bench_perf_model.py"
        section = {
            "name": "perf_model",
            "command": " ".join([cmd, *(shlex.quote(a) for a in argv)]),
            "seconds": round(time.perf_counter() - start, 1),
            "report": report,
            "machine": machine(),
        }
        (RESULTS / "perf_model.section.json").write_text(json.dumps(section, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
