"""Tones denoiser candidates: streamed SNR on a held-out recording, int8 speed and drop, train time.

``builtin:tones`` exists for streaming denoising, so its recipe is chosen by how
much a model improves the SNR of a recording it never saw. Each candidate
(conv1d channels, latent channels, decoder, epochs, loss) is trained the way
``edgeae train builtin:tones`` trains (noisy windows in, clean windows out, seed 0
recording), exported, quantized to static int8 with ``edgeae_export.quantize_model``
(its speed gate times ORT fp32 vs int8 at batch 256, one thread), and both the float
and the int8 model denoise the held-out recording ``builtin:tones?seed=101`` through
the runtime's StreamDenoiser (100 ms chunks). PCA with the same latent size, streamed
the same way (same framing and overlap-add), is the linear baseline.

    python benchmarks/bench_denoise.py                  # all candidates, full schedules
    python benchmarks/bench_denoise.py --only recipe    # one candidate
    python benchmarks/bench_denoise.py --quick          # fast check (2 candidates, 1 epoch)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeae.data import load_source
from edgeae.models import default_config
from edgeae.train import TrainConfig, load_checkpoint, recipe_for, train
from edgeae_runtime import Model, SignalSpec, StreamDenoiser
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.framing import OverlapAdd, SignalFramer
from edgeae_runtime.metrics import snr_db
from edgeae_runtime.preprocess import normalize

RESULTS = Path(__file__).resolve().parent / "results" / "denoise.json"
TRAIN_SOURCE = "builtin:tones"
HELD_OUT = "builtin:tones?seed=101"
CHUNK = 1600  # 100 ms at 16 kHz

#: name -> (model overrides, train overrides); "recipe" is what edgeae/train/recipes.py holds.
CANDIDATES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "4 levels 32,64,64,64 latent 4 (old recipe)": (
        {"hidden": (32, 64, 64, 64), "latent": 4},
        {"epochs": 15},
    ),
    "4 levels 32,64,64,64 latent 16": ({"hidden": (32, 64, 64, 64), "latent": 16}, {"epochs": 15}),
    "3 levels 32,64,64 latent 8": ({"hidden": (32, 64, 64), "latent": 8}, {"epochs": 15}),
    "2 levels 32,64 latent 4": ({"hidden": (32, 64), "latent": 4}, {"epochs": 15}),
    "2 levels 32,64 latent 16": ({"hidden": (32, 64), "latent": 16}, {"epochs": 15}),
    "2 levels 32,32 latent 16 (old demo)": ({"hidden": (32, 32), "latent": 16}, {"epochs": 15}),
    "2 levels 64,64 latent 16": ({"hidden": (64, 64), "latent": 16}, {"epochs": 15}),
    "1 level 32 latent 8": ({"hidden": (32,), "latent": 8}, {"epochs": 15}),
    "3 levels 32,64,64 latent 16": ({"hidden": (32, 64, 64), "latent": 16}, {"epochs": 15}),
    "2 levels 64,64 latent 4": ({"hidden": (64, 64), "latent": 4}, {"epochs": 15}),
    "2 levels 64,64 latent 8": ({"hidden": (64, 64), "latent": 8}, {"epochs": 15}),
    "2 levels 32,64 latent 4, kernel 9": (
        {"hidden": (32, 64), "latent": 4, "kernel": 9},
        {"epochs": 15},
    ),
    "2 levels 32,64 latent 4, L1 loss": (
        {"hidden": (32, 64), "latent": 4},
        {"epochs": 15, "loss": "l1"},
    ),
    "2 levels 32,64 latent 4, 30 epochs": ({"hidden": (32, 64), "latent": 4}, {"epochs": 30}),
    "2 levels 64,64 latent 8, 25 epochs": ({"hidden": (64, 64), "latent": 8}, {"epochs": 25}),
    "2 levels 64,64 latent 8, L1 loss": (
        {"hidden": (64, 64), "latent": 8},
        {"epochs": 15, "loss": "l1"},
    ),
    "2 levels 64,64 latent 8, 25 epochs, upsample decoder": (
        {"hidden": (64, 64), "latent": 8, "decoder": "upsample"},
        {"epochs": 25},
    ),
}


def _stream(model: Model, noisy: np.ndarray) -> np.ndarray:
    """The recording through a StreamDenoiser in 100 ms chunks (what a device would run)."""
    den = StreamDenoiser(model)
    parts = [den.push(noisy[:, i : i + CHUNK]) for i in range(0, noisy.shape[1], CHUNK)]
    return np.concatenate([*parts, den.flush()], axis=1)


def _pca_stream(train_windows: np.ndarray, latent: int, noisy: np.ndarray) -> np.ndarray:
    """PCA (fitted on the noisy training windows) of rank ``latent``, framed and overlap-added
    exactly as the StreamDenoiser does: the linear denoiser of the same latent size."""
    flat = train_windows.reshape(len(train_windows), -1).astype(np.float64)
    mean = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    basis = vt[: min(latent, vt.shape[0])].T
    spec = SignalSpec(16000, 1, train_windows.shape[-1], train_windows.shape[-1] // 2)
    framer, ola = SignalFramer.of(spec), OverlapAdd.of(spec)
    frames = np.concatenate([framer.push(noisy).frames, framer.flush().frames])
    f = frames.reshape(len(frames), -1).astype(np.float64)
    rec = (((f - mean) @ basis) @ basis.T + mean).astype(np.float32).reshape(frames.shape)
    out = np.concatenate([ola.add(rec), ola.finish()], axis=1)
    return out[:, : noisy.shape[1]]


def bench_candidate(
    name: str, model_over: dict[str, Any], train_over: dict[str, Any], work: Path, quick: bool
) -> dict[str, Any]:
    """Train, export, quantize one candidate; stream the held-out recording through both."""
    from edgeae_export import ExportInfo, QuantizeRequest, export_autoencoder, quantize_model
    from edgeae_export.sampling import EXPORT_SAMPLES, sample_items

    ds = ctx_data(TRAIN_SOURCE, quick)
    held = ctx_data(HELD_OUT, quick)
    train_over = {**train_over, **({"epochs": 1} if quick else {})}
    config = TrainConfig(**{**recipe_for(TRAIN_SOURCE)[1], **train_over})
    run = work / "run"
    t0 = time.perf_counter()
    result = train(ds, "conv1d", model_over, config, run, progress=False, data_source=TRAIN_SOURCE)
    train_s = time.perf_counter() - t0
    ckpt = load_checkpoint(run)
    x = sample_items(ds.x, 512)  # calibration items
    info = ExportInfo(
        arch=ckpt.arch,
        layout=ckpt.layout,
        item_shape=tuple(ckpt.item_shape),
        latent_shape=tuple(ckpt.latent_shape),
        preprocessing=ckpt.preprocessing,
        arch_config=ckpt.model_config,
        signal=ckpt.signal,
        anomaly=ckpt.anomaly,
        data_fingerprint=ckpt.data_fingerprint,
        source=ckpt.data_source,
    )
    exported = export_autoencoder(
        ckpt.model,
        out_dir=work / "model",
        example_inputs=normalize(sample_items(ds.x, EXPORT_SAMPLES), ckpt.preprocessing),
        info=info,
    )
    fpath = next(f.path for f in exported.files if f.role == "autoencoder")
    qpath = fpath.with_name("model.int8.onnx")
    q = quantize_model(
        QuantizeRequest(
            fpath, qpath, mode="static", calibration=x, speed_gate=not quick, allow_slower=True
        )
    )
    noisy, clean = held.signal, held.clean_signal
    snr_in = snr_db(clean, noisy)
    f_out = _stream(Model(fpath), noisy)
    q_out = _stream(Model(qpath), noisy)
    train_noisy, train_clean = ds.signal, ds.clean_signal
    latent = int(np.prod(ckpt.latent_shape))
    pca_out = _pca_stream(np.asarray(ds.x), latent, noisy)
    row = {
        "candidate": name,
        "model": {k: list(v) if isinstance(v, tuple) else v for k, v in model_over.items()},
        "train": config.to_dict(),
        "latent_shape": list(ckpt.latent_shape),
        "latent_size": latent,
        "decoder": ckpt.model_config.get("decoder"),
        "params": int(sum(p.numel() for p in ckpt.model.parameters())),
        "epochs_run": result.epochs_run,
        "train_seconds": train_s,
        "val_psnr_db": result.metrics["val_psnr_db"],
        "held_out_snr_in_db": snr_in,
        "held_out_snr_out_db": snr_db(clean, f_out),
        "held_out_snr_out_int8_db": snr_db(clean, q_out),
        "held_out_pca_snr_out_db": snr_db(clean, pca_out),
        "train_rec_snr_out_db": snr_db(train_clean, _stream(Model(fpath), train_noisy)),
        "train_rec_snr_in_db": snr_db(train_clean, train_noisy),
        "float_bytes": q.float_bytes,
        "int8_bytes": q.quantized_bytes,
    }
    if q.speed is not None:
        big = q.speed.batches[-1]
        i = q.speed.batches.index(big)
        row.update(
            speed_batch=big,
            fp32_us=q.speed.float_us[i],
            int8_us=q.speed.quantized_us[i],
            int8_speedup=q.speed.speedup(big),
        )
    return row


_DATA: dict[str, Any] = {}


def ctx_data(source: str, quick: bool) -> Any:
    """Load (once) a tones recording; ``quick`` shortens it to 4 s."""
    key = source + ("&seconds=4" if "?" in source else "?seconds=4") if quick else source
    if key not in _DATA:
        _DATA[key] = load_source(key)
    return _DATA[key]


def markdown(rows: list[dict[str, Any]]) -> str:
    """The candidates as one Markdown table."""
    lines = [
        "| candidate | latent | decoder | params | epochs | train s | held-out SNR out (float) "
        "| int8 | int8 drop | PCA same latent | training recording | int8 vs ORT fp32 (b256) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        shape = " x ".join(str(s) for s in r["latent_shape"])
        speed = f"{r['int8_speedup']:.2f}x" if "int8_speedup" in r else "—"
        lines.append(
            f"| {r['candidate']} | {shape} = {r['latent_size']} | {r.get('decoder', '—')} "
            f"| {r['params']:,} "
            f"| {r['epochs_run']} | {r['train_seconds']:.1f} "
            f"| {r['held_out_snr_in_db']:.2f} -> **{r['held_out_snr_out_db']:.2f}** "
            f"| {r['held_out_snr_out_int8_db']:.2f} "
            f"| {r['held_out_snr_out_db'] - r['held_out_snr_out_int8_db']:.2f} "
            f"| {r['held_out_pca_snr_out_db']:.2f} "
            f"| {r['train_rec_snr_in_db']:.2f} -> {r['train_rec_snr_out_db']:.2f} | {speed} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the chosen candidates, print the table, write benchmarks/results/denoise.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 candidates, 1 epoch, 4 s data")
    parser.add_argument("--only", default="", help="';'-separated substrings of names")
    parser.add_argument("--threads", type=int, default=1, help="torch threads [1]")
    parser.add_argument("--out", default=str(RESULTS), help="JSON file to write")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    chosen = dict(CANDIDATES)
    chosen["recipe (edgeae/train/recipes.py)"] = tuple(recipe_for(TRAIN_SOURCE))  # type: ignore[assignment]
    if args.only:
        keys = [k.strip() for k in args.only.split(";") if k.strip()]
        chosen = {n: c for n, c in chosen.items() if any(k in n for k in keys)}
    elif args.quick:
        chosen = dict(list(chosen.items())[-2:])
    rows = []
    for name, (model_over, train_over) in chosen.items():
        default_config("conv1d", (1, 256), **model_over)  # fail fast on a bad candidate
        with tempfile.TemporaryDirectory(prefix="edgeae-bench-denoise-") as tmp:
            rows.append(
                bench_candidate(name, dict(model_over), dict(train_over), Path(tmp), args.quick)
            )
        print(markdown(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    res = {
        "quick": args.quick,
        "torch_threads": args.threads,
        "train_source": TRAIN_SOURCE,
        "held_out": HELD_OUT,
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, json.dumps(res, indent=2, default=float) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
