"""Runtime benchmark: StreamDenoiser vs the raw onnxruntime bound, footprint, memory over time.

The model is a small conv1d autoencoder built here with onnx.helper (fixed random
weights, no training, no download): Conv(1->16, k8 s4) -> Conv(16->32, k4 s2) ->
Conv(32->8, k1) = latent (8, 32); ConvTranspose(8->32, s2) -> ConvTranspose(32->16, s4)
-> Conv(16->1, k9); float32, 16 kHz mono, window 256, hop 128, hann, one thread.

Side by side in one process, on the same signal:
- raw bound: the whole signal framed up front, one ``session.run`` (only the run is timed);
- bare onnxruntime on the same chunks: pre-framed windows, one ``session.run`` per chunk
  (separates the runtime's own overhead from the cost of running small batches);
- StreamDenoiser fed chunks of 10 ms, 100 ms and 1 s: real-time factor and per-chunk
  latency p50/p99.
All three in interleaved rounds (raw, then each chunk size's denoiser and bare runs),
each figure the best of its rounds.
Footprint, each in a fresh subprocess: ``import edgeae_runtime`` + load + one inference vs
bare onnxruntime doing the same (wall and CPU time of the child, its peak RSS), the two
interleaved run by run. Measured with the packages' bytecode cached, as after ``pip
install`` (a fresh ``PYTHONPYCACHEPREFIX``, one warm-up run each), and again with
``PYTHONDONTWRITEBYTECODE=1`` and no cache, where every start compiles the source tree's
modules (onnxruntime's and numpy's stay precompiled in site-packages). Memory: RSS after
streaming one minute vs one hour (10 minutes with --quick) in one subprocess.

    python benchmarks/bench_runtime.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime import Manifest, Model, SignalSpec
from edgeae_runtime.bench import bench_signal, raw_bound, stream_rtf
from edgeae_runtime.framing import SignalFramer
from edgeae_runtime.manifest import MANIFEST_KEY, Provenance, TensorSpec

RATE, WINDOW, HOP = 16000, 256, 128
RESULTS = Path(__file__).parent / "results" / "runtime.json"
TARGET_RATIO, TARGET_SECONDS, TARGET_MB = 1.15, 0.2, 64.0


def build_model(path: Path) -> Path:
    """Write the benchmark's conv1d autoencoder (model.onnx role) with its manifest."""
    rng = np.random.default_rng(0)

    def w(name: str, *shape: int) -> onnx.TensorProto:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        return numpy_helper.from_array(
            (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32), name
        )

    inits = [
        w("c1", 16, 1, 8), w("c1b", 16), w("c2", 32, 16, 4), w("c2b", 32),
        w("c3", 8, 32, 1), w("c3b", 8), w("t1", 8, 32, 2), w("t1b", 32),
        w("t2", 32, 16, 4), w("t2b", 16), w("c4", 1, 16, 9), w("c4b", 1),
    ]  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["input", "c1", "c1b"], ["h1"], strides=[4], pads=[2, 2]),
        helper.make_node("Relu", ["h1"], ["r1"]),
        helper.make_node("Conv", ["r1", "c2", "c2b"], ["h2"], strides=[2], pads=[1, 1]),
        helper.make_node("Relu", ["h2"], ["r2"]),
        helper.make_node("Conv", ["r2", "c3", "c3b"], ["latent"]),
        helper.make_node("ConvTranspose", ["latent", "t1", "t1b"], ["u1"], strides=[2]),
        helper.make_node("Relu", ["u1"], ["s1"]),
        helper.make_node("ConvTranspose", ["s1", "t2", "t2b"], ["u2"], strides=[4]),
        helper.make_node("Relu", ["u2"], ["s2"]),
        helper.make_node("Conv", ["s2", "c4", "c4b"], ["reconstruction"], pads=[4, 4]),
    ]
    item, latent = (1, WINDOW), (8, WINDOW // 8)
    graph = helper.make_graph(
        nodes,
        "bench_conv1d",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *item])],
        [
            helper.make_tensor_value_info("reconstruction", TensorProto.FLOAT, ["N", *item]),
            helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["N", *latent]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    manifest = Manifest(
        role="autoencoder",
        arch="bench-conv1d",
        layout="NCW",
        inputs=(TensorSpec("input", (None, *item)),),
        outputs=(
            TensorSpec("reconstruction", (None, *item)),
            TensorSpec("latent", (None, *latent)),
        ),
        item_shape=item,
        latent_shape=latent,
        provenance=Provenance(fingerprint="bench-runtime-conv1d", source="bench_runtime.py"),
        signal=SignalSpec(RATE, 1, WINDOW, HOP, "hann"),
    )
    helper.set_model_props(model, {MANIFEST_KEY: manifest.to_json()})
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def bare_chunked_rtf(model: Model, signal: np.ndarray, chunk: int) -> float:
    """Bare ``session.run`` on the windows each chunk completes, framed beforehand.

    The same small batches the StreamDenoiser runs, without any of its work: the
    ratio to it is the runtime's own per-chunk overhead (framing, checks, overlap-add).
    """
    framer = SignalFramer.of(model.require_signal())
    pushed = [framer.push(signal[:, i : i + chunk]) for i in range(0, signal.shape[1], chunk)]
    batches = [b.frames for b in [*pushed, framer.flush()] if len(b)]
    run, feed_name = model.session.run, model.manifest.inputs[0].name
    t0 = time.perf_counter()
    for b in batches:
        run(["reconstruction"], {feed_name: b})
    return (time.perf_counter() - t0) / (signal.shape[1] / RATE)


def streaming(model: Model, seconds: float, rounds: int = 5) -> dict:
    """Raw bound and StreamDenoiser at three chunk sizes on the same signal.

    Interleaved rounds: each round times the raw bound, then the denoiser and bare
    onnxruntime at every chunk size, so all of them see the same machine load; each
    figure is its best round.
    """
    signal = bench_signal(model, seconds)
    sizes = (10, 100, 1000)
    raws: list[float] = []
    streams: dict[int, list] = {ms: [] for ms in sizes}
    bares: dict[int, list[float]] = {ms: [] for ms in sizes}
    for _ in range(rounds):
        raws.append(raw_bound(model, signal, repeats=3))
        for chunk_ms in sizes:
            chunk = RATE * chunk_ms // 1000
            streams[chunk_ms].append(stream_rtf(model, signal, chunk))
            bares[chunk_ms].append(bare_chunked_rtf(model, signal, chunk))
    raw = min(raws)
    rows = []
    for chunk_ms in sizes:
        best = min(streams[chunk_ms], key=lambda s: s.rtf)
        bare = min(bares[chunk_ms])
        rows.append(
            {**best.to_dict(), "vs_raw": best.rtf / raw, "bare_chunked_rtf": bare,
             "vs_bare_chunked": best.rtf / bare}
        )  # fmt: skip
    return {"seconds": seconds, "rounds": rounds, "raw_bound_rtf": raw, "stream": rows}


# Peak RSS is the child's own VmHWM: ru_maxrss survives exec on Linux and would report the
# parent's (this benchmark's) memory for a small child.
FOOTPRINT_RUNTIME = """
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np
from edgeae_runtime import Model
m = Model(sys.argv[1])
m.reconstruct(np.zeros((1, 1, 256), np.float32))
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0].split()[1]
print(elapsed, cpu, hwm)
"""

# The peer: bare onnxruntime, deliberately without edgeae_runtime (so not through its
# session factory edgeae_runtime.session), with the same thread options.
FOOTPRINT_BARE = """
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np
import onnxruntime as ort
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
opts.inter_op_num_threads = 1
s = ort.InferenceSession(sys.argv[1], opts, providers=["CPUExecutionProvider"])
s.run(["reconstruction"], {"input": np.zeros((1, 1, 256), np.float32)})
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0].split()[1]
print(elapsed, cpu, hwm)
"""


def _child(code: str, path: Path, env: dict[str, str]) -> tuple[float, float, float, float]:
    """One fresh process: (process wall s, import+load+infer wall s, its CPU s, peak RSS MB)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True, env=env
    )
    wall = time.perf_counter() - t0
    seconds, cpu, maxrss_kb = proc.stdout.split()
    return wall, float(seconds), float(cpu), int(maxrss_kb) / 1024.0


def footprint(path: Path, repeats: int, *, bytecode: bool) -> dict:
    """Fresh-process import + load + one inference: wall/CPU time and peak RSS, runtime vs
    bare ORT, interleaved (runtime, bare, runtime, ...) so both see the same machine load.

    ``bytecode``: modules load from cached bytecode (as installed; a fresh cache and one
    warm-up run each), else every start compiles the source tree (PYTHONDONTWRITEBYTECODE).
    """
    peers = (("edgeae_runtime", FOOTPRINT_RUNTIME), ("bare onnxruntime", FOOTPRINT_BARE))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ)
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
            for _, code in peers:
                _child(code, path, env)
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env.pop("PYTHONPYCACHEPREFIX", None)
        runs: dict[str, list[tuple[float, float, float, float]]] = {n: [] for n, _ in peers}
        for _ in range(repeats):
            for name, code in peers:
                runs[name].append(_child(code, path, env))
    out = {}
    for name, rows in runs.items():
        wall, inner, cpu, rss = (float(np.median(col)) for col in zip(*rows, strict=True))
        out[name] = {"process_wall_s": wall, "import_load_infer_s": inner,
                     "import_load_infer_cpu_s": cpu, "peak_rss_mb": rss}  # fmt: skip
    return out


MEMORY = """
import sys, numpy as np
from edgeae_runtime import Model, StreamDenoiser

def rss_mb():
    with open("/proc/self/statm") as fh:
        import os
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

m = Model(sys.argv[1])
den = StreamDenoiser(m)
minutes = int(sys.argv[2])
chunk = np.random.default_rng(0).standard_normal(1600).astype(np.float32) * 0.1
marks = {}
for minute in range(1, minutes + 1):
    for _ in range(600):  # 600 chunks of 100 ms = one minute
        den.push(chunk)
    if minute in (1, minutes):
        marks[minute] = rss_mb()
print(marks[1], marks[minutes])
"""


def memory(path: Path, minutes: int) -> dict:
    """RSS after streaming 1 minute and ``minutes`` minutes through one StreamDenoiser."""
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY, str(path), str(minutes)],
        capture_output=True,
        text=True,
        check=True,
    )
    one, many = map(float, proc.stdout.split())
    return {"minutes": minutes, "rss_after_1_min_mb": one, "rss_after_end_mb": many,
            "growth_mb": many - one}  # fmt: skip


def markdown(res: dict) -> str:
    """The report printed on stdout."""
    s = res["streaming"]
    lines = [
        f"Model: conv1d autoencoder, float32, 16 kHz mono, window {WINDOW}, hop {HOP}, "
        f"1 thread; signal {s['seconds']:g} s; best of {s.get('rounds', 3)} interleaved rounds.",
        "",
        "| path | chunk | RTF | vs raw bound | bare ORT, same chunks: RTF | vs it "
        "| RTF from median chunk | vs raw | chunk p50 (ms) | chunk p99 (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| raw onnxruntime (one batched call) | whole signal | {s['raw_bound_rtf']:.4f} | 1.00x "
        "| - | - | - | - | - | - |",
    ]
    for row in s["stream"]:
        lines.append(
            f"| StreamDenoiser | {row['chunk_ms']:g} ms | {row['rtf']:.4f} | {row['vs_raw']:.2f}x "
            f"| {row['bare_chunked_rtf']:.4f} | {row['vs_bare_chunked']:.2f}x "
            f"| {row['rtf_p50']:.4f} | {row['rtf_p50'] / s['raw_bound_rtf']:.2f}x "
            f"| {row['chunk_p50_ms']:.3f} | {row['chunk_p99_ms']:.3f} |"
        )
    at100 = next(r for r in s["stream"] if r["chunk_ms"] == 100)
    ok = "met" if at100["vs_raw"] <= TARGET_RATIO else "MISSED"
    lines += ["", f"Target RTF within {TARGET_RATIO}x of raw at 100 ms chunks: {ok} "
              f"({at100['vs_raw']:.2f}x).", "",
              "| footprint (fresh process) | import+load+1 inference (s) | vs bare | its CPU (s) "
              "| vs bare | process wall (s) | peak RSS (MB) |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for label, key in (("", "footprint"), (", no cached bytecode", "footprint_no_bytecode")):
        bare = res[key]["bare onnxruntime"]
        for name, f in res[key].items():
            lines.append(
                f"| {name}{label} | {f['import_load_infer_s']:.3f} "
                f"| {f['import_load_infer_s'] / bare['import_load_infer_s']:.2f}x "
                f"| {f['import_load_infer_cpu_s']:.3f} "
                f"| {f['import_load_infer_cpu_s'] / bare['import_load_infer_cpu_s']:.2f}x "
                f"| {f['process_wall_s']:.3f} | {f['peak_rss_mb']:.1f} |"
            )
    rt = res["footprint"]["edgeae_runtime"]
    ok = rt["import_load_infer_s"] <= TARGET_SECONDS and rt["peak_rss_mb"] <= TARGET_MB
    m = res["memory"]
    lines += [
        "",
        f"Footprint target <= {TARGET_SECONDS} s and <= {TARGET_MB:g} MB: "
        f"{'met' if ok else 'MISSED'}.",
        "",
        f"Memory while streaming: RSS {m['rss_after_1_min_mb']:.1f} MB after 1 minute, "
        f"{m['rss_after_end_mb']:.1f} MB after {m['minutes']} minutes "
        f"(growth {m['growth_mb']:+.1f} MB).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short signal, 10-minute memory run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = build_model(Path(tmp) / "model.onnx")
        model = Model(path, threads=1)
        res = {
            "quick": args.quick,
            "model": "bench-conv1d float32, window 256, hop 128, 16 kHz",
            "streaming": streaming(model, 10.0 if args.quick else 60.0, 2 if args.quick else 5),
            "footprint": footprint(path, 3 if args.quick else 15, bytecode=True),
            "footprint_no_bytecode": footprint(path, 3 if args.quick else 15, bytecode=False),
            "memory": memory(path, 10 if args.quick else 60),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    print(markdown(res))


if __name__ == "__main__":
    main()
