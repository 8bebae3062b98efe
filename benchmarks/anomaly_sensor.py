"""Part 1 of the anomaly benchmark (bench_anomaly.py): ``builtin:sensor``, one- vs
two-sided score, every threshold method float and int8, the false-alarm laws on a 2 h
unseen normal stream of the same machine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from anomaly_common import (
    FAR_LAWS,
    FAR_TARGETS,
    SENSOR,
    SENSOR_LAW_DRAWS,
    SENSOR_LONG_SECONDS,
    SENSOR_LONG_SEEDS,
    best_accuracy_counts,
    blocks,
    far_threshold,
    method_points,
    rate_ci,
    to_onnx,
)

from edgeae.data import load_source
from edgeae.data.builtin.sensor import ANOMALY_KINDS, SensorOptions, make_sensor_normal
from edgeae.data.windows import frame_signal, window_labels
from edgeae.train import (
    TrainConfig,
    load_checkpoint,
    recipe_arch,
    recipe_for,
    train,
)
from edgeae.train.prepare import _split, prepare
from edgeae_export import Validation
from edgeae_runtime import Model
from edgeae_runtime.metrics import auroc, pauc, per_item_error
from edgeae_runtime.operating_point import independent_share
from edgeae_runtime.preprocess import denormalize
from edgeae_runtime.scores import (
    anomaly_scores,
    calibrate_anomaly,
)


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
    # which evaluation windows are calibration windows, and which touch no anomalous sample
    # (a window is labelled anomalous from 25 % anomalous samples on: the ones next to an
    # anomaly are "normal" but not clean)
    _, val_idx, eval_idx, _ = _split(ds, config)
    touched = window_labels(ds.sample_labels, ds.window, ds.hop, min_fraction=1e-9)[eval_idx]
    in_cal = np.isin(eval_idx, val_idx)
    # no evaluation window overruns the recording (the trainer leaves the zero-padded
    # last one out of calibration and evaluation since 2026-12-02: it scored 1.04)
    assert not (eval_idx * ds.hop + ds.window > ds.sample_labels.size).any()
    # unseen normal running of the same machine, long enough to resolve 0.1 %: fresh
    # noise and speed walk, never trained or calibrated on; whole windows only
    long_errors: dict[str, list[np.ndarray]] = {"float": [], "int8": []}
    seconds = 60.0 if quick else SENSOR_LONG_SECONDS
    for seed in SENSOR_LONG_SEEDS:
        sig = make_sensor_normal(SensorOptions(), seconds, seed)
        whole = 1 + (sig.shape[1] - ds.window) // ds.hop
        w = np.ascontiguousarray(frame_signal(sig, ds.window, ds.hop)[:whole])
        for kind, path in (("float", f_path), ("int8", q_path)):
            long_errors[kind].append(Model(path).errors(w))
    return {
        "arch": ck.arch,
        "epochs": ck.epoch,
        "train_seconds": train_seconds,
        "config": config,
        "in_cal": in_cal,
        "clean": (touched == 0) & ~in_cal,
        "independent": independent_share(ds.window, ds.hop),
        "long": {k: np.concatenate(v) for k, v in long_errors.items()},
        "long_seconds": seconds * len(SENSOR_LONG_SEEDS),
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
        pts = method_points(
            cal, ev[vi], labels[vi], ev[ti], labels[ti], config.tails, s["independent"]
        )
        spec = calibrate_anomaly(cal, tails=config.tails)
        test_scores = anomaly_scores(ev[ti], spec)
        points[kind] = {
            "far": sensor_far(
                cal, ev, labels, ti, s["clean"], config.tails, s["long"][kind], s["independent"]
            ),
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
        "long_seconds": s["long_seconds"],
        "tails": config.tails,
        "validation_windows": len(vi),
        "test_windows": len(ti),
        "test_anomalies": int(np.sum(labels[ti] > 0)),
        "tails_rows": tails_rows,
        "points": points,
    }


def sensor_far(
    cal: np.ndarray,
    ev: np.ndarray,
    labels: np.ndarray,
    ti: np.ndarray,
    clean: np.ndarray,
    tails: str,
    long: np.ndarray,
    independent: float,
    repeats: int = 400,
) -> dict[str, Any]:
    """Realised false-alarm rate of each law of ``FAR_LAWS`` at each target.

    On ``long``: the errors of a long unseen normal stream of the same machine
    (:func:`make_sensor_normal`), the measurement that resolves 0.1 %, with its 95 %
    Clopper-Pearson interval on ``independent`` (hop / window) of its windows
    (:func:`rate_ci`). That is one calibration; the law itself ("over calibrations"):
    ``SENSOR_LAW_DRAWS`` contiguous stretches of as many windows as the calibration, from
    the long stream's first half (never across a seed's end), each calibrating the law,
    realised on the second half: the mean rate (what a law promises) and its 10-90 %
    range. On the recording too: the label-0 test windows (the old protocol; includes
    windows next to an anomaly), the evaluation windows that touch no anomalous sample
    and are not calibration windows ("clean unseen"), and resampled (the calibration and
    clean windows pooled, ``repeats`` random splits into as many calibration windows as
    the real calibration and the rest; the mean realised rate).
    """
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {
        "calibration": int(cal.size),
        "clean": int(clean.sum()),
        "long_windows": int(long.size),
        "independent": independent,
    }
    per_seed = long.size // len(SENSOR_LONG_SEEDS)
    half = per_seed * (len(SENSOR_LONG_SEEDS) // 2)
    draws = [
        int(k * per_seed + rng.integers(0, per_seed - cal.size + 1))
        for k in rng.integers(0, len(SENSOR_LONG_SEEDS) // 2, SENSOR_LAW_DRAWS)
    ]
    for target in FAR_TARGETS:
        spec = calibrate_anomaly(
            cal, tails=tails, method="far", target_far=target, independent=independent
        )
        z_cal, z_ev, z_long = (anomaly_scores(a, spec) for a in (cal, ev, long))
        test_normal = z_ev[ti][labels[ti] == 0]
        pool = np.concatenate([z_cal, z_ev[clean]])
        out["pool_top"] = [float(v) for v in np.sort(pool)[-2:]]
        out["long_top"] = [float(v) for v in np.sort(z_long)[-2:]]
        for law in FAR_LAWS:
            t = far_threshold(z_cal, target, law, independent)
            resampled = []
            for _ in range(repeats):
                perm = rng.permutation(pool.size)
                c, rest = pool[perm[: cal.size]], pool[perm[cal.size :]]
                resampled.append(np.mean(rest > far_threshold(c, target, law, independent)))
            fp_long = int(np.sum(z_long > t))
            over = []
            for a in draws:  # the law over calibrations, on the long stream (raw errors)
                c = long[a : a + cal.size]
                sp = calibrate_anomaly(c, tails=tails, method="far", target_far=target)
                zc, zr = anomaly_scores(c, sp), anomaly_scores(long[half:], sp)
                over.append(float(np.mean(zr > far_threshold(zc, target, law, independent))))
            out[f"{law} {target}"] = {
                "threshold": t,
                "label0_test": float(np.mean(test_normal > t)),
                "label0_test_n": int(test_normal.size),
                "clean_unseen": float(np.mean(z_ev[clean] > t)),
                "clean_unseen_fp": int(np.sum(z_ev[clean] > t)),
                "resampled": float(np.mean(resampled)),
                "long": fp_long / max(long.size, 1),
                "long_fp": fp_long,
                "long_ci": rate_ci(fp_long, long.size, independent),
                "over_calibrations": float(np.mean(over)),
                "over_calibrations_range": [float(np.quantile(over, q)) for q in (0.1, 0.9)],
            }
    return out
