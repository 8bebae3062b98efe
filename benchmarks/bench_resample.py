"""Resampler benchmark: edgeae_runtime.resample (numpy) vs scipy.signal.resample_poly, side by side.

For each rate pair used at the denoiser's edges (8-48 kHz in, 16 kHz model),
on the same 10 s of audio-like noise (2 s with --quick), float32, one thread:
offline time (best of 5) of ours and of scipy (the peer) and their ratio, the
largest difference between the two outputs, streaming speed at 10 ms chunks
(x real time; the output equals the offline one, tested), the stream's delay,
and the filter's quality: passband gain error at 0.25 x the new Nyquist and
the alias left by a tone 25 % above the new Nyquist (downsampling) or the
image of a 3 kHz tone (upsampling).

    python benchmarks/bench_resample.py [--quick]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import time
from pathlib import Path

import numpy as np
import scipy.signal

from edgeae_runtime.resample import StreamResampler, rational_ratio, resample

RESULTS = Path(__file__).parent / "results" / "resample.json"
PAIRS = [(48000, 16000), (44100, 16000), (32000, 16000), (22050, 16000), (8000, 16000),
         (16000, 48000)]  # fmt: skip


def _best(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _level_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(2 * np.mean(x**2)) + 1e-300))


def quality(src: int, dst: int) -> tuple[float, float]:
    """(passband gain error dB, alias or image level dB) for one rate pair."""
    t = np.arange(src) / src
    nyq = min(src, dst) / 2
    edge = 2000
    keep = resample(np.sin(2 * np.pi * 0.25 * nyq * t), src, dst)[edge:-edge]
    if dst < src:
        bad = resample(np.sin(2 * np.pi * 1.25 * nyq * t), src, dst)[edge:-edge]
        return _level_db(keep), _level_db(bad)
    y = resample(np.sin(2 * np.pi * 3000 * t), src, dst)[edge:-edge]
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    freqs = np.fft.rfftfreq(y.size, 1 / dst)
    return _level_db(keep), float(20 * np.log10(spec[freqs > nyq * 1.1].max() / spec.max()))


def run(seconds: float) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for src, dst in PAIRS:
        n = int(seconds * src)
        x = (0.1 * rng.standard_normal(n)).astype(np.float32)
        up, down = rational_ratio(src, dst)
        ours = _best(lambda x=x, src=src, dst=dst: resample(x, src, dst))
        peer = _best(lambda x=x, up=up, down=down: scipy.signal.resample_poly(x, up, down))
        diff = float(
            np.max(np.abs(resample(x, src, dst) - scipy.signal.resample_poly(x, up, down)))
        )
        chunk = src // 100

        def stream(x: np.ndarray = x, src: int = src, dst: int = dst, chunk: int = chunk) -> None:
            s = StreamResampler(src, dst)
            for i in range(0, x.size, chunk):
                s.process(x[i : i + chunk])
            s.flush()

        streamed = _best(stream, 3)
        gain, alias = quality(src, dst)
        rows.append({
            "from_hz": src, "to_hz": dst, "up": up, "down": down,
            "ours_ms": ours * 1e3, "scipy_ms": peer * 1e3, "ours_vs_scipy": peer / ours,
            "max_abs_diff": diff, "stream_10ms_x_realtime": seconds / streamed,
            "delay_ms": 1e3 * StreamResampler(src, dst).delay / src,
            "passband_gain_db": gain, "alias_or_image_db": alias,
        })  # fmt: skip
    return rows


def report(rows: list[dict], seconds: float) -> str:
    lines = [
        f"{seconds:g} s of float32 audio-like noise per rate pair, 1 thread; peer: "
        f"scipy.signal.resample_poly {scipy.__version__} (same Kaiser beta 5 law); "
        "shared, busy machine: timings are indicative",
        "",
        "| from -> to | up/down | ours ms | scipy ms | scipy/ours | max diff vs scipy "
        "| stream 10 ms chunks x RT | delay ms | passband dB | alias/image dB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['from_hz']} -> {r['to_hz']} | {r['up']}/{r['down']} | {r['ours_ms']:.1f} "
            f"| {r['scipy_ms']:.1f} | {r['ours_vs_scipy']:.2f} | {r['max_abs_diff']:.1e} "
            f"| {r['stream_10ms_x_realtime']:.0f} | {r['delay_ms']:.2f} "
            f"| {r['passband_gain_db']:+.3f} | {r['alias_or_image_db']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 s of audio instead of 10 s")
    seconds = 2.0 if ap.parse_args().quick else 10.0
    rows = run(seconds)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"seconds": seconds, "rows": rows}, indent=2))
    print(report(rows, seconds))


if __name__ == "__main__":
    main()
