"""The anomaly benchmark's report (bench_anomaly.py): the Markdown of every part and
the issue's targets, from the results JSON alone (``bench_anomaly.py --report``)."""

from __future__ import annotations

from typing import Any

from anomaly_common import (
    BLOCK,
    FAR_LAWS,
    FAR_TARGETS,
    METHODS,
    SENSOR_LAW_DRAWS,
    SENSOR_LONG_SEEDS,
)

from edgeae_runtime.scores import (
    CLIP_MIN,
)


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
    nothing = {}
    for kind in ("float", "int8"):  # accuracy of flagging nothing: the normal share
        p = next(iter(points[kind].values()), None)
        if p is not None:
            nothing[kind] = (p["fp"] + p["tn"]) / max(p["tp"] + p["fp"] + p["fn"] + p["tn"], 1)
    if len(nothing) == 2:
        lines.append(
            f"| flag nothing | {nothing['float']:.3f} | 0.000 | 0.000 | 0.0000 "
            f"| {nothing['int8']:.3f} | 0.000 | 0.000 | 0.0000 |"
        )
    return lines


def targets(res: dict[str, Any]) -> list[str]:
    """The issue's targets, each judged on this run's numbers."""
    lines = []

    def judge(ok: bool) -> str:
        return "met" if ok else "NOT met"

    s = res.get("sensor")
    n = res.get("nab")
    rows = []
    if s:
        for kind in ("float", "int8"):
            rows.append(("builtin:sensor", kind, s["points"][kind]["methods"],
                         s["points"][kind]["best_accuracy"]))  # fmt: skip
    if n:
        for v in ("fixed", "baseline"):
            for kind in ("float", "int8"):
                rows.append((f"NAB pooled ({v})", kind, n["points"][v][kind],
                             n["best_accuracy"][v][kind]))  # fmt: skip
    for label, kind, methods, oracle in rows:
        for name in ("F1-optimal", "Youden", "accuracy-optimal"):
            if name in methods:
                p = methods[name]
                gap = oracle - p["accuracy"]
                nothing = (p["fp"] + p["tn"]) / max(p["tp"] + p["fp"] + p["fn"] + p["tn"], 1)
                lines.append(
                    f"- {label} {kind} {name}: accuracy {p['accuracy']:.3f} (TPR "
                    f"{p['tpr']:.3f}, FPR {p['fpr']:.4f}), {gap:.3f} below the best single "
                    f"threshold ({oracle:.3f}; flagging nothing: {nothing:.3f}); within 0.02: "
                    f"{judge(gap <= 0.02)}"
                )
    if s:
        for kind in ("float", "int8"):
            f = s["points"][kind]["far"]
            for target in FAR_TARGETS:
                r = f[f"tail / conformal (new) {target}"]
                before = f[f"tail / conformal, windows independent {target}"]
                lo, hi = r["long_ci"]
                lines.append(
                    f"- builtin:sensor {kind} FAR target {100 * target:g} %: realised "
                    f"{100 * r['long']:.3f} % (95 % CI {100 * lo:.3f}-{100 * hi:.3f} %) on "
                    f"{f['long_windows']} unseen normal windows ({r['long_fp']} false alarms; "
                    f"windows counted independent: {100 * before['long']:.3f} %), at most "
                    f"1.5x (CI upper bound): {judge(hi <= 1.5 * target)}; the law over "
                    f"calibrations {100 * r['over_calibrations']:.3f} % (windows counted "
                    f"independent {100 * before['over_calibrations']:.3f} %), at most 1.5x: "
                    f"{judge(r['over_calibrations'] <= 1.5 * target)}, at least 1/1.5: "
                    f"{judge(r['over_calibrations'] >= target / 1.5)}"
                )
    if n:
        for v in ("fixed", "baseline"):
            for target in FAR_TARGETS:
                r = n["far"][v][f"tail / conformal (new) {target}"]
                lo, hi = r["ci"]
                lines.append(
                    f"- NAB ({v}) FAR target {100 * target:g} %: realised "
                    f"{100 * r['rate']:.2f} % (95 % CI {100 * lo:.2f}-{100 * hi:.2f} %) on "
                    f"{r['normal']} normal test windows; within 1.5x: "
                    f"{judge(r['rate'] <= 1.5 * target)}"
                )
        sm = n["summary"]
        for v in ("fixed", "baseline"):
            ae = sm[f"autoencoder_{v}"]["mean"]
            pca, iforest = sm[f"PCA_{v}"]["mean"], sm[f"IsolationForest_{v}"]["mean"]
            lines.append(
                f"- NAB window AUROC ({v}): AE {ae:.3f} vs PCA {pca:.3f}, IsolationForest "
                f"{iforest:.3f} (mean over series): beat both {judge(ae > max(pca, iforest))} "
                f"(per series: {n['wins'][f'PCA_{v}']} and {n['wins'][f'IsolationForest_{v}']}"
                f" wins of {sm[f'autoencoder_{v}']['series']})"
            )
        d = abs(sm["autoencoder_fixed"]["mean"] - sm["int8_fixed"]["mean"])
        lines.append(
            f"- NAB int8 vs float mean AUROC: |diff| {d:.4f}; within 0.005: {judge(d <= 0.005)}"
        )
    if s:
        d = abs(s["points"]["float"]["auroc_test"] - s["points"]["int8"]["auroc_test"])
        lines.append(
            f"- sensor int8 vs float AUROC: |diff| {d:.4f}; within 0.005: {judge(d <= 0.005)}"
        )
    m = res.get("machine")
    if m:
        for name, r in m["recipes"].items():
            for key, label in (("dcase", "DCASE id_00"), ("mimii_fan", "MIMII fan")):
                a, b = r[key]["float"], r[key]["int8"]
                d = max(abs(a["clip_auc"] - b["clip_auc"]), abs(a["item_auc"] - b["item_auc"]))
                lines.append(
                    f"- {label} {name} int8 vs float AUC (clip and item): |diff| <= {d:.4f}; "
                    f"within 0.005: {judge(d <= 0.005)}"
                )
        far = m["recipes"].get("ad01", {}).get("dcase", {}).get("far")
        for target in FAR_TARGETS if far else ():
            r = far[f"tail / conformal (new) {target}"]
            lo, hi = r["ci"]
            lines.append(
                f"- DCASE id_00 ad01 item FAR target {100 * target:g} %: realised "
                f"{100 * r['rate']:.2f} % (95 % CI {100 * lo:.2f}-{100 * hi:.2f} %) on "
                f"{far['items']} normal test items; within 1.5x: "
                f"{judge(r['rate'] <= 1.5 * target)}"
            )
        q = m["recipes"]["ad01"]["latency"]["int8"]["median_us"]
        lines.append(f"- ad01 int8 batch 1: {q:.1f} µs median; <= 100 µs: {judge(q <= 100)}")
    return lines


def _pct_ci(r: dict[str, Any], rate: str, ci: str) -> str:
    lo, hi = r[ci]
    return f"{100 * r[rate]:.2f} % [{100 * lo:.2f}, {100 * hi:.2f}]"


def _far_table(rows: dict[str, dict[str, Any]], cols: list[tuple[str, str]]) -> list[str]:
    """One row per target and law: ``cols`` (header, key into ``rows``) of rate [95 % CI]."""
    lines = [
        "| target | law | " + " | ".join(h for h, _ in cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for target in FAR_TARGETS:
        for law in FAR_LAWS:
            cells = []
            for _, key in cols:
                r = rows[key][f"{law} {target}"]
                cells.append(_pct_ci(r, "long" if "long" in r else "rate",
                                     "long_ci" if "long" in r else "ci"))  # fmt: skip
            lines.append(f"| {100 * target:g} % | {law} | " + " | ".join(cells) + " |")
    return lines


def _sensor_far_table(s: dict[str, Any]) -> list[str]:
    f = s["points"]["float"]["far"]
    q = s["points"]["int8"]["far"]
    share = f["independent"]
    lines = [
        f"False-alarm-rate law, calibrated on {f['calibration']} held-out normal windows "
        f"(windows of 256 every 128: {share:g} of them independent). Realised on "
        f"{f['long_windows']} windows ({s['long_seconds'] / 3600:.1f} h) of unseen normal "
        "running of the same machine (`make_sensor_normal`: the recording's harmonics and "
        f"drift, fresh noise and speed walk, seeds {', '.join(map(str, SENSOR_LONG_SEEDS))}), "
        "with the 95 % Clopper-Pearson interval on the independent windows (alarms and "
        f"windows times {share:g}). `windows independent`: the calibration law "
        "before counting overlap (the new law counts hop/window independent windows, as "
        "the streams do):",
        "",
        *_far_table({"float": f, "int8": q}, [("float", "float"), ("int8", "int8")]),
        "",
        f"The law over calibrations: {SENSOR_LAW_DRAWS} contiguous stretches of "
        f"{f['calibration']} windows drawn from the long stream's first half (seeds "
        f"{SENSOR_LONG_SEEDS[0]}, {SENSOR_LONG_SEEDS[1]}), each calibrating the law, "
        "realised on its second half: the mean realised rate (what a law promises) and the "
        "10-90 % range over calibrations:",
        "",
        "| target | law | float mean | 10-90 % | int8 mean | 10-90 % |",
        "|---|---|---|---|---|---|",
        *[
            f"| {100 * t:g} % | {law} | "
            + " | ".join(
                f"{100 * r['over_calibrations']:.3f} % | "
                f"{100 * r['over_calibrations_range'][0]:.3f}-"
                f"{100 * r['over_calibrations_range'][1]:.3f} %"
                for r in (f[f"{law} {t}"], q[f"{law} {t}"])
            )
            + " |"
            for t in FAR_TARGETS
            for law in FAR_LAWS
        ],
        "",
        "The same thresholds on the recording itself (float): the label-0 test windows "
        "(include windows next to an anomaly, labelled normal below 25 % anomalous "
        f"samples), the {f['clean']} evaluation windows that touch no anomaly and were not "
        "calibrated on, and resampled (calibration + clean windows pooled, 400 random "
        "splits of the same sizes; the mean). One clean unseen window is "
        f"{100 / max(f['clean'], 1):.2f} %: the recording alone cannot resolve 0.1 %. (The "
        "one clean window that scored 1.06 before, next 0.18, was the recording's last "
        "window: it overruns the end by 96 of its 256 samples, zero-padded, a partly dead "
        "sensor to the two-sided score; training no longer calibrates on or scores such "
        "windows.)",
        "",
        "| target | law | label-0 test | clean unseen (alarms) | resampled |",
        "|---|---|---|---|---|",
    ]
    for target in FAR_TARGETS:
        for law in FAR_LAWS:
            a = f[f"{law} {target}"]
            lines.append(
                f"| {100 * target:g} % | {law} | {100 * a['label0_test']:.2f} % "
                f"| {100 * a['clean_unseen']:.2f} % ({a['clean_unseen_fp']}) "
                f"| {100 * a['resampled']:.2f} % |"
            )
    return lines


def machine_far_lines(far: dict[str, Any]) -> list[str]:
    """The false-alarm laws on DCASE id_00's log-mel items (:func:`machine_far`)."""
    return [
        "",
        f"False-alarm-rate law on DCASE id_00 items (float; calibrated on the "
        f"{far['calibration']} items of the held-out normal clips, realised on the "
        f"{far['items']} items of the normal test clips; stacked items overlap, "
        f"{far['independent']:.3g} of them independent; 95 % Clopper-Pearson interval on "
        "the independent items):",
        "",
        *_far_table({"dcase": far}, [("DCASE id_00 normal test items", "dcase")]),
    ]


def _nab_markdown(n: dict[str, Any]) -> list[str]:
    sm = n["summary"]
    w = n["baseline_windows"]
    out = [
        f"### NAB: {n['series']} real series, windows of {n['window']} rows every {n['hop']}",
        "",
        "Each detector twice: *fixed* (scores against the threshold calibrated on the "
        f"training stretch) and *baseline* (the runtime's running score baseline, {w} "
        "windows, `--score-baseline`; the stream starts with the calibration windows).",
        "",
        "Window-level AUROC on the part after the training stretch (per series, then "
        "mean / median over series with both classes):",
        "",
        "| detector | fixed mean | median | baseline mean | median | series |",
        "|---|---|---|---|---|---|",
    ]
    for k, label in (
        ("autoencoder", f"edgeae dense AE (latent {n['latent']}), float"),
        ("int8", "edgeae dense AE, int8"),
        ("PCA", f"PCA ({n['latent']} comp.)"),
        ("IsolationForest", "IsolationForest (sklearn)"),
    ):
        a, b = sm[f"{k}_fixed"], sm[f"{k}_baseline"]
        out.append(
            f"| {label} | {a['mean']:.3f} | {a['median']:.3f} | {b['mean']:.3f} "
            f"| {b['median']:.3f} | {a['series']} |"
        )
    out += [
        "",
        f"AE beats PCA on {n['wins']['PCA_fixed']} (baseline: {n['wins']['PCA_baseline']}) and "
        f"IsolationForest on {n['wins']['IsolationForest_fixed']} "
        f"({n['wins']['IsolationForest_baseline']}) of {sm['autoencoder_fixed']['series']} "
        "series.",
        "",
        "Events at p99 of held-out normal windows (runtime event law), scored per labelled "
        "window, NAB-style: a labelled window is detected when an event overlaps it (several "
        "events in one window count once), an event overlapping none is a false event; "
        "window precision = detected windows / (detected windows + false events):",
        "",
        "| detector | variant | events | false events | labelled windows detected "
        "| window precision | window recall | window F1 | false events / day |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in ("fixed", "baseline"):
        for k, e in n["events"][v].items():
            prec = e["hit"] / max(e["hit"] + e["false"], 1)
            rec = e["hit"] / max(e["labelled"], 1)
            f1 = 2 * prec * rec / max(prec + rec, 1e-12)
            out.append(
                f"| {k} | {v} | {e['events']} | {e['false']} | {e['hit']}/{e['labelled']} "
                f"| {prec:.3f} | {rec:.3f} | {f1:.3f} | {e['false'] / max(e['days'], 1e-9):.2f} |"
            )
    out += [
        "",
        "False-alarm-rate law on NAB (calibrated on each series' held-out training windows, "
        "realised on all normal windows of its test part, pooled; 95 % Clopper-Pearson "
        f"interval on the independent windows, {n['hop']}/{n['window']} of them; with the "
        "baseline the stream re-applies the new law to its past either way, the "
        "calibration sets its first windows):",
        "",
        *_far_table(n["far"], [("fixed", "fixed"), ("baseline", "baseline")]),
    ]
    out += [
        "",
        "F1 at each method's point vs the best F1 any single threshold reaches on the test "
        "blocks (per series, mean over series with anomalies there; float):",
        "",
        "| method | fixed F1 | best | gap | baseline F1 | best | gap |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in METHODS:
        a, b = n["f1_gap"]["fixed"].get(m), n["f1_gap"]["baseline"].get(m)
        if a is None or b is None:
            continue
        out.append(
            f"| {m} | {a['f1']:.3f} | {a['best_f1']:.3f} | {a['best_f1'] - a['f1']:.3f} "
            f"| {b['f1']:.3f} | {b['best_f1']:.3f} | {b['best_f1'] - b['f1']:.3f} |"
        )
    for v in ("fixed", "baseline"):
        out += [
            "",
            f"Operating points pooled over series ({v}; each its own threshold; even blocks "
            f"of {BLOCK} windows validate, odd blocks test):",
            "",
            *_points_table(n["points"][v], n["best_accuracy"][v]),
        ]
    return out


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
    if s:
        out += ["", *_sensor_far_table(s)]
    n = res.get("nab")
    if n:
        out += ["", *_nab_markdown(n)]
    out += ["", "### Targets (issue 11)", "", *targets(res)]
    m = res.get("machine")
    if m:
        out += ["", *_machine_markdown(m["recipes"])]
    return "\n".join(out)


def _machine_markdown(recipes: dict[str, Any]) -> list[str]:
    """The log-mel recipes side by side: quality, clip verdicts, latency."""
    out = [
        "### Machine sound: the log-mel recipes (ad01 and the conv alternatives)",
        "",
        "| recipe | items (model) | params | data | train items, epochs, s | clip AUC float "
        "| int8 | clip pAUC float | int8 | item AUC float | int8 | item pAUC float | int8 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in recipes.items():
        for key, label in (("dcase", "DCASE id_00"), ("mimii_fan", "MIMII fan 1 s")):
            d = r[key]
            a, b = d["float"], d["int8"]
            shape = "x".join(str(v) for v in d["item_shape"])
            out.append(
                f"| {name} | {d['arch']} {shape} | {d['parameters']:,} | {label}: "
                f"{a['clips']} clips ({a['anomalous_clips']} anomalous) "
                f"| {d['train_items']}, {d['epochs']}, {d['train_seconds']:.0f} "
                f"| {a['clip_auc']:.3f} | {b['clip_auc']:.3f} | {a['clip_pauc']:.3f} "
                f"| {b['clip_pauc']:.3f} | {a['item_auc']:.3f} | {b['item_auc']:.3f} "
                f"| {a['item_pauc']:.3f} | {b['item_pauc']:.3f} |"
            )
    out += [
        "",
        "Sources (DIR = the training clips): "
        + "; ".join(f"{n} `{r['dcase']['source']}`" for n, r in recipes.items())
        + ". pAUC: max FPR 0.1 (DCASE's). Items are patches of different lengths, so item "
        "AUCs compare recipes only loosely; DCASE id_00 has one anomalous clip.",
        "",
        "Clip verdicts: the clip score (mean of its items) against the item threshold "
        "(before) and against the clip-level threshold (the same law, p99 by default, on "
        f"the held-out normal clips' scores; none under {CLIP_MIN} held-out clips):",
        "",
        "| recipe | data | model | clip threshold from | threshold | clip accuracy | TPR | FPR |",
        "|---|---|---|---|---|---|---|---|",
    ]
    holdout = {
        r["mimii_fan"].get("clip_holdout")
        for r in recipes.values()
        if not r["mimii_fan"]["float"].get("clip_threshold_set", True)
    } - {None}
    for name, r in recipes.items():
        for label, key in (("DCASE id_00", "dcase"), ("MIMII fan", "mimii_fan")):
            d = r[key]
            for kind in ("float", "int8"):
                for law, v in d[kind]["verdicts"].items():
                    t = d[kind]["item_threshold" if "item" in law else "clip_threshold"]
                    src = law
                    if "clip" in law:
                        n_clips = d[kind]["clip_calibration"]
                        src += (
                            f", {n_clips} clips"
                            if d[kind].get("clip_threshold_set", True)
                            else f": none ({n_clips} held-out clip(s) < {CLIP_MIN}), item threshold"
                        )
                    out.append(
                        f"| {name} | {label} | {kind} | {src} | {t:.4g} | {v['accuracy']:.3f} "
                        f"| {v['tpr']:.3f} | {v['fpr']:.3f} |"
                    )
    if holdout:
        out += ["", *(f"No MIMII fan clip threshold: {h}." for h in sorted(holdout))]
    out += [
        "",
        "Latency, one thread, under the CPU lock (2-core machine, see the note for what else "
        "ran; batch 1: float and int8 interleaved, median of the rounds' medians, rounds in "
        "brackets; a 10 s DCASE clip through ClipScorer, log-mels included):",
        "",
        "| recipe | model | batch 1 median µs | p90 µs | rounds | 10 s clip ms | RTF |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in recipes.items():
        for kind, v in r["latency"].items():
            out.append(
                f"| {name} | {kind} | {v['median_us']:.1f} | {v['p90_us']:.1f} "
                f"| {', '.join(f'{x:.0f}' for x in v['round_medians_us'])} "
                f"| {v['clip_10s_us'] / 1000:.1f} | {v['rtf']:.4f} |"
            )
    far = recipes.get("ad01", {}).get("dcase", {}).get("far")
    return out + (machine_far_lines(far) if far else [])
