"""The ``time`` phase of the peers benchmark (bench_peers.py): the peers of one model
(torch eager, onnxruntime under edgeae's and other session options, fp16 and fp16
storage, OpenVINO) and ``time_all``: every (model, batch, peer) in interleaved rounds,
the practical int8 peak, the streaming real-time factor and the int8 kernel profile."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from peers_common import BATCHES, ROOT, log, slug


def fp16_storage(path: str | Path) -> Any:
    """The float model with its float weights stored as float16, each behind a Cast to
    float (onnxruntime folds the Casts when it loads the file: float compute, half the
    weight bytes)."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(str(path))
    g = m.graph
    keep, casts = [], []
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype != np.float32 or arr.size < 16:
            keep.append(init)
            continue
        half = numpy_helper.from_array(arr.astype(np.float16), f"{init.name}_fp16")
        keep.append(half)
        casts.append(
            helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT,
                             name=f"{init.name}_cast")
        )
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return m


def _item_batch(entry: dict, batch: int) -> np.ndarray:
    import onnxruntime as ort

    from edgeae_runtime.session import batch_shape

    sess = ort.InferenceSession(entry["fp32"], providers=["CPUExecutionProvider"])
    shape = batch_shape(sess, batch)  # an image model's spatial axes: its item's size
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _torch_module(entry: dict) -> Any:
    import torch

    from edgeae.models import ARCHS

    torch.set_num_threads(1)
    if entry.get("run"):
        from edgeae.train import load_checkpoint

        return load_checkpoint(entry["run"]).model.eval()
    from edgeae_runtime.model import Model

    man = Model(entry["int8"]).manifest
    cfg = dict(man.arch_config)
    cfg["item_shape"] = tuple(man.item_shape)
    torch.manual_seed(0)
    return ARCHS[man.arch].model(ARCHS[man.arch].config(**cfg)).eval()


def _ort_runner(path: str, x: np.ndarray, **kw: Any) -> tuple[Callable[[], Any], float]:
    """A callable running ``path`` on ``x`` and the session's open time in ms."""
    import onnxruntime as ort

    from edgeae_runtime.session import session_options

    threads = kw.pop("threads", 1)
    spin = kw.pop("spin", None)
    opts = session_options(threads, **kw)
    if spin is not None:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    t0 = time.perf_counter()
    sess = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    open_ms = 1e3 * (time.perf_counter() - t0)
    feed = {sess.get_inputs()[0].name: x}
    return (lambda: sess.run(None, feed)), open_ms


def _ov_runner(path: str, x: np.ndarray) -> tuple[Callable[[], Any], float]:
    import openvino as ov

    core = ov.Core()
    t0 = time.perf_counter()
    model = core.read_model(path)
    model.reshape({model.input(0): list(x.shape)})
    compiled = core.compile_model(
        model,
        "CPU",
        {
            "INFERENCE_NUM_THREADS": 1,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32",
        },
    )
    open_ms = 1e3 * (time.perf_counter() - t0)
    req = compiled.create_infer_request()
    return (lambda: req.infer({0: x})), open_ms


def _have_openvino() -> str | None:
    try:
        import openvino as ov

        return ov.__version__ if hasattr(ov, "__version__") else ov.get_version()
    except ImportError:
        return None


def _size(path: str | Path) -> int:
    return Path(path).stat().st_size


def _stale(derived: Path, source: str | Path) -> bool:
    """A file made from ``source`` is missing or older than it (a rebuilt model)."""
    return not derived.exists() or derived.stat().st_mtime < Path(source).stat().st_mtime


def peers_of(entry: dict, x: np.ndarray, work: Path, ov: bool) -> dict[str, tuple]:
    """Label -> (callable, session open ms, file bytes) for one model at one batch."""
    import torch

    fp32, int8 = entry["fp32"], entry["int8"]
    module = entry["_module"]
    xt = torch.from_numpy(x)
    here = work / slug(entry["tag"])

    def eager() -> Any:
        with torch.no_grad():
            return module(xt)

    out: dict[str, tuple] = {"torch eager": (eager, 0.0, None)}

    def ort_peer(label: str, path: str | Path, **kw: Any) -> None:
        out[label] = (*_ort_runner(str(path), x, **kw), _size(path))

    ort_peer("ORT fp32", fp32)
    ort_peer("ORT int8 (edgeae)", int8)
    ort_peer("ORT int8, level extended (no NHWC)", int8, optimization="extended")
    ort_peer("ORT int8, level basic", int8, optimization="basic")
    saved = here / "model.int8.optimized.onnx"
    if _stale(saved, int8):
        _ort_runner(int8, x, optimized_path=saved)
    ort_peer("ORT int8, saved optimized graph", saved, optimization="disable")
    ort_peer("ORT int8, 2 threads, spinning", int8, threads=2, spin=True)
    ort_peer("ORT int8, 2 threads, no spinning", int8, threads=2, spin=False)
    if entry.get("fp16"):
        ort_peer("ORT fp16 (edgeae fp16 mode: fp16 compute)", entry["fp16"])
    stored = here / "model.fp16-storage.onnx"
    if _stale(stored, fp32):
        stored.write_bytes(fp16_storage(fp32).SerializeToString())
    ort_peer("ORT fp16 storage, float compute", stored)
    if ov:
        out["OpenVINO fp32"] = (*_ov_runner(fp32, x), _size(fp32))
        out["OpenVINO int8 (same QDQ file)"] = (*_ov_runner(int8, x), _size(int8))
    return out


def _stream_rtf(path: str, tag: str) -> dict[str, float] | None:
    """Real-time factor of the runtime's stream on 10 s of signal, one thread."""
    from edgeae_runtime.model import Model
    from edgeae_runtime.speech import open_denoiser

    m = Model(path, threads=1)
    sig = m.manifest.signal
    if sig is None:
        return None
    n = 10 * sig.sample_rate
    rng = np.random.default_rng(0)
    # a spectral model streams mono samples; a window model (channels, samples)
    shape = (n,) if m.manifest.spectral is not None else (sig.channels, n)
    signal = (0.1 * rng.standard_normal(shape)).astype(np.float32)
    chunk = sig.sample_rate // 50  # 20 ms
    den = open_denoiser(m)
    t0 = time.perf_counter()
    for i in range(0, n, chunk):
        den.push(signal[..., i : i + chunk])
    den.flush()
    total = time.perf_counter() - t0
    return {"chunk_ms": 20.0, "rtf": total / (n / sig.sample_rate)}


def _kernels(pm: Any) -> list[Any]:
    """A profile's int8 MAC kernels (QLinearConv, QGemm: the nodes with MACs)."""
    return [n for n in pm.nodes if n.int8 and n.gmacs]


def _kernel_rate(pm: Any) -> float:
    """GMAC/s of a profile's int8 MAC kernels together (their MACs over their kernel time)."""
    kernels = _kernels(pm)
    us = sum(n.kernel_us_per_item for n in kernels)
    return sum(n.macs for n in kernels) / (us * 1e3) if us else 0.0


def time_all(work: Path, rounds: int, budget: float, only: list[str] | None) -> dict[str, Any]:
    from edgeae_export.bench import measure_callable
    from edgeae_export.perf_model import count_macs, measure_peak, performance_model

    entries = json.loads((work / "models.json").read_text())
    if only:
        entries = [e for e in entries if slug(e["tag"]) in only]
    ov = _have_openvino() is not None
    peak = measure_peak(budget_s=budget)
    log(f"peak int8 {peak.int8_gmacs:.0f} fp32 {peak.fp32_gmacs:.0f} GMAC/s")
    runners: dict[tuple[str, int], dict[str, tuple]] = {}
    for e in entries:
        e["_module"] = _torch_module(e)
        e["macs"] = int(sum(n.macs or 0 for n in count_macs(e["fp32"])))
        for b in BATCHES:
            runners[(e["tag"], b)] = peers_of(e, _item_batch(e, b), work, ov)
    times: dict[tuple[str, int, str], list[float]] = {}
    rtf: dict[tuple[str, str], list[float]] = {}
    for r in range(rounds):
        log(f"round {r + 1}/{rounds}")
        for e in entries:
            for b in BATCHES:
                for label, (fn, *_) in runners[(e["tag"], b)].items():
                    lat = measure_callable(fn, batch=b, budget_s=budget)
                    times.setdefault((e["tag"], b, label), []).append(lat.median_us)
            for kind in ("fp32", "int8"):
                s = _stream_rtf(e[kind], e["tag"])
                if s is not None:
                    rtf.setdefault((e["tag"], kind), []).append(s["rtf"])
    peak_end = measure_peak(budget_s=budget)
    best_peak = max(peak.int8_gmacs, peak_end.int8_gmacs)  # the practical peak: best probe
    # the profile, like every figure, in interleaved rounds: the kernel rate moves between runs
    profiles: dict[str, list[Any]] = {}
    for _ in range(rounds):
        for e in entries:
            pm = performance_model(e["int8"], batch=256, budget_s=budget, peak=peak, runs=5)
            profiles.setdefault(e["tag"], []).append(pm)
    slowest = {}
    for e in entries:
        rates = [_kernel_rate(pm) for pm in profiles[e["tag"]]]
        pm = sorted(profiles[e["tag"]], key=_kernel_rate)[len(rates) // 2]  # the median round
        top = pm.nodes[0]
        slowest[e["tag"]] = {
            "int8_kernel_gmacs": float(np.median(rates)) if all(rates) else None,
            "int8_kernel_gmacs_min": min(rates),
            "int8_kernel_gmacs_max": max(rates),
            "int8_kernel_time_share": sum(n.time_share for n in _kernels(pm)),
            "node": top.name,
            "op": top.op,
            "time_share": top.time_share,
            "gmacs": top.gmacs,
            "qdq_share": pm.qdq_share,
            "layout_share": pm.layout_share,
        }
    models = []
    for e in entries:
        rows: list[dict[str, Any]] = []
        labels = list(runners[(e["tag"], 1)])
        for label in labels:
            row: dict[str, Any] = {"peer": label}
            for b in BATCHES:
                us = times[(e["tag"], b, label)]
                base = times[(e["tag"], b, "ORT fp32")]
                torch_us = times[(e["tag"], b, "torch eager")]
                row[f"us_b{b}"] = float(np.median(us))
                row[f"us_b{b}_min"] = float(min(us))
                row[f"us_b{b}_max"] = float(max(us))
                row[f"vs_ort_fp32_b{b}"] = float(np.median(np.array(base) / np.array(us)))
                row[f"vs_torch_b{b}"] = float(np.median(np.array(torch_us) / np.array(us)))
                row[f"gmacs_b{b}"] = e["macs"] * b / (row[f"us_b{b}"] * 1e3)
                row[f"open_ms_b{b}"] = runners[(e["tag"], b)][label][1]
                row["bytes"] = runners[(e["tag"], b)][label][2]
            row["share_int8_peak_b256"] = row["gmacs_b256"] / best_peak
            rows.append(row)
        models.append(
            {
                "tag": e["tag"],
                "macs_per_item": e["macs"],
                "epochs": e.get("epochs"),
                "config": e.get("config"),
                "quality": e.get("quality", {}),
                "rows": rows,
                "stream_rtf": {
                    kind: {
                        "median": float(np.median(v)),
                        "min": float(min(v)),
                        "max": float(max(v)),
                    }
                    for (tag, kind), v in rtf.items()
                    if tag == e["tag"]
                },
                "slowest_int8_node": slowest[e["tag"]],
            }
        )
    return {
        "rounds": rounds,
        "budget_s": budget,
        "peak": peak.to_dict(),
        "peak_end": peak_end.to_dict(),
        "best_peak": best_peak,
        "openvino": _have_openvino(),
        "isa": _machine_isa(),
        "models": models,
    }


def _machine_isa() -> str:
    """This CPU's int8-relevant flags, as run_all's machine record names them."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run_all import machine

    return machine()["isa"]
