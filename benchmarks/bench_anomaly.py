"""Anomaly score benchmark: one- vs two-sided score on builtin:sensor, per anomaly kind.

Trains the sensor recipe (what ``edgeae train builtin:sensor`` trains; or reuses a
run directory with ``--run``), then scores the same model both ways through the
runtime's :func:`~edgeae_runtime.anomaly_scores`, each calibrated by
:func:`~edgeae_runtime.calibrate_anomaly` on the held-out normal windows: AUROC of
all normal windows of the evaluation part vs every kind, vs each kind alone, and
the fraction flagged at the calibrated threshold.

    python benchmarks/bench_anomaly.py                 # full recipe
    python benchmarks/bench_anomaly.py --run /tmp/s    # a run already trained
    python benchmarks/bench_anomaly.py --quick         # fast check (few epochs)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from edgeae.data import load_source
from edgeae.data.builtin.sensor import ANOMALY_KINDS
from edgeae.train import TrainConfig, load_checkpoint, recipe_arch, recipe_for, train
from edgeae.train.prepare import prepare
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.metrics import auroc, per_item_error
from edgeae_runtime.scores import anomaly_scores, calibrate_anomaly

SOURCE = "builtin:sensor"
RESULTS = Path(__file__).resolve().parent / "results"


def _errors(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return per_item_error(x.numpy(), model(x).numpy(), "mse")


def measure(run: Path) -> dict:
    """Per-kind AUROC and flag rates of the upper and two-sided scores of one trained run."""
    ck = load_checkpoint(run)
    config = TrainConfig.from_dict(ck.train_config)
    prep = prepare(load_source(SOURCE), config)  # the run's own split (same seed)
    if prep.anomaly_x is None or prep.anomaly_labels is None:
        raise SystemExit(f"{SOURCE}: no labeled anomalies to score")
    val_errors = _errors(ck.model, prep.val_x)
    errors = _errors(ck.model, prep.anomaly_x)
    labels = prep.anomaly_labels
    rows = []
    for tails in ("upper", "both"):
        spec = calibrate_anomaly(val_errors, config.threshold_percentile, tails, "mse")
        scores = anomaly_scores(errors, spec)
        flags = scores > spec.threshold
        row = {
            "tails": tails,
            "center": spec.center,
            "threshold": spec.threshold,
            "auroc": auroc(scores, labels),
            "normal_flagged": float(flags[labels == 0].mean()),
            "kinds": {},
        }
        for k, name in enumerate(ANOMALY_KINDS[1:], start=1):
            keep = (labels == 0) | (labels == k)
            row["kinds"][name] = {
                "auroc": auroc(scores[keep], (labels[keep] == k).astype(np.int64)),
                "flagged": float(flags[labels == k].mean()),
                "windows": int(np.sum(labels == k)),
            }
        rows.append(row)
    return {
        "source": SOURCE,
        "run": str(run),
        "arch": ck.arch,
        "latent_shape": list(ck.latent_shape),
        "epochs": ck.epoch,
        "train_config": config.to_dict(),
        "calibration_windows": len(val_errors),
        "normal_windows": int(np.sum(labels == 0)),
        "rows": rows,
    }


def markdown(res: dict) -> str:
    kinds = list(res["rows"][0]["kinds"])
    lines = [
        f"{res['source']}, {res['arch']} latent {res['latent_shape']}, {res['epochs']} epochs; "
        f"calibrated on {res['calibration_windows']} held-out normal windows "
        f"(p{res['train_config']['threshold_percentile']:g}); "
        f"{res['normal_windows']} normal windows in the evaluation part.",
        "",
        "| score | all | " + " | ".join(k.replace("_", " ") for k in kinds) + " | normal flagged |",
        "|---|---|" + "---|" * len(kinds) + "---|",
    ]
    for r in res["rows"]:
        cells = [
            f"{r['kinds'][k]['auroc']:.3f} ({100 * r['kinds'][k]['flagged']:.0f} %)" for k in kinds
        ]
        lines.append(
            f"| {r['tails']} | {r['auroc']:.3f} | "
            + " | ".join(cells)
            + f" | {100 * r['normal_flagged']:.1f} % |"
        )
    lines.append(
        "\nCells: AUROC normal vs that kind (share of that kind flagged at the threshold)."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, for a fast check")
    parser.add_argument("--run", type=Path, default=None, help="score this trained run instead")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run
        train_seconds = None
        if run is None:
            model_over, train_over = recipe_for(SOURCE)
            if args.quick:
                train_over = {**train_over, "epochs": 3}
            run = Path(tmp) / "sensor"
            start = time.perf_counter()
            ds = load_source(SOURCE)
            config = TrainConfig(**train_over)
            train(
                ds, recipe_arch(SOURCE), model_over, config, run, progress=False, data_source=SOURCE
            )
            train_seconds = time.perf_counter() - start
        res = measure(run)
    res["train_seconds"] = train_seconds
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("anomaly.quick.json" if args.quick else "anomaly.json")
    write_text_atomic(out, json.dumps(res, indent=2) + "\n")
    print(markdown(res))


if __name__ == "__main__":
    main()
