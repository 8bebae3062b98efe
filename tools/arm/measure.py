"""Import, load and first-inference time, and the peak RSS of a denoise run, on this machine.

Run by tools/arm/test-arm.sh inside the arm64 rootfs (and usable on x86 for comparison):
``python tools/arm/measure.py --golden tests/golden --json out.json``. Under qemu-user the
times are a correctness run's, not a speed figure (emulation is 10-50x slower than a board),
and the RSS includes qemu's own translation cache, so it is an upper bound.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np


def _first_inference(golden: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    import onnxruntime  # noqa: F401

    from edgeae_runtime import Model

    t1 = time.perf_counter()
    model = Model(golden / "models" / "conv1d.onnx", threads=1)
    t2 = time.perf_counter()
    model.reconstruct(np.zeros((1, *model.item_shape), np.float32))
    t3 = time.perf_counter()
    return {"import_s": t1 - t0, "load_s": t2 - t1, "first_inference_s": t3 - t2}


def _denoise_rss(golden: Path, seconds: float) -> dict[str, float]:
    """Peak RSS (MiB) of ``edgeae-rt denoise`` on a ``seconds``-long 16 kHz WAV, in a child."""
    rng = np.random.default_rng(0)
    n = int(16000 * seconds)
    t = np.arange(n) / 16000
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(n)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        with wave.open(str(src), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
        cmd = [str(Path(sys.executable).parent / "edgeae-rt"), "denoise"]
        cmd += ["-m", str(golden / "models" / "conv1d.onnx"), str(src), "-o", str(dst)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        wall = time.perf_counter() - t0
        with wave.open(str(dst), "rb") as w:
            if w.getnframes() != n:
                raise SystemExit(f"denoise wrote {w.getnframes()} samples, expected {n}")
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"denoise_seconds_of_audio": seconds, "denoise_wall_s": wall, "rss_mib": rss_kib / 1024}


def installed_size(root: str = "edgeae-runtime") -> dict[str, int]:
    """Bytes on disk of ``root`` and every distribution it requires (no extras), by name."""
    import importlib.metadata as md
    import re

    sizes: dict[str, int] = {}
    todo = [root]
    while todo:
        name = re.split(r"[ ;<>=!~\[(]", todo.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if name in sizes:
            continue
        dist = md.distribution(name)
        sizes[name] = sum(f.size or 0 for f in (dist.files or ()))  # sizes from pip's RECORD
        todo += [r for r in (dist.requires or []) if "extra ==" not in r]
    return sizes


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--golden", type=Path, default=Path("tests/golden"))
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    result = {"machine": platform.machine(), **_first_inference(args.golden)}
    result.update(_denoise_rss(args.golden, args.seconds))
    sizes = installed_size()
    result["installed_bytes"] = sizes
    print(
        f"measure ({result['machine']}): import {result['import_s']:.2f} s, load "
        f"{result['load_s']:.3f} s, first inference {result['first_inference_s']:.3f} s; "
        f"denoise {args.seconds:g} s of audio: {result['denoise_wall_s']:.1f} s wall, "
        f"peak RSS {result['rss_mib']:.0f} MiB"
    )
    parts = ", ".join(f"{k} {v / 2**20:.1f}" for k, v in sorted(sizes.items()))
    print(f"installed (MiB): {sum(sizes.values()) / 2**20:.0f} in all: {parts}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
