"""Size, latency and memory of one model file, measured the same way for both sides.

Latency percentiles come from the runtime's benchmark helpers
(:mod:`edgeae_runtime.bench`), so ``edgeae compare``, ``edgeae bench`` and
``edgeae-rt bench`` agree. Peak memory is measured in a fresh subprocess that
imports the runtime, loads the model and runs one batch: the only honest RSS,
since this process already holds torch, onnx and the other model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from edgeae_runtime import bench as rt_bench
from edgeae_runtime.bench import Latency
from edgeae_runtime.model import Model

from ..errors import ExportError

__all__ = ["footprint", "latency_stats", "size_bytes"]

_FOOTPRINT_SCRIPT = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import numpy as np
from edgeae_runtime.model import Model
m = Model(sys.argv[1], threads=int(sys.argv[3]))
x = np.random.default_rng(0).standard_normal((int(sys.argv[2]), *m.item_shape)).astype("float32")
m._run_model_space("reconstruction" if m.role != "encoder" else "latent", x)
load_s = time.perf_counter() - t0
try:  # VmHWM is this process's own peak; ru_maxrss on Linux keeps the parent's across exec
    with open("/proc/self/status") as fh:
        hwm = next(line for line in fh if line.startswith("VmHWM:"))
    peak = int(hwm.split()[1]) / 1024.0
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = rss / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)
print(json.dumps({"load_s": load_s, "peak_rss_mb": peak}))
"""


def size_bytes(path: str | Path) -> int:
    """Size of the model file on disk (external data files included)."""
    p = Path(path)
    total = p.stat().st_size
    data = p.with_name(p.name + ".data")
    return total + (data.stat().st_size if data.exists() else 0)


def latency_stats(
    model: Model, batch: int, *, budget_s: float = 0.5, seed: int = 0
) -> Latency:
    """p50/p99 of the model's main call on a random raw batch: 10 to 200 calls within
    ``budget_s``, timed by the runtime's :func:`edgeae_runtime.bench.batch_latency`.
    """
    stats = rt_bench.batch_latency(
        model, batch, repeats=200, warmup=2, seed=seed, budget_s=budget_s
    )
    return stats


def footprint(
    path: str | Path, *, batch: int = 256, threads: int = 1, timeout_s: float = 120.0
) -> tuple[float, float]:
    """``(import+load+first batch seconds, peak RSS MB)`` measured in a fresh Python process."""
    cmd = [sys.executable, "-c", _FOOTPRINT_SCRIPT, str(path), str(batch), str(threads)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ExportError(f"{path}: the memory probe took over {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ExportError(f"{path}: the memory probe failed: {last[:200]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(result["load_s"]), float(result["peak_rss_mb"])
