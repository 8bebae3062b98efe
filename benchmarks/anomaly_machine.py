"""Part 3 of the anomaly benchmark (bench_anomaly.py): DCASE id_00 and MIMII fan with
every log-mel recipe (ad01 and the conv alternatives): clip and item AUC/pAUC float and
int8 through ClipScorer, clip verdicts, the false-alarm laws on log-mel items, latency
(the only timing, under the benchmark lock)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from anomaly_common import (
    DCASE,
    FAR_LAWS,
    FAR_TARGETS,
    MIMII,
    at_point,
    far_threshold,
    log,
    rate_ci,
    to_onnx,
)
from timing_lock import timing_lock

from edgeae.data import load_source
from edgeae.data.wav import read_wav, write_wav
from edgeae.train import (
    TrainConfig,
    load_checkpoint,
    recipe_arch,
    recipe_for,
    recipe_source,
    train,
)
from edgeae.train.prepare import prepare
from edgeae_export import Validation
from edgeae_export.sampling import sample_items
from edgeae_runtime import Model
from edgeae_runtime.anomaly import ClipScorer
from edgeae_runtime.bench import time_calls
from edgeae_runtime.logmel import feature_items
from edgeae_runtime.metrics import auroc, pauc
from edgeae_runtime.scores import (
    anomaly_scores,
    calibrate_anomaly,
    item_independence,
)

#: interleaved float / int8 rounds of the ad01 batch-1 latency
LATENCY_ROUNDS = 5

#: why MIMII fan has no clip threshold: its clips cannot be held out in larger numbers
MIMII_HOLDOUT = (
    "MIMII fan holds 10 s of normal audio: 10 disjoint 1 s clips (the conv recipes' 16-frame "
    "patches need about 0.55 s, so shorter clips leave them almost no items), 3 of them test "
    "clips; the trainer holds out 10 % of the other 7; its 8 channels record the same seconds, "
    "so a clip of another channel is no held-out clip"
)

#: the log-mel recipes measured side by side: name -> the --arch that picks it
LOGMEL_RECIPES = {"ad01": None, "conv2d": "conv2d", "conv1d": "conv1d"}


def _logmel_run(
    tmp: Path, name: str, train_dir: Path, arch: str | None, quick: bool
) -> tuple[Path, Path, dict[str, Any]]:
    """Train the log-mel recipe ``--arch arch`` picks on ``logmel:train_dir`` (the CLI's
    own recipe_source / recipe_for); export and quantize it."""
    source = recipe_source(f"logmel:{train_dir}", arch)
    ds = load_source(source)
    model_over, train_over = recipe_for(source, arch)
    if quick:
        train_over = {**train_over, "epochs": 3}
    # a small set (the 1 s MIMII pseudo-clips) gets smaller batches than the recipe's
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
    calib = sample_items(ds.x, 2048)
    # the int8 threshold is recalibrated on the trainer's held-out normal clips, where the
    # float one was set (calib is mostly training items: a threshold on them is too low)
    held_out = prepare(ds, TrainConfig(**train_over)).val_raw_input
    f_path, q_path = to_onnx(run, calib, tmp / f"{name}_onnx", Validation(held_out))
    ck = load_checkpoint(run)
    info = {
        "source": source.replace(str(train_dir), "DIR"),
        "arch": ck.arch,
        "item_shape": list(ck.item_shape),
        "latent_shape": list(ck.latent_shape),
        "train_items": len(ds.x),
        "train_seconds": seconds,
        "epochs": ck.epoch,
        "parameters": int(sum(p.numel() for p in ck.model.parameters())),
    }
    return f_path, q_path, info


def _clip_eval(paths: tuple[Path, Path], clips: list[tuple[np.ndarray, int]]) -> dict:
    """Clip and item AUC/pAUC and clip verdicts, float and int8, through the device's
    ClipScorer (the manifest's features and layout)."""
    out = {}
    for kind, path in zip(("float", "int8"), paths, strict=True):
        m = Model(path)
        scorer = ClipScorer(m)
        clip_scores, item_scores, item_y = [], [], []
        for signal, y in clips:
            s, c = scorer.score_clip(signal)
            clip_scores.append(c)
            item_scores.append(s)
            item_y.append(np.full(s.size, y))
        cy = np.array([y for _, y in clips])
        iy = np.concatenate(item_y)
        isc = np.concatenate(item_scores)
        a = m.manifest.anomaly
        cs = np.array(clip_scores)
        verdicts = {
            "item threshold (old)": at_point(cs, cy, a.threshold),
            # under CLIP_MIN held-out clips there is none: the verdict is the item threshold's
            "clip threshold (new)": at_point(
                cs, cy, a.threshold if a.clip_threshold is None else a.clip_threshold
            ),
        }
        out[kind] = {
            "item_threshold": a.threshold,
            "clip_threshold": a.threshold if a.clip_threshold is None else a.clip_threshold,
            "clip_threshold_set": a.clip_threshold is not None,
            "clip_calibration": a.clip_normal,
            "verdicts": verdicts,
            "clip_auc": auroc(cs, cy),
            "clip_pauc": pauc(cs, cy),
            "item_auc": auroc(isc, iy),
            "item_pauc": pauc(isc, iy),
            "clips": int(cy.size),
            "anomalous_clips": int(cy.sum()),
        }
    return out


def _latency(paths: tuple[Path, Path], signal: np.ndarray) -> dict[str, Any]:
    """Batch 1 on one thread (float and int8 interleaved, LATENCY_ROUNDS rounds, the median
    of the round medians: a busy shared machine moves single runs by 2x) and a whole clip
    with its log-mels (ClipScorer); the caller holds the timing lock."""
    models = {k: Model(p, threads=1) for k, p in zip(("float", "int8"), paths, strict=True)}
    m0 = next(iter(models.values()))
    item = feature_items(signal, m0.manifest.features, layout=m0.manifest.layout)[:1]
    rate = m0.manifest.features.sample_rate
    lat: dict[str, Any] = {}
    rounds: dict[str, list[dict[str, Any]]] = {k: [] for k in models}
    for _ in range(LATENCY_ROUNDS):
        for kind, m in models.items():
            rounds[kind].append(
                time_calls(lambda m=m: m.score(item), repeats=2000, warmup=50, budget_s=0.6)
                .to_dict()
            )  # fmt: skip
    for kind, m in models.items():
        rs = rounds[kind]
        scorer = ClipScorer(m)
        t = time_calls(lambda sc=scorer: sc.score_clip(signal), repeats=20, warmup=2,
                       budget_s=5.0)  # fmt: skip
        lat[kind] = {
            "median_us": float(np.median([r["median_us"] for r in rs])),
            "p90_us": float(np.median([r["p90_us"] for r in rs])),
            "round_medians_us": [r["median_us"] for r in rs],
            "clip_10s_us": t.median_us,
            "rtf": t.median_us * 1e-6 / (signal.shape[-1] / rate),
        }
    return lat


def machine_far(path: Path, source: str, clips: list[tuple[np.ndarray, int]]) -> dict[str, Any]:
    """The false-alarm laws on log-mel items: calibrated on the held-out normal clips' items
    (the trainer's split of ``source``), realised on the items of the normal test clips,
    each law of ``FAR_LAWS`` at each target (stacked items overlap: ``item_independence``)."""
    m = Model(path)
    ds = load_source(source)
    prep = prepare(ds, TrainConfig(**recipe_for(source)[1]))
    share = item_independence(m.manifest)
    cal = m.errors(prep.val_raw_input)
    features, layout = m.manifest.features, m.manifest.layout
    test = np.concatenate(
        [m.errors(feature_items(x, features, layout=layout)) for x, y in clips if y == 0]
    )
    out: dict[str, Any] = {"calibration": int(cal.size), "items": int(test.size)}
    out["independent"] = share
    for target in FAR_TARGETS:
        for law, (_, counts) in FAR_LAWS.items():
            spec = calibrate_anomaly(
                cal, method="far", target_far=target, independent=share if counts else 1.0
            )
            t = far_threshold(anomaly_scores(cal, spec), target, law, share)
            fp = int(np.sum(anomaly_scores(test, spec) > t))
            ci = rate_ci(fp, test.size, share)
            out[f"{law} {target}"] = {"threshold": t, "fp": fp, "rate": fp / test.size, "ci": ci}
    return out


def bench_machine(tmp: Path, quick: bool) -> dict[str, Any]:
    """DCASE id_00 and MIMII fan with every log-mel recipe (ad01 and the conv ones)."""
    files = sorted((DCASE / "train").glob("*.wav"))
    train_dir, test = tmp / "dcase_train", files[60:]
    train_dir.mkdir()
    for f in files[:60]:
        (train_dir / f.name).symlink_to(f)
    clips = [(read_wav(f)[0], 0) for f in test]
    clips += [(read_wav(f)[0], 1) for f in sorted((DCASE / "test").glob("*.wav"))]
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
    fclips = [(normal[:1, k * seg : (k + 1) * seg], 0) for k in range(n_train, n_seg)]
    fclips += [(abnormal[:1, k * seg : (k + 1) * seg], 1) for k in range(abnormal.shape[1] // seg)]
    recipes: dict[str, Any] = {}
    timed: dict[str, tuple[Path, Path]] = {}
    for name, arch in LOGMEL_RECIPES.items():
        log(f"machine: {name} on DCASE id_00 ...")
        d_float, d_int8, d_info = _logmel_run(tmp, f"dcase_{name}", train_dir, arch, quick)
        dcase = {"train_clips": 60, **d_info, **_clip_eval((d_float, d_int8), clips)}
        if name == "ad01":  # the false-alarm laws on its overlapping items
            dcase["far"] = machine_far(d_float, recipe_source(f"logmel:{train_dir}", arch), clips)
        timed[name] = (d_float, d_int8)
        log(f"machine: {name} on MIMII fan ...")
        f_float, f_int8, f_info = _logmel_run(tmp, f"fan_{name}", fan_dir, arch, quick)
        fan = {"train_clips": n_train, **f_info, **_clip_eval((f_float, f_int8), fclips),
               "clip_holdout": MIMII_HOLDOUT}  # fmt: skip
        recipes[name] = {"dcase": dcase, "mimii_fan": fan}
    # the timing last, every recipe in one hold of the lock (no training waits on it)
    with timing_lock():
        for name, paths in timed.items():
            recipes[name]["latency"] = _latency(paths, clips[0][0])
    return {"recipes": recipes}
