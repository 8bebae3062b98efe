"""Training benchmark: default models vs PCA and the mean, trainer overhead, DDP speed-up.

For each built-in dataset, its default model trained with its recipe (what
``edgeae train builtin:NAME`` does) against PCA with the same latent size and the
mean predictor, all on the same split, quality in raw units. Then the trainer's
throughput against a bare PyTorch loop over the same model and data, side by side,
and torchrun with 2 processes against 1 on the same data.

    python benchmarks/bench_train.py            # full
    python benchmarks/bench_train.py --quick    # fast check (few epochs, small data)
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
import torch

from edgeae.data import load_source
from edgeae.models import arch_for_layout, build_model, default_config
from edgeae.train import TrainConfig, recipe_arch, recipe_for, train
from edgeae.train.prepare import prepare
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.metrics import psnr, psnr_peak, snr_db
from edgeae_runtime.preprocess import denormalize

RESULTS = Path(__file__).resolve().parent / "results" / "train.json"
DATASETS = ["digits", "sensor", "tones"]


def _quality(prep, recon_model_space: np.ndarray) -> dict[str, float]:
    pre = prep.preprocessing
    recon = denormalize(recon_model_space.reshape(prep.val_x.shape), pre)
    out = {"psnr_db": psnr(prep.val_raw_target, recon, data_range=psnr_peak(pre.value_range))}
    if prep.dataset.target is not None:
        out["snr_gain_db"] = snr_db(prep.val_raw_target, recon) - snr_db(
            prep.val_raw_target, prep.val_raw_input
        )
    return out


def bench_dataset(name: str, quick: bool, workdir: Path) -> dict:
    """Default model vs PCA (same latent size) vs mean predictor on one built-in dataset."""
    source = f"builtin:{name}"
    ds = load_source(source)
    model_over, train_over = recipe_for(source)
    if quick:
        train_over = {**train_over, "epochs": max(2, train_over.get("epochs", 30) // 10)}
    config = TrainConfig(**train_over)
    arch = recipe_arch(source) or arch_for_layout(ds.layout)
    latent = int(np.prod(default_config(arch, ds.item_shape, **model_over).latent_shape))
    prep = prepare(ds, config)

    t0 = time.perf_counter()
    result = train(ds, arch, model_over, config, workdir / name, progress=False, data_source=source)
    seconds = time.perf_counter() - t0
    from edgeae.train import load_checkpoint

    model = load_checkpoint(workdir / name).model
    with torch.no_grad():
        ae = _quality(prep, model(prep.val_x).numpy())

    flat = prep.train_x.reshape(len(prep.train_x), -1).numpy().astype(np.float64)
    target = prep.train_t.reshape(len(prep.train_t), -1).numpy().astype(np.float64)
    t1 = time.perf_counter()
    mean = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    basis = vt[:latent].T
    pca_seconds = time.perf_counter() - t1
    val = prep.val_x.reshape(len(prep.val_x), -1).numpy().astype(np.float64)
    pca = _quality(prep, ((val - mean) @ basis) @ basis.T + mean)
    mean_pred = _quality(prep, np.broadcast_to(target.mean(axis=0), val.shape).copy())
    row = {
        "dataset": name,
        "arch": arch,
        "item_shape": list(ds.item_shape),
        "latent_size": latent,
        "train_config": config.to_dict(),
        "model_overrides": model_over,
        "epochs_run": result.epochs_run,
        "train_seconds": seconds,
        "final_val_loss": result.metrics["final_val_loss"],
        "best_val_loss": result.best_val,
        "ae": ae,
        "pca": {**pca, "fit_seconds": pca_seconds},
        "mean": mean_pred,
        "ae_beats_pca": ae["psnr_db"] > pca["psnr_db"],
    }
    if "anomaly_auroc" in result.metrics:
        row["anomaly_auroc"] = result.metrics["anomaly_auroc"]
    return row


def bench_overhead(quick: bool, workdir: Path) -> dict:
    """Trainer vs a bare loop (randperm, index, forward, MSE, backward, Adam): items/s.

    Interleaved epoch by epoch: the trainer's ``on_epoch_end`` hook runs one epoch of the
    bare loop (its own model, same data and batch size) after each trainer epoch, so both
    see the same machine load; the hook's time is taken out of the trainer's wall time.
    The step overhead is the median over epochs of trainer step time / bare epoch time,
    the whole run's the median over rounds of trainer wall / bare epochs' total; the
    trainer's ``phase_seconds`` explain it.
    """
    ds = load_source("builtin:digits")
    epochs, rounds = (3, 1) if quick else (10, 5)
    config = TrainConfig(epochs=epochs, patience=0, schedule="constant")
    prep = prepare(ds, config)
    arch = arch_for_layout(ds.layout)
    cfg = default_config(arch, ds.item_shape)
    x = prep.train_x
    n, bs = len(x), config.batch_size

    def bare_epoch(model: torch.nn.Module, opt: torch.optim.Optimizer, epoch: int) -> float:
        start = time.perf_counter()
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(epoch))
        for i in range(0, n, bs):
            xb = x[perm[i : i + bs]]
            loss = torch.nn.functional.mse_loss(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return time.perf_counter() - start

    ratios, bare_rates, step_rates, walls, bare_walls, wall_ratios = [], [], [], [], [], []
    phases: dict[str, list[float]] = {}
    for k in range(rounds):
        torch.manual_seed(0)
        model = build_model(arch, cfg)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        model.train()
        bare_times: list[float] = []
        hook = [0.0]

        def after_epoch(stats, model=model, opt=opt, bare_times=bare_times, hook=hook) -> None:
            t0 = time.perf_counter()
            bare_times.append(bare_epoch(model, opt, len(bare_times)))
            hook[0] += time.perf_counter() - t0

        start = time.perf_counter()
        r = train(ds, arch, {}, config, workdir / f"overhead{k}", progress=False,
                  on_epoch_end=after_epoch)  # fmt: skip
        wall = time.perf_counter() - start - hook[0]
        for e, bare_s in zip(r.metrics["epochs"], bare_times, strict=True):
            step_s = n / e["samples_per_s"]
            ratios.append(step_s / bare_s)
            step_rates.append(e["samples_per_s"])
            bare_rates.append(n / bare_s)
        walls.append(wall)
        bare_walls.append(sum(bare_times))
        wall_ratios.append(wall / sum(bare_times))
        run_phases = dict(r.metrics["phase_seconds"])
        run_phases["final write"] = wall - sum(run_phases.values())
        for name, v in run_phases.items():
            phases.setdefault(name, []).append(v)
    med = lambda v: float(np.median(v))  # noqa: E731
    items = n * epochs
    return {
        "dataset": "digits",
        "arch": arch,
        "epochs": epochs,
        "rounds": rounds,
        "bare_items_per_s": med(bare_rates),
        "trainer_step_items_per_s": med(step_rates),
        "trainer_wall_items_per_s": items / med(walls),
        "step_overhead_pct": 100 * (med(ratios) - 1),
        "wall_overhead_pct": 100 * (med(wall_ratios) - 1),  # per round, then the median
        "bare_seconds": med(bare_walls),
        "trainer_wall_seconds": med(walls),
        "phase_seconds": {name: med(v) for name, v in phases.items()},
    }


def bench_ddp(quick: bool, workdir: Path) -> dict:
    """torchrun with 2 processes vs 1 on the same data and recipe: training items/s."""
    epochs = 2 if quick else 5
    source = "builtin:tones?seconds=10" if quick else "builtin:tones"
    out: dict[str, dict] = {}
    for procs in (1, 2):
        run = workdir / f"ddp{procs}"
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={procs}",
            "-m",
            "edgeae",
            "train",
            source,
            "-o",
            str(run),
            "--epochs",
            str(epochs),
            "--patience",
            "0",
            "--json",
            "--quiet",
        ]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"torchrun with {procs} processes failed:\n{done.stderr[-2000:]}")
        m = json.loads(done.stdout)
        out[str(procs)] = {
            "items_per_s": m["samples_per_s"],
            "train_seconds": m["train_seconds"],
            "wall_seconds": wall,
            "best_val_loss": m["best_val_loss"],
        }
    return {
        "source": source,
        "epochs": epochs,
        "threads_per_process": 1,
        "runs": out,
        "speedup": out["2"]["items_per_s"] / out["1"]["items_per_s"],
    }


def markdown(res: dict) -> str:
    lines = [
        "| dataset | arch | latent | epochs | train s | val loss | AE PSNR dB | PCA PSNR dB "
        "| mean PSNR dB | AE beats PCA | extra |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["datasets"]:
        extra = []
        if "snr_gain_db" in r["ae"]:
            extra.append(
                f"SNR gain AE {r['ae']['snr_gain_db']:+.2f} / PCA "
                f"{r['pca']['snr_gain_db']:+.2f} / mean {r['mean']['snr_gain_db']:+.2f} dB"
            )
        if "anomaly_auroc" in r:
            extra.append(f"AUROC {r['anomaly_auroc']:.3f}")
        lines.append(
            f"| {r['dataset']} | {r['arch']} | {r['latent_size']} | {r['epochs_run']} "
            f"| {r['train_seconds']:.1f} | {r['final_val_loss']:.4g} | {r['ae']['psnr_db']:.2f} "
            f"| {r['pca']['psnr_db']:.2f} | {r['mean']['psnr_db']:.2f} "
            f"| {'yes' if r['ae_beats_pca'] else '**no**'} | {'; '.join(extra)} |"
        )
    o = res["overhead"]
    lines += [
        "",
        f"Trainer vs bare PyTorch loop ({o['dataset']}, {o['arch']}, {o['epochs']} epochs, "
        f"{o.get('rounds', 1)} rounds, epochs interleaved trainer/bare; medians):",
        "",
        "| loop | items/s | overhead vs bare |",
        "|---|---|---|",
        f"| bare loop | {o['bare_items_per_s']:,.0f} | — |",
        f"| trainer, training steps | {o['trainer_step_items_per_s']:,.0f} "
        f"| {o['step_overhead_pct']:+.1f}% |",
        f"| trainer, whole run (incl. validation, checkpoints, calibration) "
        f"| {o['trainer_wall_items_per_s']:,.0f} | {o['wall_overhead_pct']:+.1f}% |",
    ]
    if "phase_seconds" in o:
        bare_s = o["bare_seconds"]
        lines += [
            "",
            f"Where the trainer's whole run goes ({o['trainer_wall_seconds']:.2f} s vs "
            f"{bare_s:.2f} s for the bare loop's epochs):",
            "",
            "| phase | seconds | share of the bare loop's time |",
            "|---|---|---|",
        ]
        for name, v in o["phase_seconds"].items():
            lines.append(f"| {name} | {v:.3f} | {100 * v / bare_s:.1f}% |")
    d = res["ddp"]
    lines += [
        "",
        f"DDP (torchrun, gloo, {d['source']}, {d['epochs']} epochs, 1 thread per process):",
        "",
        "| processes | items/s | train s | wall s |",
        "|---|---|---|---|",
    ]
    for p, r in d["runs"].items():
        lines.append(
            f"| {p} | {r['items_per_s']:,.0f} | {r['train_seconds']:.1f} "
            f"| {r['wall_seconds']:.1f} |"
        )
    lines.append(f"\nSpeed-up with 2 processes: {d['speedup']:.2f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, for a fast check")
    parser.add_argument("--skip-ddp", action="store_true", help="skip the torchrun comparison")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        res = {
            "quick": args.quick,
            "torch_threads": 1,
            "datasets": [bench_dataset(n, args.quick, work) for n in DATASETS],
            "overhead": bench_overhead(args.quick, work),
        }
        res["ddp"] = (
            {"source": "-", "epochs": 0, "runs": {}, "speedup": float("nan")}
            if args.skip_ddp
            else bench_ddp(args.quick, work)
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS, json.dumps(res, indent=2, default=float) + "\n")
    print(markdown(res))


if __name__ == "__main__":
    main()
