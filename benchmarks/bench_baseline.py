"""Per-window cost of the running score baseline (ScoreBaseline), before and after.

Before (``reference``): what ``ScoreBaseline.update`` did until 2026-12-02: for every
window, copy the last N scores out of the deque, take their median and q90 (two
sorts), and for ``method: far`` re-run the whole false-alarm law on them (a third
sort plus the tail fit). After (``runtime``): the runtime's class, which keeps the
past sorted (binary search + one block move per window) and reads median, q90 and the
law's upper scores off it. Both give the same scores (checked here on every run, and by
the property test ``test_incremental_baseline_equals_the_reference_computation``).

Each case streams ``N + STREAM`` log-normal scores window by window (the StreamScorer
path: one ``update`` call per window) and reports the median per-window time of the
last ``STREAM`` windows over ``--rounds`` interleaved rounds. Timed: run under the CPU
lock (``flock /tmp/edgeae-heavy.lock``).

    python benchmarks/bench_baseline.py            # table + benchmarks/results/baseline.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from edgeae_runtime import AnomalySpec
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.operating_point import choose_threshold
from edgeae_runtime.scores import baseline_for

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
STREAM = 1000
SIZES = (288, 4096)
#: case name -> (method, target_far)
CASES = {
    "median/q90": ("percentile", 0.01),
    "far 1 %": ("far", 0.01),
    "far 0.1 %": ("far", 0.001),
}


class ReferenceBaseline:
    """The pre-2026-12-02 algorithm: everything recomputed from the whole past."""

    def __init__(self, spec: AnomalySpec, min_windows: int) -> None:
        self.windows = spec.baseline_windows
        self.min_windows = min_windows
        self.far = spec.method == "far"
        self.target = spec.target_far
        self.threshold = spec.threshold
        self._past: deque[float] = deque(maxlen=self.windows)

    def _center_scale(self, past: np.ndarray) -> tuple[float, float]:
        center = float(np.median(past))
        scale = (float(np.quantile(past, 0.9)) - center) / 1.2816
        if not scale > 0:
            scale = max(abs(center), 1.0) * 1e-6  # (not reached on these scores)
        if self.far:
            limit = choose_threshold(past, "far", target_far=self.target)
            if self.threshold > 0 and limit > center:
                return center, (limit - center) / self.threshold
            return limit - self.threshold * scale, scale
        return center, scale

    def update(self, scores: np.ndarray) -> np.ndarray:
        out = np.empty(scores.size, dtype=np.float64)
        for i, v in enumerate(np.asarray(scores, dtype=np.float64).tolist()):
            if len(self._past) >= self.min_windows:
                center, scale = self._center_scale(np.fromiter(self._past, np.float64))
                out[i] = (v - center) / scale
            else:
                out[i] = v
            self._past.append(v)
        return out.astype(np.float32)


def _stream_cost(baseline: Any, scores: np.ndarray, warm: int) -> tuple[float, np.ndarray]:
    """Per-window seconds of the windows after ``warm`` (one update per window), outputs."""
    out = [baseline.update(scores[i : i + 1]) for i in range(warm)]
    start = time.perf_counter()
    out += [baseline.update(scores[i : i + 1]) for i in range(warm, scores.size)]
    return (time.perf_counter() - start) / (scores.size - warm), np.concatenate(out)


def run(rounds: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    rows = []
    for n in SIZES:
        scores = rng.lognormal(0.0, 0.5, n + STREAM).astype(np.float32)
        for case, (method, target) in CASES.items():
            spec = AnomalySpec(
                baseline_windows=n, method=method, target_far=target, threshold=3.0,
                val_normal=n,
            )  # fmt: skip
            times: dict[str, list[float]] = {"reference": [], "runtime": []}
            outputs = {}
            for _ in range(rounds):  # interleaved: before, after, before, ...
                for name in ("reference", "runtime"):
                    base = baseline_for(spec)
                    assert base is not None
                    if name == "reference":
                        base = ReferenceBaseline(spec, base.min_windows)
                    seconds, out = _stream_cost(base, scores, n)
                    times[name].append(seconds)
                    outputs[name] = out
            same = bool(np.array_equal(outputs["reference"], outputs["runtime"]))
            before = float(np.median(times["reference"])) * 1e6
            after = float(np.median(times["runtime"])) * 1e6
            rows.append({"windows": n, "case": case, "before_us": before, "after_us": after,
                         "speedup": before / after, "identical": same})  # fmt: skip
    return {
        "stream_windows": STREAM,
        "rounds": rounds,
        "machine": platform.processor() or platform.machine(),
        "numpy": np.__version__,
        "rows": rows,
    }


def markdown(res: dict[str, Any]) -> str:
    lines = [
        f"Per-window cost of `ScoreBaseline.update` (one window per call, median of "
        f"{res['rounds']} interleaved rounds of {res['stream_windows']} windows after the "
        "past is full; busy shared machine, under the CPU lock):",
        "",
        "| N (baseline windows) | law | before (re-sort the past) µs | after (sorted window) µs "
        "| speed-up | same scores |",
        "|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['windows']} | {r['case']} | {r['before_us']:.1f} | {r['after_us']:.1f} "
            f"| {r['speedup']:.1f}x | {'yes' if r['identical'] else 'NO'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    res = run(args.rounds)
    RESULTS.mkdir(exist_ok=True)
    write_text_atomic(RESULTS / "baseline.json", json.dumps(res, indent=2) + "\n")
    print(markdown(res))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
