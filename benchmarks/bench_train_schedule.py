"""Fitting the schedule to small data: a recipe's epochs vs a minimum of optimizer steps.

On small data a recipe's default epochs (30 for a CSV log or a ``.npy``) make few
optimizer steps. This script trains each case through the CLI, the way a user would,
with the recipe's epochs and with enough epochs for a minimum number of steps
(``ceil(min_steps / steps_per_epoch)``, capped), and with no ``--epochs`` at all
(``rule``: what ``edgeae train`` now chooses, ``edgeae.train.prepare.fit_schedule``):

- ``nab``: NAB realKnownCause/ambient_temperature_system_failure.csv (hourly) with a
  label column from NAB's anomaly windows, as ``sensorlog:...?period=3600&window=64&hop=32&
  label=label``: the trainer trains on the clean first part; held out: the normal windows
  after the first anomaly (never trained or calibrated on) and the labelled windows;
- ``taxi``: NAB realKnownCause/nyc_taxi.csv (every 30 min) the same way, ``period=1800``;
- ``sensor``: builtin:sensor (its recipe, 60 epochs), held out the same way;
- ``ecg``: the MCL1 ECG lead of MIMIC record 03700181 (125 Hz): the first 80 % as
  ``ecg_train.npy?rate=125 --window 250 --hop 125``, the last 20 % (all normal beats)
  held out.

Every training runs ``flock /tmp/edgeae-heavy.lock nice -n 10 python -m edgeae train ...
--threads 1``; the model is exported and the held-out windows are scored by the runtime
(``Model.score``) at the run's default threshold (p99 of the validation windows).

    python benchmarks/bench_train_schedule.py            # prints the table, writes JSON
    python benchmarks/bench_train_schedule.py --cases nab --settings recipe,500 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "train_schedule.json"
SHARED = ROOT.parent / "shared" / "data"
NAB_FILES = {
    "nab": ("realKnownCause/ambient_temperature_system_failure.csv", 3600),
    "taxi": ("realKnownCause/nyc_taxi.csv", 1800),
}
LOCK = "/tmp/edgeae-heavy.lock"
SWEEP_MAX_EPOCHS = 500


def _nab_csv(work: Path, case: str) -> str:
    """The NAB series as a CSV with a 0/1 label column; its sensorlog: source."""
    nab = SHARED / "timeseries" / "nab"
    name, period = NAB_FILES[case]
    windows = json.loads((nab / "labels" / "combined_windows.json").read_text())[name]
    rows = (nab / "data" / name).read_text().splitlines()
    spans = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in windows]
    out = ["timestamp,value,label"]
    for line in rows[1:]:
        t, v = line.split(",")
        when = datetime.fromisoformat(t)
        out.append(f"{t},{v},{int(any(a <= when <= b for a, b in spans))}")
    path = work / Path(name).name
    path.write_text("\n".join(out) + "\n")
    return f"sensorlog:{path}?period={period}&window=64&hop=32&label=label"


def _ecg(work: Path) -> tuple[str, Path]:
    """The ECG lead, first 80 % (training source) and last 20 % (held out)."""
    z = np.load(SHARED / "physio" / "npz" / "03700181.npz")
    lead = z["signal"][:, list(z["sig_name"]).index("MCL1")].astype(np.float32)
    cut = int(0.8 * lead.size)
    np.save(work / "ecg_train.npy", lead[:cut])
    np.save(work / "ecg_test.npy", lead[cut:])
    return f"{work / 'ecg_train.npy'}?rate=125", work / "ecg_test.npy"


def cases(work: Path) -> dict[str, dict]:
    """Each case: its source, extra CLI options and held-out items."""
    work.mkdir(parents=True, exist_ok=True)
    ecg_src, ecg_test = _ecg(work)
    return {
        **{
            case: {"source": _nab_csv(work, case), "options": [], "heldout": "labelled"}
            for case in NAB_FILES
        },
        "sensor": {"source": "builtin:sensor", "options": [], "heldout": "labelled"},
        "ecg": {
            "source": ecg_src,
            "options": ["--window", "250", "--hop", "125"],
            "heldout": str(ecg_test),
        },
    }


def schedule(case: dict, seed: int):
    """(dataset, recipe config with the fitted batch, training items, steps per epoch)."""
    from edgeae.data import load_source
    from edgeae.train import TrainConfig, recipe_arch, recipe_for, recipe_source
    from edgeae.train.prepare import fit_schedule

    source = recipe_source(case["source"], None)
    opts = case["options"]
    window = int(opts[opts.index("--window") + 1]) if "--window" in opts else None
    hop = int(opts[opts.index("--hop") + 1]) if "--hop" in opts else None
    ds = load_source(source, window=window, hop=hop)
    _, train = recipe_for(source, recipe_arch(source))
    config, n = fit_schedule(ds, TrainConfig(**{**train, "seed": seed}), epochs=False)
    return ds, config, n, -(-n // config.batch_size)


def heldout(case: dict, ds, config, model) -> dict:
    """Quality on items the run never trained or calibrated on, at the run's threshold."""
    from edgeae.data import load_source
    from edgeae.train.prepare import _split
    from edgeae_runtime.metrics import auroc
    from edgeae_runtime.operating_point import choose_threshold
    from edgeae_runtime.scores import item_independence

    thr = model.anomaly_spec.threshold
    _, val, evaluate, _ = _split(ds, config)
    # the false-alarm law (far 1 %) on the same validation windows, for comparison
    far = choose_threshold(
        model.score(ds.x[val]), "far", target_far=0.01,
        independent=item_independence(model.manifest),
    )  # fmt: skip
    if case["heldout"] == "labelled":
        test = np.setdiff1d(evaluate, val)
        labels = np.asarray(ds.labels).reshape(-1)[test]
        x = ds.x[test]
    else:
        held = load_source(f"{case['heldout']}?rate=125", window=250, hop=125)
        x = held.x[: len(held) - 1]  # the last window overruns the signal (zero padding)
        labels = np.zeros(len(x), dtype=np.int64)
    scores, errors = model.score(x), model.errors(x)
    normal = labels == 0
    return {
        "test_items": len(x),
        "test_normal": int(normal.sum()),
        "auroc": float(auroc(scores, labels)) if 0 < normal.sum() < len(x) else None,
        "normal_flagged": int((scores[normal] > thr).sum()),
        "normal_flagged_far": int((scores[normal] > far).sum()),
        "anomalies_flagged": int((scores[~normal] > thr).sum()),
        "normal_error": float(np.mean(errors[normal])),
    }


def train_one(case: dict, run: Path, seed: int, epochs: int | None) -> tuple[dict, str, float]:
    """One ``edgeae train`` (under the heavy lock, nice, 1 thread); metrics, stderr, wall s."""
    cmd = ["flock", LOCK, "nice", "-n", "10", sys.executable, "-m", "edgeae", "train",
           case["source"], *case["options"], "-o", str(run), "--threads", "1", "--seed",
           str(seed), "--force", "--json"]  # fmt: skip
    if epochs is not None:
        cmd += ["--epochs", str(epochs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout), proc.stderr, wall


def export(run: Path, out: Path):
    cmd = [sys.executable, "-m", "edgeae", "export", str(run), "-o", str(out), "--force"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"export {run} failed:\n{proc.stderr[-3000:]}")
    return _model(out)


def _model(out: Path):
    from edgeae_runtime import Model

    return Model(out / "model.onnx", threads=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="nab,sensor,ecg")
    parser.add_argument(
        "--settings",
        default="recipe,rule",
        help="recipe (its epochs), a number (at least that many steps, epochs capped at "
        f"{SWEEP_MAX_EPOCHS}), rule (no --epochs)",
    )
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--work", type=Path, default=Path("/tmp/edgeae-train-schedule"))
    parser.add_argument("--merge", action="store_true", help="keep stored rows not re-run")
    parser.add_argument(
        "--rescore", action="store_true", help="re-score the stored rows' models; no training"
    )
    args = parser.parse_args()
    all_cases = cases(args.work)
    rows = json.loads(RESULTS.read_text())["rows"] if args.merge and RESULTS.exists() else []
    if args.rescore:
        rows = json.loads(RESULTS.read_text())["rows"]
        for row in rows:
            case = all_cases[row["case"]]
            ds, config, _, _ = schedule(case, row["seed"])
            model = _model(args.work / f"{row['case']}-{row['setting']}-s{row['seed']}-m")
            row.update(heldout(case, ds, config, model))
        RESULTS.write_text(json.dumps({"rows": rows}, indent=2) + "\n")
        print(table(rows))
        return 0
    for name in args.cases.split(","):
        case = all_cases[name]
        for seed in (int(s) for s in args.seeds.split(",")):
            ds, config, n, spe = schedule(case, seed)
            for setting in args.settings.split(","):
                if setting == "recipe":
                    epochs: int | None = config.epochs
                elif setting == "rule":
                    epochs = None
                else:
                    want = math.ceil(int(setting) / spe)
                    epochs = min(max(config.epochs, want), SWEEP_MAX_EPOCHS)
                run = args.work / f"{name}-{setting}-s{seed}"
                metrics, stderr, wall = train_one(case, run, seed, epochs)
                ran = json.loads((run / "config.json").read_text())["train_config"]
                model = export(run, args.work / f"{name}-{setting}-s{seed}-m")
                row = {
                    "case": name,
                    "setting": setting,
                    "seed": seed,
                    "train_items": n,
                    "batch_size": ran["batch_size"],
                    "steps_per_epoch": spe,
                    "epochs": ran["epochs"],
                    "planned_steps": ran["epochs"] * spe,
                    "epochs_run": metrics["epochs_run"],
                    "steps_run": metrics["epochs_run"] * spe,
                    "best_epoch": metrics["best_epoch"],
                    "best_val_loss": metrics["best_val_loss"],
                    "val_mse_raw": metrics["val_mse_raw"],
                    "val_normal": metrics["threshold_val_normal"],
                    "train_seconds": metrics["train_seconds"],
                    "wall_seconds": wall,
                    "note": [ln for ln in stderr.splitlines() if ln.startswith("epochs ")],
                    **heldout(case, ds, config, model),
                }
                rows = [
                    r
                    for r in rows
                    if (r["case"], r["setting"], r["seed"]) != (name, setting, seed)
                ]
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    print(table(rows))
    return 0


def table(rows: list[dict]) -> str:
    """The Markdown table: one line per case, setting and seed."""
    lines = [
        "| case | train items | batch | setting | epochs (run) | steps run | best epoch | "
        "val loss | held-out error | AUROC | normal flagged (p99) | (far 1 %) | anomalies flagged "
        "(p99) | train s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def key(r: dict) -> tuple:
        named = {"recipe": -1, "rule": 10**9}
        rank = named[r["setting"]] if r["setting"] in named else int(r["setting"])
        return r["case"], rank, r["seed"]

    for r in sorted(rows, key=key):
        label = r["setting"] if not str(r["setting"]).isdigit() else f">= {r['setting']} steps"
        auc = f"{r['auroc']:.3f}" if r["auroc"] is not None else "—"
        n_anomalous = r["test_items"] - r["test_normal"]
        anomalies = f"{r.get('anomalies_flagged', '—')}/{n_anomalous}" if n_anomalous else "—"
        lines.append(
            f"| {r['case']} s{r['seed']} | {r['train_items']} | {r['batch_size']} | {label} | "
            f"{r['epochs']} ({r['epochs_run']}) | {r['steps_run']} | {r['best_epoch']} | "
            f"{r['best_val_loss']:.4g} | {r['normal_error']:.4g} | {auc} | "
            f"{r['normal_flagged']}/{r['test_normal']} | "
            f"{r.get('normal_flagged_far', '—')}/{r['test_normal']} | {anomalies} | "
            f"{r['train_seconds']:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
