"""Anomaly benchmark: operating points, NAB vs PCA / IsolationForest, DCASE log-mel ad01.

One run, four parts, every threshold through the runtime's own laws
(:func:`edgeae_runtime.calibrate_anomaly`, :mod:`edgeae_runtime.operating_point`,
:mod:`edgeae_runtime.events`), float and int8 (static QDQ, recalibrated with the
same law on the int8 model's own errors):

1. ``builtin:sensor`` (the sensor recipe): one- vs two-sided score per anomaly
   kind, and every threshold method (percentile 99, mean + 3 std, false-alarm
   rate 1 % per window, F1, Youden) at its chosen point on held-out test windows:
   accuracy, F1, TPR, FPR, vs the best accuracy any single threshold reaches there.
   The evaluation windows are cut into blocks of 32: even blocks are the labelled
   validation set (F1/Youden), odd blocks the test set.
2. NAB (``../shared/data/timeseries/nab``, 47 real series, labelled windows): per
   series a small dense autoencoder trained by ``edgeae.train`` on the normal
   stretch before the first labelled window (at most half the series), PCA and
   scikit-learn's IsolationForest fitted on the same windows; window-level AUROC
   on the rest, events (runtime event law, p99 threshold) per labelled window and
   false events per day; and the threshold methods pooled over all series (each
   series its own threshold; blocks as in 1).
3. DCASE 2020 Task 2 id_00 (``../shared/data/machine``): the ad01 recipe
   (``logmel:`` source, 128 log-mels x 5 frames, dense 640-128x4-8-128x4-640 +
   batch norm) on 60 normal clips, clip-level AUC/pAUC on 15 held-out normal clips
   + the one anomaly clip (one positive: see the note), item-level AUC, float and
   int8; MIMII fan (normal vs abnormal clip, cut into 1 s pseudo-clips); ad01
   latency at batch 1 and real-time factor, one thread.

    python benchmarks/bench_anomaly.py            # everything (about 10-20 min here)
    python benchmarks/bench_anomaly.py --quick    # few epochs, a few NAB series
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeae.data import load_source
from edgeae.data.assemble import signal_dataset
from edgeae.data.builtin.sensor import ANOMALY_KINDS
from edgeae.data.wav import read_wav, write_wav
from edgeae.train import TrainConfig, load_checkpoint, recipe_arch, recipe_for, train
from edgeae.train.prepare import prepare
from edgeae_export import QuantizeRequest, Validation, export_autoencoder, quantize_model
from edgeae_runtime import Model
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.bench import time_calls
from edgeae_runtime.events import EventRule, detect_events
from edgeae_runtime.logmel import feature_items
from edgeae_runtime.metrics import auroc, pauc, per_item_error
from edgeae_runtime.preprocess import denormalize, normalize
from edgeae_runtime.scores import anomaly_scores, calibrate_anomaly

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data"
NAB = SHARED / "timeseries" / "nab"
DCASE = SHARED / "machine" / "dcase2020_task2_id00"
MIMII = SHARED / "machine" / "mimii_fan_8ch"
SENSOR = "builtin:sensor"
METHODS = {
    "percentile 99": {"method": "percentile", "percentile": 99.0},
    "mean + 3 std": {"method": "mean_std", "k": 3.0},
    "FAR 1 %/item": {"method": "far", "target_far": 0.01},
    "F1-optimal": {"method": "f1"},
    "Youden": {"method": "youden"},
}
BLOCK = 32


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- shared helpers ------------------------------------------------------------------


def to_onnx(
    run: Path, calib_raw: np.ndarray, out: Path, val: Validation | None
) -> tuple[Path, Path]:
    """Export a run and quantize it (static int8, no speed gate): (float, int8) model paths."""
    ck = load_checkpoint(run)
    export_autoencoder(
        ck.model,
        out_dir=out,
        example_inputs=normalize(calib_raw[:256], ck.preprocessing),
        info=ck.export_info(),
        force=True,
    )
    q = out / "model.int8.onnx"
    quantize_model(
        QuantizeRequest(
            model_path=out / "model.onnx",
            out_path=q,
            calibration=calib_raw,
            validation=val,
            speed_gate=False,
            force=True,
        )
    )
    return out / "model.onnx", q


def at_point(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, F1, TPR, FPR of ``score > threshold``."""
    y = labels > 0
    f = scores > threshold
    tp, fp = int(np.sum(f & y)), int(np.sum(f & ~y))
    fn, tn = int(np.sum(~f & y)), int(np.sum(~f & ~y))
    return {
        "accuracy": (tp + tn) / max(y.size, 1),
        "f1": 2 * tp / max(2 * tp + fp + fn, 1),
        "tpr": tp / max(tp + fn, 1),
        "fpr": fp / max(fp + tn, 1),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def best_accuracy_counts(scores: np.ndarray, labels: np.ndarray) -> int:
    """Most correct decisions any single threshold makes on these scores (the oracle)."""
    y = labels > 0
    order = np.argsort(scores, kind="mergesort")
    s, yy = scores[order], y[order]
    # threshold below everything: all flagged -> correct = positives
    pos_below = np.cumsum(yy)  # positives at or below index i (not flagged)
    neg_below = np.cumsum(~yy)
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # distinct cut points
    correct = neg_below[last] + (yy.sum() - pos_below[last])
    return int(max(int(yy.sum()), int(correct.max())))


def blocks(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Even / odd blocks of ``BLOCK`` consecutive items: (validation, test) index arrays."""
    b = (np.arange(n) // BLOCK) % 2
    return np.flatnonzero(b == 0), np.flatnonzero(b == 1)


def method_points(
    cal_err: np.ndarray,
    val_err: np.ndarray,
    val_y: np.ndarray,
    test_err: np.ndarray,
    test_y: np.ndarray,
    tails: str,
) -> dict[str, dict[str, Any]]:
    """Every threshold method calibrated (runtime law) and measured on the test items."""
    out: dict[str, dict[str, Any]] = {}
    for name, kw in METHODS.items():
        labelled = kw["method"] in ("f1", "youden")
        if labelled and not (val_y > 0).any():
            continue
        normal = val_err[val_y == 0] if labelled else cal_err
        spec = calibrate_anomaly(
            normal,
            tails=tails,
            anomaly_errors=val_err[val_y > 0] if labelled else None,
            **kw,
        )
        scores = anomaly_scores(test_err, spec)
        out[name] = {"threshold": spec.threshold, **at_point(scores, test_y, spec.threshold)}
    return out


# -- 1. builtin:sensor ---------------------------------------------------------------


def _errors(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return per_item_error(x.numpy(), model(x).numpy(), "mse")


def sensor_scores(tmp: Path, quick: bool) -> dict[str, Any]:
    """Train the sensor recipe; its torch, float and int8 errors on held-out and eval windows."""
    model_over, train_over = recipe_for(SENSOR)
    if quick:
        train_over = {**train_over, "epochs": 3}
    run = tmp / "sensor"
    start = time.perf_counter()
    ds = load_source(SENSOR)
    config = TrainConfig(**train_over)
    train(ds, recipe_arch(SENSOR), model_over, config, run, progress=False, data_source=SENSOR)
    train_seconds = time.perf_counter() - start
    ck = load_checkpoint(run)
    prep = prepare(ds, config)
    labels = prep.anomaly_labels
    assert labels is not None and prep.anomaly_x is not None
    val_errors = _errors(ck.model, prep.val_x)
    errors = _errors(ck.model, prep.anomaly_x)
    pre = prep.preprocessing
    raw_val = denormalize(prep.val_x.numpy(), pre)
    raw_eval = denormalize(prep.anomaly_x.numpy(), pre)
    raw_train = denormalize(prep.train_x.numpy(), pre)
    f_path, q_path = to_onnx(run, raw_train, tmp / "sensor_onnx", Validation(raw_val))
    onnx_errors = {}
    for kind, path in (("float", f_path), ("int8", q_path)):
        m = Model(path)
        onnx_errors[kind] = (m.errors(raw_val), m.errors(raw_eval))
    return {
        "arch": ck.arch,
        "epochs": ck.epoch,
        "train_seconds": train_seconds,
        "config": config,
        "labels": labels,
        "val_errors": val_errors,
        "errors": errors,
        "onnx": onnx_errors,
    }


def bench_sensor(tmp: Path, quick: bool, scored: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sensor metrics from :func:`sensor_scores` (computed here unless given)."""
    s = sensor_scores(tmp, quick) if scored is None else scored
    config, labels = s["config"], s["labels"]
    val_errors, errors = s["val_errors"], s["errors"]
    tails_rows = []
    for tails in ("upper", "both"):
        spec = calibrate_anomaly(val_errors, config.threshold_percentile, tails, "mse")
        scores = anomaly_scores(errors, spec)
        flags = scores > spec.threshold
        row = {
            "tails": tails,
            "auroc": auroc(scores, labels),
            "normal_flagged": float(flags[labels == 0].mean()),
            "kinds": {},
        }
        for k, name in enumerate(ANOMALY_KINDS[1:], start=1):
            keep = (labels == 0) | (labels == k)
            row["kinds"][name] = {
                "auroc": auroc(scores[keep], (labels[keep] == k).astype(np.int64)),
                "flagged": float(flags[labels == k].mean()),
            }
        tails_rows.append(row)
    # float and int8 errors on the same raw items
    vi, ti = blocks(len(labels))
    points: dict[str, Any] = {}
    for kind in ("float", "int8"):
        cal, ev = s["onnx"][kind]
        pts = method_points(cal, ev[vi], labels[vi], ev[ti], labels[ti], config.tails)
        spec = calibrate_anomaly(cal, tails=config.tails)
        test_scores = anomaly_scores(ev[ti], spec)
        points[kind] = {
            "auroc_test": auroc(test_scores, labels[ti]),
            "pauc_test": pauc(test_scores, labels[ti]),
            "best_accuracy": best_accuracy_counts(test_scores, labels[ti]) / len(ti),
            "methods": pts,
        }
    return {
        "source": SENSOR,
        "arch": s["arch"],
        "epochs": s["epochs"],
        "train_seconds": s["train_seconds"],
        "calibration_windows": len(val_errors),
        "tails": config.tails,
        "validation_windows": len(vi),
        "test_windows": len(ti),
        "test_anomalies": int(np.sum(labels[ti] > 0)),
        "tails_rows": tails_rows,
        "points": points,
    }


# -- 2. NAB --------------------------------------------------------------------------


def _nab_series() -> list[tuple[str, np.ndarray, np.ndarray, list[tuple[int, int]]]]:
    """(name, timestamps (s), values, labelled row ranges) of every real NAB series."""
    windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    out = []
    for name in sorted(windows):
        path = NAB / "data" / name
        if not path.exists():
            continue
        rows = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
        ts = np.array([datetime.fromisoformat(t).timestamp() for t in rows[:, 0]])
        v = rows[:, 1].astype(np.float64)
        ranges = []
        for a, b in windows[name]:
            ta, tb = datetime.fromisoformat(a).timestamp(), datetime.fromisoformat(b).timestamp()
            idx = np.flatnonzero((ts >= ta) & (ts <= tb))
            if idx.size:
                ranges.append((int(idx[0]), int(idx[-1]) + 1))
        out.append((name, ts, v, ranges))
    return out


def _frame(v: np.ndarray, start: int, window: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``(k, window)`` of v starting at ``start + i*hop`` (whole windows only)."""
    starts = np.arange(start, v.size - window + 1, hop)
    return np.stack([v[s : s + window] for s in starts]).astype(np.float32), starts


def _pca_errors(fit: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    mean = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mean, full_matrices=False)
    basis = vt[:k]
    r = (x - mean) @ basis.T @ basis + mean
    return np.mean((x - r) ** 2, axis=1)


NAB_WINDOW, NAB_HOP, NAB_LATENT = 32, 4, 4


def nab_scores(tmp: Path, quick: bool) -> list[dict[str, Any]]:
    """Per NAB series: the AE (float, int8), PCA and IsolationForest errors on the held-out
    normal windows of the training stretch and on the test part, with window labels."""
    from sklearn.ensemble import IsolationForest

    series = _nab_series()
    if quick:
        series = series[:4]
    window, hop, latent = NAB_WINDOW, NAB_HOP, NAB_LATENT
    out = []
    for i, (name, ts, v, ranges) in enumerate(series):
        first = min([a for a, _ in ranges] + [v.size // 2])
        if first < 8 * window or not ranges:
            log(f"nab {name}: skipped (no normal stretch of {8 * window} rows before a label)")
            continue
        row_label = np.zeros(v.size, dtype=np.int64)
        for a, b in ranges:
            row_label[a:b] = 1
        # the toolkit's own dataset of windows of the normal stretch (contiguous val split)
        ds = signal_dataset(
            name,
            v[:first][None].astype(np.float32),
            options={"source": name},
            window=window,
            hop=hop,
            layout="NF",
        )
        cfg = TrainConfig(epochs=5 if quick else 40, batch_size=32, lr=3e-3, patience=10)
        run = tmp / f"nab{i}"
        train(ds, "dense", {"hidden": (32,), "latent": latent}, cfg, run, progress=False)
        prep = prepare(ds, cfg)
        raw_train = denormalize(prep.train_x.numpy(), prep.preprocessing)
        raw_val = denormalize(prep.val_x.numpy(), prep.preprocessing)
        test_x, starts = _frame(v, first, window, hop)
        test_y = np.array([row_label[s : s + window].max() for s in starts])
        f_path, q_path = to_onnx(run, raw_train, tmp / f"nab{i}_onnx", Validation(raw_val))
        # baselines on the same windows, standardized like the model's input
        mu, sd = float(raw_train.mean()), float(raw_train.std() or 1.0)
        z_train, z_val, z_test = ((a - mu) / sd for a in (raw_train, raw_val, test_x))
        forest = IsolationForest(random_state=0).fit(z_train)
        scored = {
            "PCA": (_pca_errors(z_train, z_val, latent), _pca_errors(z_train, z_test, latent)),
            "IsolationForest": (-forest.score_samples(z_val), -forest.score_samples(z_test)),
        }
        for kind, path in (("float", f_path), ("int8", q_path)):
            m = Model(path)
            scored[kind] = (m.errors(raw_val), m.errors(test_x))
        out.append(
            {
                "series": name,
                "first": first,
                "days": float(ts[-1] - ts[first]) / 86400.0,
                "ranges": ranges,
                "row_label": row_label,
                "test_y": test_y,
                "scored": scored,
            }
        )
        log(f"nab {i + 1}/{len(series)} {name}: scored")
    return out


def bench_nab(tmp: Path, quick: bool, scored: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """NAB metrics from :func:`nab_scores` (computed here unless given)."""
    window, hop, latent = NAB_WINDOW, NAB_HOP, NAB_LATENT
    per_file, pooled = [], {"float": {}, "int8": {}}
    oracle = {"float": 0, "int8": 0}
    n_test_total = 0
    events = {
        name: {"events": 0, "true": 0, "hit": 0, "labelled": 0, "days": 0.0}
        for name in ("autoencoder", "PCA", "IsolationForest")
    }
    for s in nab_scores(tmp, quick) if scored is None else scored:
        first, ranges, row_label, test_y = s["first"], s["ranges"], s["row_label"], s["test_y"]
        sc = s["scored"]
        rec: dict[str, Any] = {
            "series": s["series"],
            "test_windows": int(test_y.size),
            "test_anomalous": int(test_y.sum()),
        }
        both = test_y.any() and not test_y.all()
        day_s = s["days"]
        for method, (val_s, test_s) in {
            "autoencoder": sc["float"],
            "PCA": sc["PCA"],
            "IsolationForest": sc["IsolationForest"],
        }.items():
            if both:
                rec[f"auroc_{method}"] = auroc(test_s, test_y)
            spec = calibrate_anomaly(np.maximum(val_s, 0), 99.0)
            _, evs = detect_events(
                test_s, EventRule(threshold=spec.threshold), hop=hop, window=window
            )
            e = events[method]
            e["events"] += len(evs)
            e["days"] += day_s
            for ev in evs:
                a0, b0 = first + ev.start, first + ev.end
                e["true"] += int(row_label[a0:b0].any())
            for a, b in ranges:
                if b <= first:
                    continue
                e["labelled"] += 1
                e["hit"] += int(any(first + ev.start < b and first + ev.end > a for ev in evs))
        if both:
            rec["auroc_int8"] = auroc(sc["int8"][1], test_y)
        # threshold methods: even blocks validate, odd blocks test (each series its own point)
        vi, ti = blocks(test_y.size)
        for kind in ("float", "int8"):
            cal, ev = sc[kind]
            pts = method_points(cal, ev[vi], test_y[vi], ev[ti], test_y[ti], "upper")
            for mname, p in pts.items():
                acc = pooled[kind].setdefault(
                    mname, {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "series": 0}
                )
                for key in ("tp", "fp", "fn", "tn"):
                    acc[key] += p[key]
                acc["series"] += 1
            spec = calibrate_anomaly(cal, 99.0)
            oracle[kind] += best_accuracy_counts(anomaly_scores(ev[ti], spec), test_y[ti])
        n_test_total += len(ti)
        per_file.append(rec)
    summary = {}
    for method in ("autoencoder", "PCA", "IsolationForest", "int8"):
        vals = [r[f"auroc_{method}"] for r in per_file if f"auroc_{method}" in r]
        summary[method] = {
            "mean": float(np.mean(vals)),
            "median": float(np.median(vals)),
            "series": len(vals),
        }
    wins = {
        b: sum(
            r["auroc_autoencoder"] > r[f"auroc_{b}"] for r in per_file if "auroc_autoencoder" in r
        )
        for b in ("PCA", "IsolationForest")
    }
    for kind in pooled:
        for p in pooled[kind].values():
            tp, fp, fn, tn = p["tp"], p["fp"], p["fn"], p["tn"]
            p.update(
                accuracy=(tp + tn) / max(tp + fp + fn + tn, 1),
                f1=2 * tp / max(2 * tp + fp + fn, 1),
                tpr=tp / max(tp + fn, 1),
                fpr=fp / max(fp + tn, 1),
            )
    return {
        "window": window,
        "hop": hop,
        "latent": latent,
        "series": len(per_file),
        "summary": summary,
        "wins": wins,
        "events": events,
        "per_file": per_file,
        "points": pooled,
        "best_accuracy": {k: oracle[k] / max(n_test_total, 1) for k in oracle},
    }


# -- 3. DCASE / MIMII ----------------------------------------------------------------


def _logmel_run(tmp: Path, name: str, train_dir: Path, quick: bool) -> tuple[Path, Path, Any]:
    """Train the ad01 recipe on ``logmel:train_dir``; export and quantize it."""
    source = f"logmel:{train_dir}"
    ds = load_source(source)
    model_over, train_over = recipe_for(source)
    if quick:
        train_over = {**train_over, "epochs": 3}
    # a small set (the 1 s MIMII pseudo-clips) gets smaller batches than the recipe's 512
    train_over = {**train_over, "batch_size": min(train_over["batch_size"], len(ds.x) // 4)}
    run = tmp / name
    t0 = time.perf_counter()
    train(
        ds,
        recipe_arch(source),
        model_over,
        TrainConfig(**train_over),
        run,
        progress=False,
        data_source=source,
    )
    seconds = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    calib = np.asarray(ds.x)[rng.choice(len(ds.x), min(2048, len(ds.x)), replace=False)]
    f_path, q_path = to_onnx(run, calib, tmp / f"{name}_onnx", Validation(calib[:1024]))
    return f_path, q_path, (ds.features, seconds, load_checkpoint(run).epoch)


def _clip_eval(
    paths: tuple[Path, Path], features: Any, clips: list[tuple[np.ndarray, int]]
) -> dict:
    out = {}
    for kind, path in zip(("float", "int8"), paths, strict=True):
        m = Model(path)
        clip_scores, item_scores, item_y = [], [], []
        for signal, y in clips:
            s = m.score(feature_items(signal, features))
            clip_scores.append(float(s.mean()))
            item_scores.append(s)
            item_y.append(np.full(s.size, y))
        cy = np.array([y for _, y in clips])
        iy = np.concatenate(item_y)
        isc = np.concatenate(item_scores)
        out[kind] = {
            "clip_auc": auroc(np.array(clip_scores), cy),
            "clip_pauc": pauc(np.array(clip_scores), cy),
            "item_auc": auroc(isc, iy),
            "item_pauc": pauc(isc, iy),
            "clips": int(cy.size),
            "anomalous_clips": int(cy.sum()),
        }
    return out


def bench_machine(tmp: Path, quick: bool) -> dict[str, Any]:
    res: dict[str, Any] = {}
    files = sorted((DCASE / "train").glob("*.wav"))
    train_dir, test = tmp / "dcase_train", files[60:]
    train_dir.mkdir()
    for f in files[:60]:
        (train_dir / f.name).symlink_to(f)
    paths = _logmel_run(tmp, "dcase", train_dir, quick)
    features, seconds, epochs = paths[2]
    clips = [(read_wav(f)[0], 0) for f in test]
    clips += [(read_wav(f)[0], 1) for f in sorted((DCASE / "test").glob("*.wav"))]
    res["dcase"] = {
        "train_clips": 60,
        "train_seconds": seconds,
        "epochs": epochs,
        **_clip_eval(paths[:2], features, clips),
    }
    # latency and real-time factor of ad01, one thread, batch 1 (one 640-value item)
    item = feature_items(clips[0][0], features)[:1]
    lat = {}
    for kind, path in zip(("float", "int8"), paths[:2], strict=True):
        m = Model(path, threads=1)
        lat[kind] = time_calls(
            lambda m=m: m.score(item), repeats=2000, warmup=50, budget_s=3.0
        ).to_dict()
        signal = clips[0][0]
        t = time_calls(
            lambda m=m, s=signal: m.score(feature_items(s, features)),
            repeats=20,
            warmup=2,
            budget_s=5.0,
        )
        lat[kind]["clip_10s_us"] = t.median_us
        lat[kind]["rtf"] = t.median_us * 1e-6 / (signal.shape[1] / features.sample_rate)
    res["latency"] = lat
    # MIMII fan: normal vs abnormal recording, channel 0, 1 s pseudo-clips
    normal, rate = read_wav(MIMII / "normal.wav")
    abnormal, _ = read_wav(MIMII / "abnormal.wav")
    seg = rate
    fan_dir = tmp / "fan_train"
    fan_dir.mkdir()
    n_seg = normal.shape[1] // seg
    n_train = int(n_seg * 0.7)
    for k in range(n_train):
        write_wav(fan_dir / f"normal_{k:03d}.wav", normal[:1, k * seg : (k + 1) * seg], rate)
    fpaths = _logmel_run(tmp, "fan", fan_dir, quick)
    fclips = [(normal[:1, k * seg : (k + 1) * seg], 0) for k in range(n_train, n_seg)]
    fclips += [(abnormal[:1, k * seg : (k + 1) * seg], 1) for k in range(abnormal.shape[1] // seg)]
    res["mimii_fan"] = {
        "train_clips": n_train,
        "epochs": fpaths[2][2],
        **_clip_eval(fpaths[:2], fpaths[2][0], fclips),
    }
    return res


# -- report ----------------------------------------------------------------------------


def _points_table(points: dict[str, Any], best: dict[str, float]) -> list[str]:
    lines = [
        "| method | float acc | F1 | TPR | FPR | int8 acc | F1 | TPR | FPR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in METHODS:
        f, q = points["float"].get(name), points["int8"].get(name)
        if f is None or q is None:
            continue
        lines.append(
            f"| {name} | {f['accuracy']:.3f} | {f['f1']:.3f} | {f['tpr']:.3f} | {f['fpr']:.4f} "
            f"| {q['accuracy']:.3f} | {q['f1']:.3f} | {q['tpr']:.3f} | {q['fpr']:.4f} |"
        )
    lines.append(
        f"| best single threshold (oracle) | {best['float']:.3f} | | | | {best['int8']:.3f} | | | |"
    )
    return lines


def targets(res: dict[str, Any]) -> list[str]:
    """The issue's targets, each judged on this run's numbers."""
    lines = []

    def judge(ok: bool) -> str:
        return "met" if ok else "NOT met"

    for label, points, best in (
        ("builtin:sensor", res.get("sensor", {}).get("points"), None),
        ("NAB (pooled)", res.get("nab", {}).get("points"), res.get("nab", {}).get("best_accuracy")),
    ):
        if not points:
            continue
        for kind in ("float", "int8"):
            if label == "builtin:sensor":
                methods, oracle = points[kind]["methods"], points[kind]["best_accuracy"]
            else:
                methods, oracle = points[kind], best[kind]
            for name in ("F1-optimal", "Youden"):
                if name in methods:
                    gap = oracle - methods[name]["accuracy"]
                    lines.append(
                        f"- {label} {kind} {name}: accuracy {methods[name]['accuracy']:.3f}, "
                        f"{gap:.3f} below the best single threshold ({oracle:.3f}); "
                        f"within 0.02: {judge(gap <= 0.02)}"
                    )
            far = methods.get("FAR 1 %/item")
            if far:
                lines.append(
                    f"- {label} {kind} FAR target 1 %: realised test FPR "
                    f"{100 * far['fpr']:.2f} %; within 1.5x: {judge(far['fpr'] <= 0.015)}"
                )
    n = res.get("nab")
    if n:
        sm = n["summary"]
        ok = sm["autoencoder"]["mean"] > max(sm["PCA"]["mean"], sm["IsolationForest"]["mean"])
        lines.append(
            f"- NAB window AUROC: AE {sm['autoencoder']['mean']:.3f} vs PCA "
            f"{sm['PCA']['mean']:.3f}, IsolationForest {sm['IsolationForest']['mean']:.3f} "
            f"(mean over series): beat both {judge(ok)} (per series: {n['wins']['PCA']} and "
            f"{n['wins']['IsolationForest']} wins of {sm['autoencoder']['series']})"
        )
        d = abs(sm["autoencoder"]["mean"] - sm["int8"]["mean"])
        lines.append(
            f"- NAB int8 vs float mean AUROC: |diff| {d:.4f}; within 0.005: {judge(d <= 0.005)}"
        )
    s = res.get("sensor")
    if s:
        d = abs(s["points"]["float"]["auroc_test"] - s["points"]["int8"]["auroc_test"])
        lines.append(
            f"- sensor int8 vs float AUROC: |diff| {d:.4f}; within 0.005: {judge(d <= 0.005)}"
        )
    m = res.get("machine")
    if m:
        for key, label in (("dcase", "DCASE id_00"), ("mimii_fan", "MIMII fan")):
            a, b = m[key]["float"], m[key]["int8"]
            d = max(abs(a["clip_auc"] - b["clip_auc"]), abs(a["item_auc"] - b["item_auc"]))
            lines.append(
                f"- {label} int8 vs float AUC (clip and item): |diff| <= {d:.4f}; "
                f"within 0.005: {judge(d <= 0.005)}"
            )
        q = m["latency"]["int8"]["median_us"]
        lines.append(f"- ad01 int8 batch 1: {q:.1f} µs median; <= 100 µs: {judge(q <= 100)}")
    return lines


def markdown(res: dict[str, Any]) -> str:
    out: list[str] = []
    s = res.get("sensor")
    if s:
        kinds = list(s["tails_rows"][0]["kinds"])
        out += [
            f"### builtin:sensor ({s['arch']}, {s['epochs']} epochs, trained in "
            f"{s['train_seconds']:.0f} s)",
            "",
            "One- vs two-sided score, AUROC normal vs each kind (share flagged at p99):",
            "",
            "| score | all | "
            + " | ".join(k.replace("_", " ") for k in kinds)
            + " | normal flagged |",
            "|---|---|" + "---|" * len(kinds) + "---|",
        ]
        for r in s["tails_rows"]:
            cells = [
                f"{r['kinds'][k]['auroc']:.3f} ({100 * r['kinds'][k]['flagged']:.0f} %)"
                for k in kinds
            ]
            out.append(
                f"| {r['tails']} | {r['auroc']:.3f} | "
                + " | ".join(cells)
                + f" | {100 * r['normal_flagged']:.1f} % |"
            )
        p = s["points"]
        out += [
            "",
            f"Operating points ({s['tails']} score): calibrated on {s['calibration_windows']} "
            f"held-out normal windows (F1/Youden on {s['validation_windows']} labelled "
            f"validation windows), measured on {s['test_windows']} test windows "
            f"({s['test_anomalies']} anomalous). Test AUROC float {p['float']['auroc_test']:.4f}, "
            f"int8 {p['int8']['auroc_test']:.4f}; pAUC float {p['float']['pauc_test']:.4f}, "
            f"int8 {p['int8']['pauc_test']:.4f}.",
            "",
        ]
        out += _points_table({k: p[k]["methods"] for k in p}, {k: p[k]["best_accuracy"] for k in p})
    n = res.get("nab")
    if n:
        sm = n["summary"]
        out += [
            "",
            f"### NAB: {n['series']} real series, windows of {n['window']} rows every {n['hop']}",
            "",
            "Window-level AUROC on the part after the training stretch (per series, then "
            "mean / median over series with both classes):",
            "",
            "| detector | mean AUROC | median | series |",
            "|---|---|---|---|",
        ]
        for k, label in (
            ("autoencoder", f"edgeae dense AE (latent {n['latent']}), float"),
            ("int8", "edgeae dense AE, int8"),
            ("PCA", f"PCA ({n['latent']} comp.)"),
            ("IsolationForest", "IsolationForest (sklearn)"),
        ):
            out.append(
                f"| {label} | {sm[k]['mean']:.3f} | {sm[k]['median']:.3f} | {sm[k]['series']} |"
            )
        out += [
            "",
            f"AE beats PCA on {n['wins']['PCA']} and IsolationForest on "
            f"{n['wins']['IsolationForest']} of {sm['autoencoder']['series']} series.",
            "",
            "Events at p99 of held-out normal windows (runtime event law):",
            "",
            "| detector | events | precision | labelled windows hit | false events / day |",
            "|---|---|---|---|---|",
        ]
        for k, e in n["events"].items():
            prec = e["true"] / max(e["events"], 1)
            out.append(
                f"| {k} | {e['events']} | {prec:.3f} | {e['hit']}/{e['labelled']} "
                f"({e['hit'] / max(e['labelled'], 1):.2f}) | "
                f"{(e['events'] - e['true']) / max(e['days'], 1e-9):.2f} |"
            )
        out += [
            "",
            "Operating points pooled over series (each its own threshold; even blocks "
            f"of {BLOCK} windows validate, odd blocks test):",
            "",
        ]
        out += _points_table(n["points"], n["best_accuracy"])
    out += ["", "### Targets (issue 11)", "", *targets(res)]
    m = res.get("machine")
    if m:
        d, f, lat = m["dcase"], m["mimii_fan"], m["latency"]
        out += [
            "",
            "### Machine sound: the ad01 recipe (128 log-mels x 5 frames, dense "
            "640-128x4-8-128x4-640 + batch norm)",
            "",
            "| data | clips (anomalous) | clip AUC float | int8 | clip pAUC float | int8 "
            "| item AUC float | int8 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for label, r in (
            (f"DCASE id_00 ({d['train_clips']} normal clips train)", d),
            (f"MIMII fan, 1 s pseudo-clips ({f['train_clips']} train)", f),
        ):
            a, b = r["float"], r["int8"]
            out.append(
                f"| {label} | {a['clips']} ({a['anomalous_clips']}) | {a['clip_auc']:.3f} "
                f"| {b['clip_auc']:.3f} | {a['clip_pauc']:.3f} | {b['clip_pauc']:.3f} "
                f"| {a['item_auc']:.3f} | {b['item_auc']:.3f} |"
            )
        out += [
            "",
            "ad01 latency, one thread (busy shared machine): "
            + "; ".join(
                f"{k} batch 1 median {v['median_us']:.1f} µs (p90 {v['p90_us']:.1f}), "
                f"10 s clip {v['clip_10s_us'] / 1000:.1f} ms incl. log-mels, RTF "
                f"{v['rtf']:.4f}"
                for k, v in lat.items()
            ),
        ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, for a fast check")
    parser.add_argument("--parts", default="sensor,nab,machine", help="comma-separated subset")
    parser.add_argument(
        "--report", type=Path, default=None, help="only print the report of a stored results JSON"
    )
    args = parser.parse_args()
    if args.report is not None:
        print(markdown(json.loads(args.report.read_text())))
        return
    torch.set_num_threads(1)
    parts = args.parts.split(",")
    res: dict[str, Any] = {}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("anomaly.quick.json" if args.quick else "anomaly.json")
    benches = {"sensor": (bench_sensor, True), "nab": (bench_nab, NAB.exists()),
               "machine": (bench_machine, DCASE.exists())}  # fmt: skip
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in parts:
            fn, available = benches[name]
            if not available:
                log(f"{name}: data not found, skipped")
                continue
            log(f"{name} ...")
            try:
                res[name] = fn(Path(tmp), args.quick)
            except Exception:  # report the other parts anyway; exit 1 at the end
                import traceback

                traceback.print_exc()
                failed.append(name)
            write_text_atomic(out, json.dumps(res, indent=2, default=float) + "\n")
    print(markdown(res))
    if failed:
        log(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
