"""Speech denoising on real speech and real noise: the shipped denoiser against the input, a tuned
Wiener filter and the old time-domain recipe, side by side in one run.

    flock /tmp/edgeae-heavy.lock .venv/bin/python benchmarks/bench_speech.py
    ... --float DIR/model.onnx     # also score the float export (train_speech_denoiser.py -o DIR)
    ... --quick                    # 2 held-out files per SNR, no tones training

Data (``benchmarks/speech_data.py``; none of it used in training):
- ``pairs/*``: the real noisy/clean pairs in ``../shared/data/speech/pairs`` (of the
  VoiceBank-DEMAND p287 pairs only ``VCTK_HELDOUT_PAIRS``: the others are trained on);
- ``mix N dB``: each held-out clean file (``HELDOUT_CLEAN``) mixed with three
  held-out noises (``HELDOUT_NOISE``, other noise types than in training) at
  0, 5 and 10 dB.
Systems: ``noisy`` (the input), ``wiener`` (benchmarks/wiener.py, tuned on the
validation mixtures), ``oracle IRM`` (benchmarks/oracle_mask.py: the ideal ratio mask
with the model's STFT, computed from the clean reference: the ceiling of any mask
model, not a system), ``edgeae float`` / ``edgeae int8`` (the spectral-mask model,
through the runtime), ``tones recipe`` (``edgeae train builtin:tones``, the old
time-domain route). Metrics: SNR, SI-SNR (dB), PESQ wide-band (``pesq``), STOI
(``pystoi``). Speed: parameters, MACs per second of audio, real-time factor of the
runtime's stream at 10/20/100 ms chunks on one thread, streams per core, latency,
int8 vs ORT fp32 at batch 256. Writes ``benchmarks/results/speech.json`` and
spectrogram PNGs (``--png-dir``, default build/speech-png).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from oracle_mask import oracle_irm  # noqa: E402
from speech_data import (  # noqa: E402
    HELDOUT_CLEAN,
    HELDOUT_NOISE,
    RATE,
    VCTK_PAIRS,
    VCTK_TRAIN_PAIRS,
    SpeechCorpus,
    data_root,
    load,
)
from wiener import tune, wiener  # noqa: E402

from edgeae.data.mixing import mix_at_snr, scale_to_level  # noqa: E402
from edgeae.metrics import pesq_wb as _pesq  # noqa: E402
from edgeae.metrics import speech_scores  # noqa: E402
from edgeae_runtime import Model, StreamDenoiser  # noqa: E402
from edgeae_runtime.atomic import write_text_atomic  # noqa: E402
from edgeae_runtime.pretrained import pretrained_path  # noqa: E402
from edgeae_runtime.spectral import SpectralDenoiser, denoise_spectral_offline  # noqa: E402

RESULTS = HERE / "results" / "speech.json"
SNRS = (0, 5, 10)


def pesq_wb(ref: np.ndarray, est: np.ndarray) -> float:
    """PESQ-wb, NaN where the pesq package finds no utterance."""
    try:
        return float(_pesq(ref, est, RATE))
    except Exception:  # pesq's NoUtterancesError and kin: count as missing
        return float("nan")


def metrics(ref: np.ndarray, est: np.ndarray) -> dict[str, float]:
    """SNR, SI-SNR, PESQ-wb, STOI through edgeae.metrics (the metrics extra)."""
    out = speech_scores(ref, est, RATE, ("snr", "sisnr", "stoi"))
    out["pesq"] = pesq_wb(ref, est)
    return out


def eval_sets(quick: bool) -> dict[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    """name -> [(file, noisy, clean)]."""
    root = data_root()
    sets: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for d in sorted((root / "pairs").iterdir()):
        items = []
        for f in sorted((d / "clean").glob("*.wav")):
            if d.name == VCTK_PAIRS and f.name in VCTK_TRAIN_PAIRS:
                continue  # trained on: only the held-out pairs are measured
            c, x = load(f), load(d / "noisy" / f.name)
            n = min(len(c), len(x))
            items.append((f.name, x[:n], c[:n]))
        sets[f"pairs/{d.name}"] = items[:2] if quick else items
    cleans = HELDOUT_CLEAN[:2] if quick else HELDOUT_CLEAN
    for snr in SNRS:
        items = []
        for i, cf in enumerate(cleans):
            c = load(root / "clean" / cf)
            for j in range(1 if quick else 3):
                nf = HELDOUT_NOISE[(3 * i + j) % len(HELDOUT_NOISE)]
                noise = load(root / "noise" / nf)
                rng = np.random.default_rng(1000 * i + 10 * j + snr)
                if len(noise) < len(c):
                    noise = np.tile(noise, len(c) // len(noise) + 1)
                start = int(rng.integers(0, len(noise) - len(c) + 1))
                x, cs = scale_to_level(mix_at_snr(c, noise[start : start + len(c)], snr), c, None)
                items.append((f"{Path(cf).stem}+{Path(nf).stem}", x, cs))
        sets[f"mix {snr} dB"] = items
    return sets


def train_tones(work: Path) -> Path:
    """The old route: ``edgeae train builtin:tones`` + ``edgeae export`` (README walk-through)."""
    run, out = work / "tones_run", work / "tones_onnx"
    exe = Path(sys.executable).parent / "edgeae"
    subprocess.run(
        [str(exe), "train", "builtin:tones", "-o", str(run), "--threads", "1"],
        check=True,
        capture_output=True,
    )
    subprocess.run([str(exe), "export", str(run), "-o", str(out)], check=True, capture_output=True)
    return out / "model.onnx"


def run_stream(den: Any, x: np.ndarray, chunk: int) -> np.ndarray:
    outs = [den.push(x[i : i + chunk]) for i in range(0, len(x), chunk)]
    outs.append(den.flush())
    return np.concatenate(outs, axis=1)[0]


def stream_rtf(model: Model, seconds: float = 10.0) -> dict[str, float]:
    """Real-time factor of the spectral stream at 10, 20, 100 ms chunks (best of 3)."""
    x = (np.random.default_rng(0).standard_normal(int(seconds * RATE)) * 0.05).astype(np.float32)
    out = {}
    for ms in (10, 20, 100):
        chunk = RATE * ms // 1000
        den = SpectralDenoiser(model)
        best = np.inf
        for _ in range(3):
            t = time.perf_counter()
            run_stream(den, x, chunk)
            best = min(best, time.perf_counter() - t)
        out[f"{ms}ms"] = best / seconds
    return out


def batch_us(model: Model, batch: int = 256, repeats: int = 30) -> float:
    """Median µs of one onnxruntime call on ``batch`` items."""
    x = np.random.default_rng(0).random((batch, *model.item_shape), dtype=np.float32)
    name = model.session.get_outputs()[0].name
    for _ in range(3):
        model.session.run([name], {"input": x})
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.session.run([name], {"input": x})
        ts.append(time.perf_counter() - t)
    return float(np.median(ts) * 1e6)


def macs_per_second(model: Model) -> tuple[int, float]:
    """Parameters and multiply-accumulates per second of audio: the manifest's arch config
    rebuilt as an ``edgeae.models`` spectral model (conv or recurrent), one item counted."""
    from edgeae.models import SpectralConfig, build_model

    cfg = dict(model.manifest.arch_config)
    cfg["tree"] = tuple(cfg.get("tree", ()))
    net = build_model("spectral", SpectralConfig(item_shape=tuple(model.item_shape), **cfg))
    params = sum(p.numel() for p in net.parameters())
    spec = model.require_signal()
    return params, net.macs_per_frame() * spec.sample_rate / spec.hop


def spectrogram_png(path: Path, signals: dict[str, np.ndarray], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(signals), 1, figsize=(9, 2.0 * len(signals)), sharex=True)
    for ax, (name, x) in zip(axes, signals.items(), strict=True):
        ax.specgram(x + 1e-9, NFFT=512, Fs=RATE, noverlap=384, cmap="magma", vmin=-130, vmax=-20)
        ax.set_ylabel(name, fontsize=8)
    axes[0].set_title(title, fontsize=9)
    axes[-1].set_xlabel("s")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def summarize(per_file: dict[str, dict[str, list[dict[str, float]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for set_name, systems in per_file.items():
        base = systems["noisy"]
        row: dict[str, Any] = {}
        for sysname, vals in systems.items():
            mean = {
                m: float(np.nanmean([v[m] for v in vals])) for m in ("snr", "sisnr", "pesq", "stoi")
            }
            mean["stoi_lower_files"] = int(
                sum(v["stoi"] < b["stoi"] - 1e-9 for v, b in zip(vals, base, strict=True))
            )
            row[sysname] = mean
        out[set_name] = row
    return out


#: Printed above the numbers, so the regenerated BENCHMARKS.md section says what they are.
ABOUT = """\
FLOAT comes from `benchmarks/train_speech_denoiser.py -o DIR` (the shipped model's float \
export); results in `benchmarks/results/speech.json`, spectrograms in `build/speech-png/`; \
1 thread. The shipped model and how it was chosen: docs/speech.md (its training record: \
runtime/edgeae_runtime/pretrained/speech-denoiser.json). Held out from training \
(benchmarks/speech_data.py): the DNS and Freesound pairs, the VoiceBank-DEMAND pairs p287_004 \
and p287_006 (the other four are trained on, so that row is a seen-speaker, seen-noise-corpus \
test), LJSpeech LJ001-0028..0031 and LJ050-0131, ARCTIC aew_a0003 and axb_a0006 (speakers \
never trained on), and every noise of the `mix` rows (speechbrain noise1-5, ESC-50 x3, \
Freesound: noise types never trained on). `mix N dB` = each of the 7 clean files with 3 of \
those noises at N dB (21 files). `wiener` = benchmarks/wiener.py, decision-directed Wiener + \
minimum-statistics noise floor, tuned for PESQ on the validation mixtures. `oracle IRM` = \
benchmarks/oracle_mask.py: the ideal ratio mask from the clean reference with the shipped \
STFT: the ceiling of any mask model, not a system. `edgeae float/int8` = the spectral-mask \
model through the runtime. `tones recipe` = `edgeae train builtin:tones` + export (the README \
route). Last column: files whose STOI is below the input's. Below the table: the issue's \
targets on the `mix` rows (int8) and the speed (RTF of the 10/20/100 ms stream, int8 vs ORT \
fp32 at batch 256)."""


def table(summary: dict[str, Any]) -> str:
    lines = [
        "| data | system | SNR dB | SI-SNR dB | PESQ-wb | STOI | files STOI lower |",
        "|---|---|---|---|---|---|---|",
    ]
    for set_name, row in summary.items():
        for sysname, m in row.items():
            lines.append(
                f"| {set_name} | {sysname} | {m['snr']:.2f} | {m['sisnr']:.2f} | {m['pesq']:.3f} | "
                f"{m['stoi']:.3f} | {m['stoi_lower_files'] if sysname != 'noisy' else ''} |"
            )
    return "\n".join(lines)


def wiener_losses(summary: dict[str, Any], system: str = "edgeae int8") -> list[str]:
    """Every ``set metric`` where ``system`` does not beat the Wiener baseline."""
    return [
        f"{s} {m.upper() if m != 'sisnr' else 'SI-SNR'}"
        for s in summary
        for m in ("snr", "sisnr", "pesq", "stoi")
        if not summary[s][system][m] > summary[s]["wiener"][m]
    ]


def targets_table(result: dict[str, Any]) -> str:
    """Issue 9's targets, one row each: what was measured (the int8 model) and whether it is met."""
    summary, targets, speed = result["summary"], result["targets"], result["speed"]
    best = "edgeae int8"
    files = sum(
        len(result["per_file"][s]["noisy"])
        for s in summary
        if s.startswith("mix") and not s.startswith("mix 0")
    )
    lost = wiener_losses(summary, best)
    rtf = speed["int8_rtf"]
    rows = [
        (
            "SI-SNR improvement >= +8 dB mean",
            f"{targets['sisnr_gain_mix']:+.2f} dB",
            targets["sisnr_gain_mix"] >= 8.0,
        ),
        (
            "PESQ-wb improvement >= +0.6",
            f"{targets['pesq_gain_mix']:+.3f}",
            targets["pesq_gain_mix"] >= 0.6,
        ),
        (
            "STOI never below the input's at >= 5 dB",
            f"lower on {targets['stoi_lower_files_at_5_10dB']} of {files} files",
            targets["stoi_lower_files_at_5_10dB"] == 0,
        ),
        (
            "beats the Wiener baseline on every metric",
            "every set and metric" if not lost else "not on: " + ", ".join(lost),
            not lost,
        ),
    ]
    if "int8_minus_float_sisnr" in targets:
        ds, dp = targets["int8_minus_float_sisnr"], targets["int8_minus_float_pesq"]
        rows.append(
            (
                "int8 within 0.3 dB SI-SNR / 0.05 PESQ of float",
                f"{ds:+.3f} dB / {dp:+.3f}",
                abs(ds) <= 0.3 and abs(dp) <= 0.05,
            )
        )
    if "int8_vs_fp32_batch256" in speed:
        r = speed["int8_vs_fp32_batch256"]
        rows.append(
            (
                "int8 >= 2x ORT fp32",
                f"{r:.2f}x at batch 256 ({speed['float_batch256_us']:.0f} -> "
                f"{speed['int8_batch256_us']:.0f} µs), {speed['int8_vs_fp32_stream20ms']:.2f}x "
                "on the whole 20 ms stream (numpy FFTs included)",
                r >= 2.0,
            )
        )
    rows += [
        ("<= 100k parameters", f"{speed['params']:,}", speed["params"] <= 100_000),
        (
            "RTF <= 0.05 at 20 ms chunks, one core",
            f"int8 {rtf['20ms']:.4f} (10 ms: {rtf['10ms']:.4f}, 100 ms: {rtf['100ms']:.4f})",
            rtf["20ms"] <= 0.05,
        ),
        (
            "latency <= 32 ms",
            f"{speed['latency_ms']:.1f} ms algorithmic",
            speed["latency_ms"] <= 32,
        ),
    ]
    lines = [
        "Targets (issue 9) on the `mix` rows, the int8 model:",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *(f"| {name} | {value} | {'yes' if ok else 'no'} |" for name, value, ok in rows),
        "",
        f"Also: {speed['macs_per_second'] / 1e6:.1f} MMAC per second of audio, "
        f"{speed['streams_per_core_20ms']:.0f} streams per core in real time at 20 ms chunks, "
        f"int8 file {speed['int8_bytes']:,} B.",
    ]
    return "\n".join(lines)


def report(result: dict[str, Any]) -> str:
    """The Markdown report of one run's results (what BENCHMARKS.md's section shows)."""
    return "\n\n".join([ABOUT, table(result["summary"]), targets_table(result)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--float", dest="float_model", type=Path, default=None)
    ap.add_argument("--int8", type=Path, default=None, help="default: the shipped model")
    ap.add_argument("--tones", type=Path, default=None, help="a tones model.onnx (else trained)")
    ap.add_argument("--no-tones", action="store_true")
    ap.add_argument(
        "--time-domain",
        type=Path,
        default=None,
        help="the time-domain candidate's model.onnx (train_speech_denoiser.py --arch conv1d)",
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--report", type=Path, default=None, help="only print the report of a stored results JSON"
    )
    ap.add_argument("--png-dir", type=Path, default=HERE.parent / "build" / "speech-png")
    ap.add_argument("-o", "--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if args.report is not None:
        print(report(json.loads(args.report.read_text())))
        return
    t_all = time.perf_counter()

    int8 = Model(args.int8 or pretrained_path("speech-denoiser"), threads=1)
    systems: dict[str, Any] = {"int8": int8}
    if args.float_model:
        systems = {"float": Model(args.float_model, threads=1), "int8": int8}
    with tempfile.TemporaryDirectory() as tmp:
        tones = None
        if not args.no_tones and not args.quick:
            print("training the tones recipe (edgeae train builtin:tones) ...", file=sys.stderr)
            tones = Model(args.tones or train_tones(Path(tmp)), threads=1)

        timedom = Model(args.time_domain, threads=1) if args.time_domain else None
        print("tuning the Wiener filter on validation mixtures ...", file=sys.stderr)
        corpus = SpeechCorpus.load()
        vn, vc = corpus.mixtures(8 if args.quick else 16, 3 * RATE, seed=10_000, val=True)
        wp, wscore = tune(list(vn), list(vc), pesq_wb)
        print(f"  wiener {wp} (val PESQ {wscore:.3f})", file=sys.stderr)

        sets = eval_sets(args.quick)
        per_file: dict[str, dict[str, list[dict[str, float]]]] = {}
        args.png_dir.mkdir(parents=True, exist_ok=True)
        for set_name, items in sets.items():
            rows: dict[str, list[dict[str, float]]] = {}
            for idx, (fname, x, c) in enumerate(items):
                outs = {"noisy": x, "wiener": wiener(x, wp)}
                outs["oracle IRM"] = oracle_irm(x, c)  # the masking ceiling (uses the clean)
                for name, m in systems.items():
                    outs[f"edgeae {name}"] = denoise_spectral_offline(m, x)[0]
                if tones is not None:
                    outs["tones recipe"] = run_stream(StreamDenoiser(tones), x, 1600)
                if timedom is not None:
                    outs["conv1d speech"] = run_stream(StreamDenoiser(timedom), x, 1600)
                for sysname, y in outs.items():
                    rows.setdefault(sysname, []).append({"file": fname, **metrics(c, y)})
                if idx == 0:
                    tag = set_name.replace("/", "_").replace(" ", "_")
                    spectrogram_png(
                        args.png_dir / f"{tag}.png", {**outs, "clean": c}, f"{set_name}: {fname}"
                    )
            per_file[set_name] = rows
            print(f"  {set_name}: {len(items)} files", file=sys.stderr)

    summary = summarize(per_file)
    mix = [s for s in summary if s.startswith("mix")]

    def gain(sysname: str, metric: str, names: list[str]) -> float:
        return float(
            np.mean([summary[s][sysname][metric] - summary[s]["noisy"][metric] for s in names])
        )

    params, macs = macs_per_second(int8)
    speed: dict[str, Any] = {"params": params, "macs_per_second": macs}
    for name, m in systems.items():
        speed[f"{name}_rtf"] = stream_rtf(m)
        speed[f"{name}_batch256_us"] = batch_us(m)
    if "float" in systems:
        speed["int8_vs_fp32_batch256"] = speed["float_batch256_us"] / speed["int8_batch256_us"]
        speed["int8_vs_fp32_stream20ms"] = speed["float_rtf"]["20ms"] / speed["int8_rtf"]["20ms"]
    speed["streams_per_core_20ms"] = 1.0 / speed["int8_rtf"]["20ms"]
    den = SpectralDenoiser(int8)
    speed["latency_ms"] = den.latency_ms
    speed["int8_bytes"] = int8.path.stat().st_size

    targets = {}
    best = "edgeae int8"
    targets["sisnr_gain_mix"] = gain(best, "sisnr", mix)
    targets["pesq_gain_mix"] = gain(best, "pesq", mix)
    targets["stoi_lower_files_at_5_10dB"] = sum(
        summary[s][best]["stoi_lower_files"] for s in mix if not s.startswith("mix 0")
    )
    targets["beats_wiener_every_metric"] = not wiener_losses(summary, best)
    if "float" in systems:
        targets["int8_minus_float_sisnr"] = float(
            np.mean(
                [summary[s][best]["sisnr"] - summary[s]["edgeae float"]["sisnr"] for s in summary]
            )
        )
        targets["int8_minus_float_pesq"] = float(
            np.mean(
                [summary[s][best]["pesq"] - summary[s]["edgeae float"]["pesq"] for s in summary]
            )
        )

    result = {
        "command": "python benchmarks/bench_speech.py " + " ".join(sys.argv[1:]),
        "wiener": wp.__dict__,
        "heldout_clean": list(HELDOUT_CLEAN),
        "heldout_noise": list(HELDOUT_NOISE),
        "summary": summary,
        "targets": targets,
        "speed": speed,
        "per_file": per_file,
        "seconds": round(time.perf_counter() - t_all, 1),
    }
    print(report(result))
    write_text_atomic(args.out, json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
