"""Every shipped model against its peers in one interleaved run (issue 14).

Models: the built-in recipes (digits dense2d, sensor conv1d, tones conv1d), conv2d on
digits, the sub-pixel decoder variant of each conv recipe (same training), the ad01
machine-sound recipe (``logmel:`` on ``../shared/data/machine``, skipped when absent)
and the pretrained speech denoiser. Peers, 1 thread, batch 1 and 256:

- torch eager (the trained module; for the pretrained denoiser a module of the same
  config: speed only), onnxruntime fp32, onnxruntime int8 (edgeae's static QDQ file
  within its accuracy budget, edgeae's session options);
- the same int8 file under other onnxruntime session options: optimization level
  ``extended`` (no NHWC layout transformer) and ``basic``, the saved optimized graph
  loaded with optimizations off, 2 intra-op threads with and without spinning;
- fp16 storage (edgeae's ``fp16`` mode);
- OpenVINO fp32 (f32 precision hint) and OpenVINO on the same int8 QDQ file, when the
  ``openvino`` package is installed.

Every round times every (model, batch, peer) once; ``--rounds`` rounds (default 3)
give the median and the spread (min-max), and ratios are medians of per-round ratios.
The practical peak (edgeae_export.perf_model GEMM probe) is taken at the start and
end. Signal models also get the streaming real-time factor (runtime stream, 20 ms
chunks, 10 s of noise-like signal).

Two phases: ``build`` trains/exports/quantizes into ``--work`` (run it at ``nice 15``),
``time`` measures (run it under the heavy-job lock); without a phase both run.

    nice -n 15 python benchmarks/bench_peers.py build --work /tmp/edgeae-peers
    flock /tmp/edgeae-heavy.lock python benchmarks/bench_peers.py time \
        --work /tmp/edgeae-peers --section

Prints Markdown; writes benchmarks/results/peers.json (``--section``: peers.section.json).

One module per job beside this script: ``peers_build.py`` (``build``: train, export,
quantize, quality), ``peers_decoders.py`` (``decoders``: the decoder checks),
``peers_run.py`` (``time``: the peers and their interleaved timing), the Markdown and
the targets in ``peers_report.py``, the paths and models of the table in
``peers_common.py``; this script runs the phase asked for, writes
``results/peers.json`` and prints the report.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

from peers_build import build
from peers_common import RESULTS
from peers_decoders import DECODER_CASES, decoder_case, decoders_markdown, held_out_snr
from peers_report import markdown
from peers_run import time_all


def _command(args: argparse.Namespace) -> str:
    """The two-phase command line that reproduces the section."""
    work = shlex.quote(str(args.work))
    py = ".venv/bin/python benchmarks/bench_peers.py"
    return (
        f"nice -n 15 {py} build --work {work}; "
        f"nice -n 15 {py} decoders --work {work}; "
        f"flock /tmp/edgeae-heavy.lock {py} time --work {work} --section"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "phase",
        nargs="?",
        choices=("build", "time", "report", "decoders"),
        help="default: build + time; report: re-render the stored peers.json; decoders: "
        "the decoder checks of --case (nice 15, no timing)",
    )
    parser.add_argument("--work", type=Path, default=None, help="model directory (kept)")
    parser.add_argument("--only", nargs="*", help="model slugs (e.g. tones-conv1d)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--case", nargs="*", choices=[*DECODER_CASES, "tones"], default=None,
                        help="decoder checks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="2 epochs, short timings, 1 round")
    parser.add_argument("--section", action="store_true", help="write the BENCHMARKS section")
    args = parser.parse_args()
    start = time.perf_counter()
    tmp = None
    if args.work is None:
        tmp = tempfile.TemporaryDirectory(prefix="edgeae-peers-")
        args.work = Path(tmp.name)
    if args.phase == "decoders":
        for case in args.case or [*DECODER_CASES, "tones"]:
            if case == "tones":
                held_out_snr(args.work)
            else:
                decoder_case(case, args.work, args.quick)
        return 0
    if args.phase in (None, "build"):
        build(args.work, args.quick, args.only)
    if args.phase == "build":
        return 0
    rounds, budget = (1, 0.05) if args.quick else (args.rounds, 0.25)
    name = "peers.quick" if args.quick else "peers"
    if args.phase == "report":
        res = json.loads((RESULTS / f"{name}.json").read_text())
        best = max(res["peak"]["int8_gmacs"], res["peak_end"]["int8_gmacs"])
        res["best_peak"] = best
        for m in res["models"]:
            for r in m["rows"]:
                r["share_int8_peak_b256"] = r["gmacs_b256"] / best
        section_path = RESULTS / f"{name}.section.json"
        old = json.loads(section_path.read_text()) if section_path.exists() else {}
        res["decoders"] = decoders_markdown(args.work)
        print(markdown(res))
        if old:
            old["report"] = markdown(res)
            old["command"] = _command(args)
            section_path.write_text(json.dumps(old, indent=2))
        (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
        return 0
    res = time_all(args.work, rounds, budget, args.only)
    res["decoders"] = decoders_markdown(args.work)
    res["seconds"] = round(time.perf_counter() - start, 1)
    report = markdown(res)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    if args.section:
        from run_all import machine

        section = {
            "name": "peers",
            "command": _command(args),
            "seconds": res["seconds"],
            "report": report,
            "machine": machine(),
        }
        (RESULTS / f"{name}.section.json").write_text(json.dumps(section, indent=2))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
