"""The end-to-end demo's wall time and peak memory, measured as ``make demo`` runs it.

Runs ``python -m edgeae demo`` in a child process (a fresh interpreter, as a
newcomer's shell would), takes its peak RSS from ``os.wait4`` (the child's own
resource usage; on Linux ru_maxrss keeps the parent's peak across exec, but the
parent here is a bare interpreter far below the demo's hundreds of MB) and the
per-stage times from the demo's progress lines, then prints a Markdown table and
writes ``benchmarks/results/demo.json``. The target: the full demo
within 3 minutes on 2 cores.

    python benchmarks/bench_demo.py            # the full demo
    python benchmarks/bench_demo.py --quick    # the smoke run (demo --quick)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edgeae_runtime.atomic import write_text_atomic

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TARGET_S = 180.0
STAGE = re.compile(r"^\[\s*\d+/\d+\]\s+([\d.]+) s  (.+?): (.*?)(?:  \[(\d+) MB\])?$")


def run_demo(quick: bool) -> dict[str, object]:
    """Run the demo once in a child process; wall time, peak RSS, stages, its summary."""
    with tempfile.TemporaryDirectory(prefix="edgeae-bench-demo-") as tmp:
        cmd = [sys.executable, "-m", "edgeae", "demo", "-o", str(Path(tmp) / "run")]
        cmd += ["--quick"] if quick else []
        t0 = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        sys.stderr.write(stderr[-3000:])
        raise SystemExit(f"edgeae demo failed with exit code {proc.returncode}")
    stages = [
        {
            "stage": m.group(2),
            "seconds": float(m.group(1)),
            "peak_rss_mb_so_far": None if m.group(4) is None else float(m.group(4)),
            "result": m.group(3),
        }
        for m in map(STAGE.match, stderr.splitlines())
        if m
    ]
    return {
        "mode": "quick" if quick else "full",
        "command": "edgeae demo -o TMPDIR" + (" --quick" if quick else ""),
        "wall_s": wall,
        "peak_rss_mb": usage.ru_maxrss / 1024.0,
        "user_s": usage.ru_utime,
        "system_s": usage.ru_stime,
        "stages": stages,
        "summary": stdout.strip().splitlines(),
        "cpus": os.cpu_count(),
    }


def markdown(result: dict[str, object]) -> str:
    """The printed report: one headline table, then the stages."""
    wall = float(result["wall_s"])  # type: ignore[arg-type]
    lines = [
        f"Command: `{result['command']}` (a fresh process, {result['cpus']} CPUs)",
        "",
        "| demo | wall time (s) | of the 3-minute target | CPU time (s) | peak RSS (MB) |",
        "|---|---|---|---|---|",
        f"| {result['mode']} | {wall:.1f} | {100 * wall / TARGET_S:.0f}% | "
        f"{float(result['user_s']) + float(result['system_s']):.1f} | "  # type: ignore[arg-type]
        f"{float(result['peak_rss_mb']):.0f} |",  # type: ignore[arg-type]
        "",
        "| stage | seconds | peak RSS so far (MB) | result |",
        "|---|---|---|---|",
    ]
    for s in result["stages"]:  # type: ignore[attr-defined]
        rss = "-" if s["peak_rss_mb_so_far"] is None else f"{s['peak_rss_mb_so_far']:.0f}"
        text = s["result"].replace("|", "/")
        lines.append(f"| {s['stage']} | {s['seconds']:.1f} | {rss} | {text} |")
    lines += ["", "Summary printed by the demo:", "", "```", *result["summary"], "```"]  # type: ignore[list-item]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="measure `edgeae demo --quick`")
    args = parser.parse_args()
    result = run_demo(args.quick)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "demo.quick.json" if args.quick else "demo.json"
    write_text_atomic(RESULTS / name, json.dumps(result, indent=2) + "\n")
    print(markdown(result))


if __name__ == "__main__":
    main()
