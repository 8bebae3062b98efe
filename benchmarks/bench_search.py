"""``edgeae train --search`` on the built-ins: the candidate it keeps vs the recipe, and the time.

For each built-in, the documented command, 1 thread, a wall-clock budget:

    edgeae train builtin:NAME -o RUN --search --search-budget SECONDS --threads 1 --json

The recipe is candidate 0; the alternatives are the layout's (edgeae.train.search).
The metric is AUROC on labelled held-out windows (sensor) or the held-out
reconstruction MSE in raw units (digits, tones). Budgets are wall-clock, so on a
loaded machine the alternatives get fewer epochs: read the epochs column.

    python benchmarks/bench_search.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "search.json"
BUDGETS = {"digits": 120, "sensor": 240, "tones": 120}


def run(name: str, budget: int, out: Path) -> dict:
    """One ``--search`` through the CLI; its JSON."""
    cmd = [sys.executable, "-m", "edgeae", "train", f"builtin:{name}", "-o", str(out), "--search",
           "--search-budget", str(budget), "--threads", "1", "--json", "-q"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"{name}: --search failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def main() -> int:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, budget in BUDGETS.items():
            doc = run(name, budget, Path(tmp) / name)
            results[name] = {
                "budget_s": budget,
                "metric": doc["metric"],
                "chosen": doc["chosen"],
                "seconds": doc["seconds"],
                "rows": [{k: r[k] for k in ("candidate", "epochs", "seconds", "value")}
                         for r in doc["search"]],
            }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


def report(results: dict) -> str:
    """One table per built-in, the kept candidate marked, then a summary line."""
    lines = []
    for name, r in results.items():
        better = "higher" if r["metric"] == "auroc" else "lower"
        lines += [
            f"builtin:{name} (budget {r['budget_s']} s, metric {r['metric']}, {better} is "
            f"better): {len(r['rows'])} candidates in {r['seconds']:.0f} s; kept candidate "
            f"{r['chosen']}" + (" (the recipe)" if r["chosen"] == 0 else " (not the recipe)"),
            "",
            "| # | candidate | epochs | seconds | metric | |",
            "|---|---|---|---|---|---|",
        ]
        for i, row in enumerate(r["rows"]):
            value = "-" if row["value"] is None else f"{row['value']:.5g}"
            mark = "kept" if i == r["chosen"] else ""
            lines.append(
                f"| {i} | {row['candidate']} | {row['epochs']} | {row['seconds']:.1f} | {value} "
                f"| {mark} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


if __name__ == "__main__":
    sys.exit(main())
