"""The ``build`` phase of the peers benchmark (bench_peers.py): train, export and quantize
every model of ``SPECS`` into the work directory (its index: ``models.json``), with the
task metric of its float and int8 files on held-out data; the pretrained denoiser's
float twin (``strip_qdq``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from peers_common import DCASE, PRETRAINED, ROOT, SPECS, Spec, log, slug


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
