"""Part 2 of the anomaly benchmark (bench_anomaly.py): NAB, the autoencoder vs PCA and
IsolationForest, fixed threshold and running baseline, events per labelled window, the
threshold methods pooled over the series, the realised false-alarm rates."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from anomaly_common import (
    FAR_LAWS,
    FAR_TARGETS,
    METHODS,
    NAB,
    PERCENTILE99,
    at_point,
    best_accuracy_counts,
    blocks,
    far_threshold,
    log,
    rate_ci,
    to_onnx,
)

from edgeae.data.assemble import signal_dataset
from edgeae.train import (
    TrainConfig,
    train,
)
from edgeae.train.prepare import prepare
from edgeae_export import Validation
from edgeae_runtime import AnomalySpec, Model
from edgeae_runtime.events import EventRule, detect_events
from edgeae_runtime.metrics import auroc
from edgeae_runtime.operating_point import LABELLED_METHODS, choose_threshold, independent_share
from edgeae_runtime.preprocess import denormalize
from edgeae_runtime.scores import (
    anomaly_scores,
    baseline_scores,
    calibrate_anomaly,
)


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


#: the running baseline of the drift variant, in windows (4 days of 5-minute rows at hop 4)
NAB_BASELINE = 288
#: NAB detectors: score key in nab_scores -> label
NAB_DETECTORS = {"float": "autoencoder", "PCA": "PCA", "IsolationForest": "IsolationForest"}


def _stream(cal: np.ndarray, test: np.ndarray, spec: Any) -> tuple[np.ndarray, np.ndarray]:
    """(calibration, test) scores of one series under ``spec``; with a running baseline the
    stream is the calibration windows then the test part (a device that kept running), its
    windows overlapping as StreamScorer's would (``hop / window`` independent)."""
    z_cal, z_test = anomaly_scores(cal, spec), anomaly_scores(test, spec)
    if spec.baseline_windows:
        share = independent_share(NAB_WINDOW, NAB_HOP)
        z_test = baseline_scores(np.concatenate([z_cal, z_test]), spec, independent=share)[
            z_cal.size :
        ]
    return z_cal, z_test


def best_f1(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """The best F1 any single threshold reaches (None without positives)."""
    y = labels > 0
    if not y.any():
        return None
    order = np.argsort(-scores, kind="mergesort")
    s, yy = scores[order], y[order]
    tp, fp = np.cumsum(yy), np.cumsum(~yy)
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # cut after each distinct score
    return float(np.max(2 * tp[last] / (tp[last] + fp[last] + y.sum())))


def _window_events(
    evs: list, first: int, ranges: list[tuple[int, int]], row_label: np.ndarray, acc: dict
) -> None:
    """NAB-style scoring of events against labelled windows (accumulated into ``acc``):
    a labelled window is detected when an event overlaps it (several count once); an
    event overlapping no labelled window is a false event."""
    spans = [(first + ev.start, first + ev.end) for ev in evs]
    acc["events"] += len(spans)
    acc["false"] += sum(not row_label[a:b].any() for a, b in spans)
    for a, b in ranges:
        if b <= first:
            continue
        acc["labelled"] += 1
        acc["hit"] += int(any(s < b and e > a for s, e in spans))


def _rates(p: dict[str, Any]) -> dict[str, Any]:
    tp, fp, fn, tn = p["tp"], p["fp"], p["fn"], p["tn"]
    return {
        **p,
        "accuracy": (tp + tn) / max(tp + fp + fn + tn, 1),
        "f1": 2 * tp / max(2 * tp + fp + fn, 1),
        "tpr": tp / max(tp + fn, 1),
        "fpr": fp / max(fp + tn, 1),
    }


def bench_nab(tmp: Path, quick: bool, scored: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """NAB metrics from :func:`nab_scores` (computed here unless given), each with a fixed
    threshold and with the running baseline (``NAB_BASELINE`` windows)."""
    window, hop, latent = NAB_WINDOW, NAB_HOP, NAB_LATENT
    variants = {"fixed": 0, "baseline": NAB_BASELINE}
    per_file = []
    pooled = {v: {"float": {}, "int8": {}} for v in variants}
    oracle = {v: {"float": 0, "int8": 0} for v in variants}
    f1_gap = {v: {} for v in variants}  # method -> [(F1 at the point, best F1)] per series
    far = {v: {} for v in variants}  # (law, target) -> fp / normal over all test windows
    events = {
        v: {
            d: {"events": 0, "false": 0, "hit": 0, "labelled": 0, "days": 0.0}
            for d in NAB_DETECTORS.values()
        }
        for v in variants
    }
    n_test_total = 0
    for s in nab_scores(tmp, quick) if scored is None else scored:
        first, ranges, row_label, y = s["first"], s["ranges"], s["row_label"], s["test_y"]
        sc = s["scored"]
        rec: dict[str, Any] = {
            "series": s["series"],
            "test_windows": int(y.size),
            "test_anomalous": int(y.sum()),
        }
        both = y.any() and not y.all()
        vi, ti = blocks(y.size)
        for vname, w in variants.items():
            ev_rule = AnomalySpec(baseline_windows=w)
            for key, det in NAB_DETECTORS.items():
                val_s, test_s = sc[key]
                spec = calibrate_anomaly(np.maximum(val_s, 0), 99.0, events=ev_rule)
                _, z = _stream(np.maximum(val_s, 0), np.maximum(test_s, 0), spec)
                if both:
                    rec[f"auroc_{det}_{vname}"] = auroc(z, y)
                _, evs = detect_events(
                    z, EventRule(threshold=spec.threshold), hop=hop, window=window
                )
                e = events[vname][det]
                e["days"] += s["days"]
                _window_events(evs, first, ranges, row_label, e)
            if both:
                spec = calibrate_anomaly(sc["int8"][0], 99.0, events=ev_rule)
                rec[f"auroc_int8_{vname}"] = auroc(_stream(*sc["int8"], spec)[1], y)
            # threshold methods: even blocks validate, odd blocks test (each series its own)
            for kind in ("float", "int8"):
                cal, ev = sc[kind]
                for mname, kw in METHODS.items():
                    labelled = kw["method"] in LABELLED_METHODS
                    spec = calibrate_anomaly(
                        cal, **(PERCENTILE99 if labelled else kw), events=ev_rule
                    )
                    z_cal, z = _stream(cal, ev, spec)
                    if labelled:
                        if not (y[vi] > 0).any():
                            continue
                        t = choose_threshold(
                            z[vi][y[vi] == 0], kw["method"], anomalous=z[vi][y[vi] > 0]
                        )
                    else:
                        t = spec.threshold
                    pt = at_point(z[ti], y[ti], t)
                    acc = pooled[vname][kind].setdefault(
                        mname, {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "series": 0}
                    )
                    for k in ("tp", "fp", "fn", "tn"):
                        acc[k] += pt[k]
                    acc["series"] += 1
                    if kind == "float":
                        bf = best_f1(z[ti], y[ti])
                        if bf is not None:
                            f1_gap[vname].setdefault(mname, []).append((pt["f1"], bf))
                    if mname == "percentile 99":
                        oracle[vname][kind] += best_accuracy_counts(z[ti], y[ti])
                if kind == "float":  # realised false-alarm rate on every normal test window
                    share = independent_share(window, hop)
                    for target in FAR_TARGETS:
                        for law, (_, counts) in FAR_LAWS.items():
                            spec = calibrate_anomaly(
                                cal,
                                method="far",
                                target_far=target,
                                events=ev_rule,
                                independent=share if counts else 1.0,
                            )
                            z_cal, z = _stream(cal, ev, spec)
                            t = far_threshold(z_cal, target, law, share)
                            a = far[vname].setdefault(f"{law} {target}", {"fp": 0, "normal": 0})
                            a["fp"] += int(np.sum((z > t) & (y == 0)))
                            a["normal"] += int(np.sum(y == 0))
        n_test_total += len(ti)
        per_file.append(rec)
    summary = {}
    for vname in variants:
        for det in (*NAB_DETECTORS.values(), "int8"):
            vals = [r[f"auroc_{det}_{vname}"] for r in per_file if f"auroc_{det}_{vname}" in r]
            summary[f"{det}_{vname}"] = {
                "mean": float(np.mean(vals)),
                "median": float(np.median(vals)),
                "series": len(vals),
            }
    wins = {
        f"{b}_{v}": sum(
            r[f"auroc_autoencoder_{v}"] > r[f"auroc_{b}_{v}"]
            for r in per_file
            if f"auroc_autoencoder_{v}" in r
        )
        for b in ("PCA", "IsolationForest")
        for v in variants
    }
    points = {
        v: {k: {m: _rates(p) for m, p in pooled[v][k].items()} for k in pooled[v]} for v in variants
    }
    gaps = {
        v: {
            m: {
                "series": len(pairs),
                "f1": float(np.mean([a for a, _ in pairs])),
                "best_f1": float(np.mean([b for _, b in pairs])),
            }
            for m, pairs in f1_gap[v].items()
        }
        for v in variants
    }
    share = independent_share(window, hop)
    far_out = {
        v: {
            k: {**a, "rate": a["fp"] / max(a["normal"], 1)}
            | {"ci": rate_ci(a["fp"], a["normal"], share)}
            for k, a in far[v].items()
        }
        for v in variants
    }
    return {
        "window": window,
        "hop": hop,
        "latent": latent,
        "baseline_windows": NAB_BASELINE,
        "series": len(per_file),
        "summary": summary,
        "wins": wins,
        "events": events,
        "per_file": per_file,
        "points": points,
        "f1_gap": gaps,
        "far": far_out,
        "best_accuracy": {
            v: {k: oracle[v][k] / max(n_test_total, 1) for k in oracle[v]} for v in variants
        },
    }
