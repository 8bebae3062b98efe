"""Run every benchmark one after the other and write BENCHMARKS.md from what they printed.

Each ``bench_*.py`` prints a Markdown report on stdout and writes its JSON under
``benchmarks/results/``. This script runs them in sequence (never in parallel:
they would disturb each other's timings), keeps each one's printed report, and
assembles BENCHMARKS.md with the machine it ran on and the command that
reproduces each section. Nothing in BENCHMARKS.md is typed by hand.

    python benchmarks/run_all.py            # full run (what BENCHMARKS.md shows)
    python benchmarks/run_all.py --quick    # smoke run, writes BENCHMARKS.quick.md
    python benchmarks/run_all.py train export  # a subset, merged into the existing file
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
RESULTS = BENCH_DIR / "results"
ORDER = [
    "train",
    "search",
    "anomaly",
    "denoise",
    "speech",  # needs trained models: bench_speech.py --float ... (its section names the command)
    "train_speech",
    "recurrent",
    "export",
    "runtime",
    "codec",
    "rd",
    "tiles",
    "spatial",
    "colour",
    "rd_signals",
    "resample",
    "perf_model",  # needs the demo's models: its section names the command
    "peers",  # build (nice) then time (heavy lock): its section names the command
    "demo",
    "arm",  # written by tools/arm/report.py after `make test-arm` (no bench_arm.py)
]
TITLES = {
    "train": "Training: autoencoders vs PCA and the mean, trainer overhead, DDP",
    "search": "Choosing a recipe: edgeae train --search on the built-ins",
    "anomaly": "Anomaly detection: operating points, NAB vs PCA / IsolationForest, log-mel DCASE",
    "denoise": "Streaming denoising on a held-out tones recording: the recipe vs alternatives",
    "speech": "Speech denoising on real speech and real noise: the pretrained denoiser vs Wiener, "
    "the masking ceiling and the old recipes",
    "train_speech": "Train your own denoiser from a clean-speech folder and a noise folder",
    "recurrent": "Speech denoising: a recurrent (GRU) mask model vs the shipped conv mask at "
    "equal steps (a torch-only probe)",
    "export": "Export and quantization: torch vs ORT fp32 / int8 / fp16 vs OpenVINO",
    "runtime": "Runtime: streaming denoiser vs the raw onnxruntime bound, footprint",
    "codec": "Stream codec: throughput, bytes per second, SNR",
    "rd": "Learned compression: rate vs distortion against PCA, JPEG, WebP; rANS vs deflate",
    "tiles": "Whole photos in the image codec's tiles (format v6): one latent map vs tile by "
    "tile vs JPEG, file against file",
    "spatial": "What spatial axes cost: conv2d graphs at a fixed size vs any size",
    "colour": "A colour photo codec as a new user makes one (train, export, quantize, "
    "edgeae-rt) vs colour JPEG",
    "rd_signals": "Learned compression of signals: speech vs ADPCM / GSM 6.10, sensor vs delta",
    "resample": "Resampling at the edges: the runtime's polyphase filter vs scipy's resample_poly",
    "perf_model": "Performance model: MACs, GMAC/s and share of the int8/fp32 peak per node; "
    "where int8 QDQ pays",
    "peers": "Peers: every shipped model under torch, ORT fp32/int8, session options, fp16, "
    "OpenVINO; sub-pixel decoders",
    "demo": "The end-to-end demo: wall time and peak memory",
    "arm": "On 64-bit ARM (emulated): runtime tests, golden outputs vs x86, footprint",
}


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        cpu = match.group(1) if match else cpu
        flags = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    except OSError:
        pass
    isa = [
        f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f" {f}" in flags
    ]
    versions = {}
    for dist in ("torch", "onnx", "onnxruntime", "numpy", "openvino"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return {
        "cpu": cpu,
        "isa": ", ".join(isa) or "unknown",
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "date": dt.date.today().isoformat(),
    }


def run_one(name: str, quick: bool, extra: list[str] | None = None) -> tuple[str, float, int]:
    """Run ``bench_<name>.py``; return its printed report, wall time and exit code."""
    cmd = [sys.executable, str(BENCH_DIR / f"bench_{name}.py")] + (["--quick"] if quick else [])
    cmd += extra or []
    print(f"== {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    sys.stderr.write(proc.stderr[-2000:])
    return proc.stdout, elapsed, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"subset of {ORDER}")
    parser.add_argument(
        "--quick", action="store_true", help="short runs; writes BENCHMARKS.quick.md"
    )
    parser.add_argument(
        "--note",
        default="",
        help="how the run went (e.g. a loaded machine); printed in each section",
    )
    parser.add_argument(
        "--args",
        default="",
        help="extra arguments for the one bench named (e.g. '--parts sensor --merge')",
    )
    args = parser.parse_args()
    names = args.names or [n for n in ORDER if (BENCH_DIR / f"bench_{n}.py").exists()]
    extra = args.args.split()
    if extra and len(names) != 1:
        parser.error("--args: name exactly one bench")
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        report, elapsed, code = run_one(name, args.quick, extra)
        if code != 0:
            failed.append(name)
            continue
        section = {
            "name": name,
            "command": f"python benchmarks/bench_{name}.py"
            + (" --quick" if args.quick else "")
            + (f" {args.args}" if extra else ""),
            "seconds": round(elapsed, 1),
            "report": report.strip(),
            "machine": machine(),
        }
        if args.note:
            section["note"] = args.note
        suffix = ".quick" if args.quick else ""
        (RESULTS / f"{name}{suffix}.section.json").write_text(json.dumps(section, indent=2))
    write_markdown(args.quick)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def write_markdown(quick: bool) -> None:
    """Assemble BENCHMARKS.md (or BENCHMARKS.quick.md) from the stored sections."""
    suffix = ".quick" if quick else ""
    parts = [
        "# Benchmarks",
        "",
        "Every number in this file was printed by a script under `benchmarks/`; this file is",
        "assembled by `python benchmarks/run_all.py` (or `make bench`) from their output. Each",
        "section names the command that reproduces it and the machine it ran on. Raw results are",
        "in `benchmarks/results/*.json`.",
        "",
    ]
    for name in ORDER:
        path = RESULTS / f"{name}{suffix}.section.json"
        if not path.exists():
            continue
        sec = json.loads(path.read_text())
        m = sec["machine"]
        parts += [
            f"## {TITLES.get(name, name)}",
            "",
            f"Command: `{sec['command']}` ({sec['seconds']} s). Machine: {m['cpu']} "
            f"({m['isa']}), {m['cores']} cores, Python {m['python']}, {m['versions']}; "
            f"run on {m['date']}.",
            "",
            *([f"Note: {sec['note']}", ""] if sec.get("note") else []),
            sec["report"],
            "",
        ]
    (ROOT / f"BENCHMARKS{suffix}.md").write_text("\n".join(parts))


if __name__ == "__main__":
    sys.exit(main())
