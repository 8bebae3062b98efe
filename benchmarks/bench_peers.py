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
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PRETRAINED = ROOT / "runtime" / "edgeae_runtime" / "pretrained" / "speech-denoiser.onnx"
DCASE = ROOT.parent / "shared" / "data" / "machine" / "dcase2020_task2_id00"
BATCHES = (1, 256)
TARGETS = {"int8_vs_fp32": 2.0, "share_of_int8_peak": 0.70, "speech_rtf_20ms": 0.05}


@dataclass(frozen=True)
class Spec:
    """One model of the table: how it is trained (None for the pretrained denoiser)."""

    tag: str
    source: str
    arch: str | None = None  # None: the recipe's
    model: dict[str, Any] = field(default_factory=dict)  # on top of the recipe's
    epochs: int = 10
    eval_source: str | None = None  # held-out data (other seed); None: the held-out split
    metric: str = "psnr"
    recipe: bool = True  # the decoder the recipe ships (False: the alternative measured)


SPECS = (
    Spec("digits dense2d", "builtin:digits", epochs=30),
    # the rows without "subpixel" pin the upsample decoder (the conv default before issue 14)
    Spec("digits conv2d", "builtin:digits", "conv2d", {"decoder": "upsample"}, epochs=30,
         recipe=False),
    Spec("digits conv2d subpixel", "builtin:digits", "conv2d", {"decoder": "subpixel"},
         epochs=30, recipe=False),
    Spec("sensor conv1d", "builtin:sensor", model={"decoder": "upsample"}, epochs=15,
         eval_source="builtin:sensor?seed=1", metric="auroc"),
    Spec("sensor conv1d subpixel", "builtin:sensor", model={"decoder": "subpixel"}, epochs=15,
         eval_source="builtin:sensor?seed=1", metric="auroc", recipe=False),
    Spec("tones conv1d", "builtin:tones", model={"decoder": "upsample"}, epochs=8,
         eval_source="builtin:tones?seed=1", recipe=False),
    Spec("tones conv1d subpixel", "builtin:tones", model={"decoder": "subpixel"}, epochs=8,
         eval_source="builtin:tones?seed=1"),
    Spec("machine ad01", "logmel:", epochs=6, metric="none"),
    Spec("speech denoiser (pretrained)", "pretrained", metric="none"),
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def slug(tag: str) -> str:
    return tag.split(" (")[0].replace(" ", "-")


# -- build ---------------------------------------------------------------------------


def _dcase_dir(work: Path) -> Path | None:
    files = sorted((DCASE / "train").glob("*.wav"))
    if not files:
        return None
    d = work / "dcase_train"
    d.mkdir(parents=True, exist_ok=True)
    for f in files[:60]:
        if not (d / f.name).exists():
            (d / f.name).symlink_to(f)
    return d


def _eval_quality(spec: Spec, files: dict[str, Path], ckpt: Any, ds: Any) -> dict[str, Any]:
    """The task metric of the float and int8 files on held-out data."""
    from edgeae.data import load_source
    from edgeae.data.split import split_indices
    from edgeae_runtime.metrics import auroc, psnr, psnr_peak
    from edgeae_runtime.model import Model

    if spec.metric == "none":
        return {}
    if spec.eval_source:
        ev = load_source(spec.eval_source)
        x, ref, labels = ev.x, ev.target if ev.target is not None else ev.x, ev.anomaly_labels
        where = spec.eval_source
    else:
        _, val = split_indices(len(ds), ckpt.train_config.get("val_fraction", 0.1), 0)
        x = ds.x[val]
        ref = x if ds.target is None else ds.target[val]
        labels, where = None, f"{spec.source} held-out split ({val.size} items)"
    out: dict[str, Any] = {"metric": spec.metric, "data": where}
    span = psnr_peak(ckpt.preprocessing.value_range)
    for kind in ("fp32", "int8"):
        m = Model(files[kind])
        if spec.metric == "auroc":
            out[kind] = auroc(m.score(x), labels)
        else:
            out[kind] = psnr(ref, m.reconstruct(x), data_range=span)
    return out


def build_one(spec: Spec, work: Path, quick: bool) -> dict[str, Any] | None:
    """Train, export, quantize (static int8 within the budget, and fp16) one spec."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_export import _budget, _quantize

    from edgeae.data import load_source
    from edgeae.train import TrainConfig, load_checkpoint, recipe_arch, recipe_for, train
    from edgeae_export.exporter import export_autoencoder
    from edgeae_export.sampling import EXPORT_SAMPLES, sample_indices, sample_items
    from edgeae_runtime.preprocess import normalize

    out = work / slug(spec.tag)
    if spec.source == "pretrained":
        out.mkdir(parents=True, exist_ok=True)
        fp32 = out / "model.onnx"
        fp32.write_bytes(strip_qdq(PRETRAINED).SerializeToString())
        return {"tag": spec.tag, "fp32": str(fp32), "int8": str(PRETRAINED), "quality": {}}
    source = spec.source
    if source == "logmel:":
        d = _dcase_dir(work)
        if d is None:
            log(f"skip {spec.tag}: {DCASE} absent")
            return None
        source = f"logmel:{d}"
    ds = load_source(source)
    model_over, train_over = recipe_for(source, spec.arch)
    model_over = {**model_over, **spec.model}
    epochs = 2 if quick else spec.epochs
    train_over = {**train_over, "epochs": epochs}
    if "batch_size" in train_over:
        train_over["batch_size"] = min(train_over["batch_size"], max(16, len(ds.x) // 4))
    run = out / "run"
    t0 = time.perf_counter()
    train(
        ds,
        spec.arch or recipe_arch(source),
        model_over,
        TrainConfig(**train_over),
        run,
        progress=False,
        data_source=source,
        force=True,
    )
    train_s = time.perf_counter() - t0
    ckpt = load_checkpoint(run)
    val_idx = sample_indices(len(ds), 512)  # THE sample: calibration, budget and quality items
    example = normalize(sample_items(ds.x, EXPORT_SAMPLES), ckpt.preprocessing)  # `edgeae export`'s
    export_autoencoder(
        ckpt.model, out_dir=out, example_inputs=example, info=ckpt.export_info(source), force=True
    )
    fp32 = out / "model.onnx"
    if spec.metric == "none":  # ad01: no labelled validation here; the default budget-free int8
        int8 = _quantize(fp32, ds, val_idx, "static", out / "model.int8.onnx")
    else:
        int8 = _quantize(fp32, ds, val_idx, "static", out / "model.int8.onnx",
                         **_budget(ds, val_idx))
    fp16 = _quantize(fp32, ds, val_idx, "fp16", out / "model.fp16.onnx")
    files = {"fp32": fp32, "int8": int8}
    return {
        "tag": spec.tag,
        "fp32": str(fp32),
        "int8": str(int8),
        "fp16": str(fp16),
        "run": str(run),
        "epochs": ckpt.epoch,
        "train_seconds": round(train_s, 1),
        "config": ckpt.model_config,
        "quality": _eval_quality(spec, files, ckpt, ds),
    }


#: The decoder checks beyond the one training seed of the peers table: (case, source, arch,
#: epochs, training seeds, metric). Float models; each case writes DIR/decoders-CASE.json.
DECODER_CASES = {
    "sensor15": ("builtin:sensor", None, 15, (0, 1, 2), "auroc"),
    "sensor60": ("builtin:sensor", None, 60, (0,), "auroc"),
    "digits": ("builtin:digits", "conv2d", 30, (0, 1, 2), "psnr"),
    "tones25": ("builtin:tones", None, 25, (0,), "snr"),
}


def decoder_case(case: str, work: Path, quick: bool) -> list[dict]:
    """Train upsample and sub-pixel at equal settings per seed; the task metric on
    held-out data (sensor: AUROC on the seed-1 and seed-2 sets; digits: PSNR on the
    training run's held-out split)."""
    import torch

    from edgeae.data import load_source
    from edgeae.data.split import split_indices
    from edgeae.train import TrainConfig, load_checkpoint, recipe_arch, recipe_for, train
    from edgeae_export.exporter import export_autoencoder
    from edgeae_export.sampling import EXPORT_SAMPLES, sample_items
    from edgeae_runtime.metrics import auroc, psnr, psnr_peak
    from edgeae_runtime.model import Model
    from edgeae_runtime.preprocess import normalize

    torch.set_num_threads(1)
    source, arch, epochs, seeds, metric = DECODER_CASES[case]
    epochs = 2 if quick else epochs
    ds = load_source(source)
    evals = [load_source(f"{source}?seed={k}") for k in (1, 2)] if metric == "auroc" else []
    rows = []
    for seed in seeds:
        for dec in ("upsample", "subpixel"):
            mo, to = recipe_for(source, arch)
            run = work / "decoders" / f"{case}-{dec}-{seed}"
            train(ds, arch or recipe_arch(source), {**mo, "decoder": dec},
                  TrainConfig(**{**to, "epochs": epochs, "seed": seed}), run, progress=False,
                  data_source=source, force=True)
            ck = load_checkpoint(run)
            example = normalize(sample_items(ds.x, EXPORT_SAMPLES), ck.preprocessing)
            export_autoencoder(ck.model, out_dir=run / "onnx", info=ck.export_info(source),
                               example_inputs=example, force=True)
            m = Model(run / "onnx" / "model.onnx")
            if metric == "auroc":
                values = [float(auroc(m.score(e.x), e.anomaly_labels)) for e in evals]
            elif metric == "snr":
                values = [_recording_snr(m)]
            else:
                _, val = split_indices(len(ds), 0.1, seed)
                span = psnr_peak(ck.preprocessing.value_range)
                values = [float(psnr(ds.x[val], m.reconstruct(ds.x[val]), data_range=span))]
            rows.append({"case": case, "decoder": dec, "seed": seed, "epochs": ck.epoch,
                         "metric": metric, "values": values})
            log(f"decoders {rows[-1]}")
    (work / f"decoders-{case}.json").write_text(json.dumps(rows, indent=2))
    return rows


def _recording_snr(model: Any) -> float:
    """SNR (dB) of the held-out tones recording (builtin:tones?seed=101, what the demo
    denoises) after the runtime's stream, 100 ms chunks."""
    from edgeae.data import load_source
    from edgeae_runtime import metrics
    from edgeae_runtime.stream import StreamDenoiser

    ds = load_source("builtin:tones?seed=101")
    noisy, clean, rate = ds.signal, ds.clean_signal, int(ds.sample_rate)
    den = StreamDenoiser(model)
    chunk = rate // 10
    parts = [den.push(noisy[:, i : i + chunk]) for i in range(0, noisy.shape[1], chunk)]
    return float(metrics.snr_db(clean, np.concatenate([*parts, den.flush()], axis=1)))


def held_out_snr(work: Path) -> list[dict]:
    """The tones recipe's own metric on the peers models: SNR of the held-out recording
    (``builtin:tones?seed=101``, what the demo denoises) through the runtime's stream."""
    from edgeae.data import load_source
    from edgeae_runtime import metrics
    from edgeae_runtime.model import Model
    from edgeae_runtime.stream import StreamDenoiser

    ds = load_source("builtin:tones?seed=101")
    noisy, clean, rate = ds.signal, ds.clean_signal, int(ds.sample_rate)
    rows = []
    for tag in ("tones-conv1d", "tones-conv1d-subpixel"):
        for kind in ("model.onnx", "model.int8.onnx"):
            path = work / tag / kind
            if not path.exists():
                continue
            den = StreamDenoiser(Model(path))
            chunk = rate // 10
            parts = [den.push(noisy[:, i : i + chunk]) for i in range(0, noisy.shape[1], chunk)]
            out = np.concatenate([*parts, den.flush()], axis=1)
            rows.append({"model": tag, "file": kind, "snr_in_db": metrics.snr_db(clean, noisy),
                         "snr_out_db": metrics.snr_db(clean, out)})
    (work / "decoders-tones.json").write_text(json.dumps(rows, indent=2))
    return rows


def decoders_markdown(work: Path) -> list[str]:
    """The decoder checks found in ``work`` as Markdown lines (empty when none ran)."""
    lines: list[str] = []
    rows = []
    for case in DECODER_CASES:
        f = work / f"decoders-{case}.json"
        if f.exists():
            rows += json.loads(f.read_text())
    if rows:
        lines += [
            "",
            "### Decoders at equal training, more seeds (float; "
            "`bench_peers.py decoders --case CASE`)",
            "",
            "| case | epochs | training seed | metric (held-out) | upsample | sub-pixel |",
            "|---|---|---|---|---|---|",
        ]
        for case in DECODER_CASES:
            for seed in DECODER_CASES[case][3]:
                pair = {r["decoder"]: r for r in rows if r["case"] == case and r["seed"] == seed}
                if len(pair) < 2:
                    continue
                what = {
                    "auroc": "AUROC on builtin:sensor?seed=1 / ?seed=2",
                    "psnr": "PSNR dB, held-out split",
                    "snr": "SNR dB, held-out recording (seed 101)",
                }[pair["upsample"]["metric"]]
                fmt = " / ".join
                lines.append(
                    f"| {case} | {pair['upsample']['epochs']} | {seed} | {what} | "
                    f"{fmt(f'{v:.3f}' for v in pair['upsample']['values'])} | "
                    f"{fmt(f'{v:.3f}' for v in pair['subpixel']['values'])} |"
                )
    f = work / "decoders-tones.json"
    if f.exists():
        lines += ["", "Tones, held-out recording (builtin:tones?seed=101, 100 ms chunks), the "
                  "peers table's 8-epoch models:", ""]
        for r in json.loads(f.read_text()):
            lines.append(f"- {r['model']} {r['file']}: SNR {r['snr_in_db']:.2f} -> "
                         f"{r['snr_out_db']:.2f} dB")
    return lines


def build(work: Path, quick: bool, only: list[str] | None) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    index = work / "models.json"
    done = {m["tag"]: m for m in json.loads(index.read_text())} if index.exists() else {}
    for spec in SPECS:
        if only and slug(spec.tag) not in only:
            continue
        log(f"build {spec.tag}")
        m = build_one(spec, work, quick)
        if m is not None:
            done[spec.tag] = m
            log(f"  quality {m['quality']}")
        index.write_text(json.dumps(list(done.values()), indent=2, default=str))
    return list(done.values())


def strip_qdq(path: Path) -> Any:
    """The float graph of a QDQ file: weights dequantized into float initializers,
    activation Quantize -> Dequantize pairs removed (the shipped int8 denoiser has no
    float file; this is its float twin, same weights up to int8 rounding)."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(path))
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    rename: dict[str, str] = {}
    keep, new_inits = [], {}
    q_in = {n.output[0]: n.input[0] for n in g.node if n.op_type == "QuantizeLinear"}
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            q = inits[n.input[0]].astype(np.float64)
            scale = inits[n.input[1]].astype(np.float64)
            zp = inits[n.input[2]].astype(np.float64) if len(n.input) > 2 else 0.0
            axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
            if np.ndim(scale) == 1 and q.ndim > 1:
                shape = [1] * q.ndim
                shape[axis] = -1
                scale = scale.reshape(shape)
                zp = np.reshape(zp, shape) if np.ndim(zp) == 1 else zp
            new_inits[n.output[0]] = ((q - zp) * scale).astype(np.float32)
        elif n.op_type == "DequantizeLinear" and n.input[0] in q_in:
            rename[n.output[0]] = q_in[n.input[0]]
        elif n.op_type == "QuantizeLinear" and n.input[0] not in inits:
            continue
        else:
            keep.append(n)
    for n in keep:
        for i, name in enumerate(n.input):
            while name in rename:
                name = rename[name]
            n.input[i] = name
    outputs = {o.name for o in g.output}
    for o in list(outputs):
        if o in rename:
            src = rename[o]
            while src in rename:
                src = rename[src]
            keep.append(onnx.helper.make_node("Identity", [src], [o], name=f"{o}_identity"))
    used = {i for n in keep for i in n.input}
    del g.node[:]
    g.node.extend(keep)
    kept_inits = [i for i in g.initializer if i.name in used and i.name not in new_inits]
    del g.initializer[:]
    g.initializer.extend(kept_inits)
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in new_inits.items() if k in used)
    return m


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


# -- time ----------------------------------------------------------------------------


def _item_batch(entry: dict, batch: int) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(entry["fp32"], providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [batch, *inp.shape[1:]]
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


# -- report --------------------------------------------------------------------------


def _spread(r: dict, b: int) -> str:
    return f"{r[f'us_b{b}']:.0f} ({r[f'us_b{b}_min']:.0f}-{r[f'us_b{b}_max']:.0f})"


MAIN_PEERS = (
    "torch eager",
    "ORT fp32",
    "ORT int8 (edgeae)",
    "OpenVINO fp32",
    "OpenVINO int8 (same QDQ file)",
)


def markdown(res: dict[str, Any]) -> str:
    p, pe = res["peak"], res["peak_end"]
    ov = res["openvino"]
    lines = [
        f"1 thread unless stated, {res['rounds']} interleaved rounds (every model x batch x "
        "peer once per round); µs per call: median of the rounds (min-max); ratios are "
        "medians of per-round ratios. GMAC/s from MACs counted in the ONNX graph; share of "
        "the practical int8 peak = the best of the GEMM probes (edgeae_export.perf_model: "
        f"256- and 1024-cube uint8 x int8 MatMulInteger) at the start and the end: "
        f"{max(p['int8_gmacs'], pe['int8_gmacs']):.0f} GMAC/s (start {p['int8_gmacs']:.0f}, "
        f"end {pe['int8_gmacs']:.0f}; fp32 {p['fp32_gmacs']:.0f} / {pe['fp32_gmacs']:.0f}). "
        + _isa_sentence(p, res.get("isa", ""))
        + " "
        + (f"OpenVINO {ov} (pip package, CPU plugin, f32 precision hint, static shape per "
           "batch)." if ov else "OpenVINO: not installed (`pip install openvino`).")
        + " Models trained briefly (speed is the point; quality below is at equal training).",
        "",
        "### Peers (batch 1 and 256)",
        "",
        "| model | MMACs/item | peer | µs b=1 | µs b=256 | vs ORT fp32 b=1 | vs ORT fp32 "
        "b=256 | vs torch b=256 | GMAC/s b=256 | % int8 peak |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in res["models"]:
        for r in m["rows"]:
            if r["peer"] not in MAIN_PEERS:
                continue
            lines.append(
                f"| {m['tag']} | {m['macs_per_item'] / 1e6:.3f} | {r['peer']} | {_spread(r, 1)} "
                f"| {_spread(r, 256)} | {r['vs_ort_fp32_b1']:.2f}x | {r['vs_ort_fp32_b256']:.2f}x "
                f"| {r['vs_torch_b256']:.2f}x | {r['gmacs_b256']:.1f} | "
                f"{100 * r['share_int8_peak_b256']:.0f}% |"
            )
    lines += [
        "",
        "### Session options and storage, same int8 file (vs edgeae's default session)",
        "",
        "| model | variant | µs b=1 | µs b=256 | vs default b=1 | vs default b=256 | "
        "session open ms | file KiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in res["models"]:
        base = next(r for r in m["rows"] if r["peer"] == "ORT int8 (edgeae)")
        for r in m["rows"]:
            if r["peer"] in MAIN_PEERS[:2]:
                continue
            lines.append(
                f"| {m['tag']} | {r['peer']} | {_spread(r, 1)} | {_spread(r, 256)} | "
                f"{base['us_b1'] / r['us_b1']:.2f}x | {base['us_b256'] / r['us_b256']:.2f}x | "
                f"{r['open_ms_b1']:.0f} | {r['bytes'] / 1024:.0f} |"
            )
    lines += [
        "",
        "### Streaming (runtime stream, 20 ms chunks, 10 s of signal, 1 thread) and the "
        "slowest int8 node (profiler, batch 256; the median of the rounds)",
        "",
        "| model | RTF fp32 | RTF int8 | streams per core (int8) | slowest int8 node | its "
        "share | its GMAC/s | int8 MAC kernels: GMAC/s (min-max; % of peak, % of time) | Q/DQ "
        "share | "
        "layout share |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in res["models"]:
        s, n = m["stream_rtf"], m["slowest_int8_node"]

        def fmt(k: str, s: dict = s) -> str:
            v = s.get(k)
            return f"{v['median']:.4f} ({v['min']:.4f}-{v['max']:.4f})" if v else "—"

        spc = f"{1 / s['int8']['median']:.0f}" if s.get("int8") else "—"
        gm = f"{n['gmacs']:.1f}" if n["gmacs"] else "—"
        kg = n.get("int8_kernel_gmacs")
        ks = (f"{kg:.1f} ({n['int8_kernel_gmacs_min']:.1f}-{n['int8_kernel_gmacs_max']:.1f}; "
              f"{100 * kg / res['best_peak']:.0f}%, {100 * n['int8_kernel_time_share']:.0f}%)"
              if kg else "—")
        lines.append(
            f"| {m['tag']} | {fmt('fp32')} | {fmt('int8')} | {spc} | {n['node']} ({n['op']}) | "
            f"{100 * n['time_share']:.0f}% | {gm} | {ks} | {100 * n['qdq_share']:.0f}% | "
            f"{100 * n['layout_share']:.0f}% |"
        )
    lines += ["", "### Quality at equal training (held-out data)", ""]
    lines += ["| model | epochs | metric | data | fp32 | int8 |", "|---|---|---|---|---|---|"]
    for m in res["models"]:
        q = m["quality"]
        if not q:
            continue
        lines.append(
            f"| {m['tag']} | {m['epochs']} | {q['metric']} | {q['data']} | {q['fp32']:.4f} | "
            f"{q['int8']:.4f} |"
        )
    lines += res.get("decoders", [])
    lines += ["", "### Targets (issue 14)", ""] + [f"- {t}" for t in targets(res)]
    return "\n".join(lines)


#: The models the toolkit ships (a recipe's decoder, the pretrained denoiser): the ones
#: the targets judge; the alternatives are measured beside them and marked.
SHIPPED = frozenset(s.tag for s in SPECS if s.recipe)


def _one_thread(peer: str) -> bool:
    """The 1-thread peers: a 2-thread session uses twice the cores, not the same budget."""
    return "2 threads" not in peer


def targets(res: dict[str, Any]) -> list[str]:
    """Each issue-14 target, met or MISSED, with its numbers (from this run only).

    Judged on the shipped models against the 1-thread peers; the alternatives (not
    shipped) get the same lines, marked, so a decoder choice can be read off them.
    edgeae's path is the int8 file except at a batch where float ran > 10 % faster:
    there `edgeae quantize` tells the user to run the float file (SpeedReport.float_faster).
    """
    from edgeae_export.speed import SpeedReport

    out = []
    for m in res["models"]:
        mark = "" if m["tag"] in SHIPPED else " (alternative, not shipped)"
        by = {r["peer"]: r for r in m["rows"] if _one_thread(r["peer"])}
        default, fp32 = by["ORT int8 (edgeae)"], by["ORT fp32"]
        # edgeae's path at a batch: the int8 file, or the float one where `edgeae quantize`
        # says float is faster at that batch (the speed gate's rule, on this run's times)
        gate = SpeedReport(
            BATCHES, tuple(fp32[f"us_b{b}"] for b in BATCHES),
            tuple(default[f"us_b{b}"] for b in BATCHES), True,
        )
        for b in BATCHES:
            ours, what = (fp32, "float file") if b in gate.float_faster() else (default, "int8")
            best = min(by.values(), key=lambda r, b=b: r[f"us_b{b}"])
            slower = ours[f"us_b{b}"] / best[f"us_b{b}"]
            # within 10 % of the fastest is within this machine's round-to-round spread
            verdict = "met" if slower <= 1.10 else "MISSED"
            if verdict == "met" and best["peer"] != ours["peer"]:
                verdict = "met (within 10 %)"
            out.append(
                f"{m['tag']}{mark} b={b}: fastest 1-thread peer {best['peer']} "
                f"({best[f'us_b{b}']:.0f} µs); edgeae's path ({what}, default session) "
                f"{ours[f'us_b{b}']:.0f} µs ({slower:.2f}x the fastest): {verdict}"
            )
        if "conv" in m["tag"] or m["tag"].startswith("speech"):  # the denoiser is Conv-only
            ratio, share = default["vs_ort_fp32_b256"], default["share_int8_peak_b256"]
            met2 = "met" if ratio >= TARGETS["int8_vs_fp32"] else "MISSED"
            node = m["slowest_int8_node"]
            conv = (node.get("int8_kernel_gmacs") or 0.0) / res["best_peak"]
            met70 = "met" if conv >= TARGETS["share_of_int8_peak"] else "MISSED"
            out.append(
                f"{m['tag']}{mark}: int8 {ratio:.2f}x ORT fp32 at b=256 (>= 2x: {met2}); its "
                f"int8 conv kernels {100 * conv:.0f}% of the int8 peak (>= 70%: {met70}; "
                f"{100 * node.get('int8_kernel_time_share', 0):.0f}% of its node time, the "
                f"whole model {100 * share:.0f}%)"
            )
        if m["tag"].startswith("speech") and m["stream_rtf"].get("int8"):
            v = m["stream_rtf"]["int8"]["median"]
            ok = "met" if v <= TARGETS["speech_rtf_20ms"] else "MISSED"
            out.append(f"speech denoiser RTF {v:.4f} at 20 ms chunks (<= 0.05: {ok})")
    return out


def _isa_sentence(peak: dict, isa: str) -> str:
    """What this CPU's int8 peak is made of (the machine's flags, the probe's ratio)."""
    ratio = peak["int8_gmacs"] / max(peak["fp32_gmacs"], 1e-9)
    if "amx_int8" in isa:
        why = ("This CPU has AMX-INT8: onnxruntime's large int8 GEMMs run on AMX tiles, the "
               "small convolutions of these models (at most 64 channels) do not, so the share "
               "is small.")
    elif "vnni" in isa:
        why = "This CPU has VNNI (one-instruction u8 x s8 dot products)."
    else:
        why = ("This CPU has AVX2 and no VNNI: int8 dot products take two instructions "
               "(vpmaddubsw, vpmaddwd).")
    return f"{why} Its int8 GEMM peak is {ratio:.2f}x its fp32 peak (same probe)."


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
