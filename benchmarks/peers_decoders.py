"""The ``decoders`` phase of the peers benchmark (bench_peers.py): upsample vs sub-pixel
decoders at equal training over more seeds (``DECODER_CASES``), the built tones models
on the held-out recording, and the Markdown of both (no timing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from peers_common import log

#: The decoder checks beyond the one training seed of the peers table: (case, source, arch,
#: epochs, training seeds, metric). Float models; each case writes DIR/decoders-CASE.json.
DECODER_CASES = {
    "sensor15": ("builtin:sensor", None, 15, (0, 1, 2), "auroc"),
    "sensor60": ("builtin:sensor", None, 60, (0,), "auroc"),
    "digits": ("builtin:digits", "conv2d", 30, (0, 1, 2), "psnr"),
    "tones25": ("builtin:tones", None, 25, (0,), "snr"),
}


def decoder_case(case: str, work: Path, quick: bool) -> list[dict]:
    """Train upsample and sub-pixel at equal settings per seed; the task metric on
    held-out data (sensor: AUROC on the seed-1 and seed-2 sets; digits: PSNR on the
    training run's held-out split)."""
    import torch

    from edgeae.data import load_source
    from edgeae.data.split import split_indices
    from edgeae.train import TrainConfig, load_checkpoint, recipe_arch, recipe_for, train
    from edgeae_export.exporter import export_autoencoder
    from edgeae_export.sampling import EXPORT_SAMPLES, sample_items
    from edgeae_runtime.metrics import auroc, psnr, psnr_peak
    from edgeae_runtime.model import Model
    from edgeae_runtime.preprocess import normalize

    torch.set_num_threads(1)
    source, arch, epochs, seeds, metric = DECODER_CASES[case]
    epochs = 2 if quick else epochs
    ds = load_source(source)
    evals = [load_source(f"{source}?seed={k}") for k in (1, 2)] if metric == "auroc" else []
    rows = []
    for seed in seeds:
        for dec in ("upsample", "subpixel"):
            mo, to = recipe_for(source, arch)
            run = work / "decoders" / f"{case}-{dec}-{seed}"
            train(ds, arch or recipe_arch(source), {**mo, "decoder": dec},
                  TrainConfig(**{**to, "epochs": epochs, "seed": seed}), run, progress=False,
                  data_source=source, force=True)
            ck = load_checkpoint(run)
            example = normalize(sample_items(ds.x, EXPORT_SAMPLES), ck.preprocessing)
            export_autoencoder(ck.model, out_dir=run / "onnx", info=ck.export_info(source),
                               example_inputs=example, force=True)
            m = Model(run / "onnx" / "model.onnx")
            if metric == "auroc":
                values = [float(auroc(m.score(e.x), e.anomaly_labels)) for e in evals]
            elif metric == "snr":
                values = [_recording_snr(m)]
            else:
                _, val = split_indices(len(ds), 0.1, seed)
                span = psnr_peak(ck.preprocessing.value_range)
                values = [float(psnr(ds.x[val], m.reconstruct(ds.x[val]), data_range=span))]
            rows.append({"case": case, "decoder": dec, "seed": seed, "epochs": ck.epoch,
                         "metric": metric, "values": values})
            log(f"decoders {rows[-1]}")
    (work / f"decoders-{case}.json").write_text(json.dumps(rows, indent=2))
    return rows


def _recording_snr(model: Any) -> float:
    """SNR (dB) of the held-out tones recording (builtin:tones?seed=101, what the demo
    denoises) after the runtime's stream, 100 ms chunks."""
    from edgeae.data import load_source
    from edgeae_runtime import metrics
    from edgeae_runtime.stream import StreamDenoiser

    ds = load_source("builtin:tones?seed=101")
    noisy, clean, rate = ds.signal, ds.clean_signal, int(ds.sample_rate)
    den = StreamDenoiser(model)
    chunk = rate // 10
    parts = [den.push(noisy[:, i : i + chunk]) for i in range(0, noisy.shape[1], chunk)]
    return float(metrics.snr_db(clean, np.concatenate([*parts, den.flush()], axis=1)))


def held_out_snr(work: Path) -> list[dict]:
    """The tones recipe's own metric on the peers models: SNR of the held-out recording
    (``builtin:tones?seed=101``, what the demo denoises) through the runtime's stream."""
    from edgeae.data import load_source
    from edgeae_runtime import metrics
    from edgeae_runtime.model import Model
    from edgeae_runtime.stream import StreamDenoiser

    ds = load_source("builtin:tones?seed=101")
    noisy, clean, rate = ds.signal, ds.clean_signal, int(ds.sample_rate)
    rows = []
    for tag in ("tones-conv1d", "tones-conv1d-subpixel"):
        for kind in ("model.onnx", "model.int8.onnx"):
            path = work / tag / kind
            if not path.exists():
                continue
            den = StreamDenoiser(Model(path))
            chunk = rate // 10
            parts = [den.push(noisy[:, i : i + chunk]) for i in range(0, noisy.shape[1], chunk)]
            out = np.concatenate([*parts, den.flush()], axis=1)
            rows.append({"model": tag, "file": kind, "snr_in_db": metrics.snr_db(clean, noisy),
                         "snr_out_db": metrics.snr_db(clean, out)})
    (work / "decoders-tones.json").write_text(json.dumps(rows, indent=2))
    return rows


def decoders_markdown(work: Path) -> list[str]:
    """The decoder checks found in ``work`` as Markdown lines (empty when none ran)."""
    lines: list[str] = []
    rows = []
    for case in DECODER_CASES:
        f = work / f"decoders-{case}.json"
        if f.exists():
            rows += json.loads(f.read_text())
    if rows:
        lines += [
            "",
            "### Decoders at equal training, more seeds (float; "
            "`bench_peers.py decoders --case CASE`)",
            "",
            "| case | epochs | training seed | metric (held-out) | upsample | sub-pixel |",
            "|---|---|---|---|---|---|",
        ]
        for case in DECODER_CASES:
            for seed in DECODER_CASES[case][3]:
                pair = {r["decoder"]: r for r in rows if r["case"] == case and r["seed"] == seed}
                if len(pair) < 2:
                    continue
                what = {
                    "auroc": "AUROC on builtin:sensor?seed=1 / ?seed=2",
                    "psnr": "PSNR dB, held-out split",
                    "snr": "SNR dB, held-out recording (seed 101)",
                }[pair["upsample"]["metric"]]
                fmt = " / ".join
                lines.append(
                    f"| {case} | {pair['upsample']['epochs']} | {seed} | {what} | "
                    f"{fmt(f'{v:.3f}' for v in pair['upsample']['values'])} | "
                    f"{fmt(f'{v:.3f}' for v in pair['subpixel']['values'])} |"
                )
    f = work / "decoders-tones.json"
    if f.exists():
        lines += ["", "Tones, held-out recording (builtin:tones?seed=101, 100 ms chunks), the "
                  "peers table's 8-epoch models:", ""]
        for r in json.loads(f.read_text()):
            lines.append(f"- {r['model']} {r['file']}: SNR {r['snr_in_db']:.2f} -> "
                         f"{r['snr_out_db']:.2f} dB")
    return lines
