"""Train your own denoiser: the documented commands on a folder of clean speech and one of noise.

What a user runs (README step 6, docs/data.md), timed and scored, nothing else:

    edgeae train "mix:clean=CLEAN&noise=NOISE" -o RUN --threads 1
    edgeae export RUN -o MODELS
    edgeae quantize -m MODELS/model.onnx -o MODELS/model.int8.onnx --calibration SOURCE
    edgeae compare MODELS/model.onnx MODELS/model.int8.onnx --data SOURCE

CLEAN = ``../shared/data/speech/clean`` (LJSpeech + CMU ARCTIC, 40 files), NOISE =
``../shared/data/speech/noise`` (13 recordings); the source holds 20 % of the files of
each out (by file: unseen utterances and unseen noise recordings) and compare scores
them at 0, 5 and 10 dB. The same int8 model, and the shipped pretrained one side by
side, are then scored on the recorded pairs (``pairs:DIR&val=1``: every pair). Needs
``../shared/data`` (skips otherwise); 1 thread; about 6 minutes.

    python benchmarks/bench_train_speech.py
    python benchmarks/bench_train_speech.py --options "synthetic=0" --tag nosynth   # a variant
    python benchmarks/bench_train_speech.py --train-args=--recurrent --tag gru      # a model option

``--options`` appends ``mix:`` options to the source (docs/data.md), ``--train-args`` flags to
``edgeae train``; ``--tag`` writes
``results/train_speech.TAG.json`` instead of the section's file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEECH = ROOT.parent / "shared" / "data" / "speech"
RESULTS = ROOT / "benchmarks" / "results" / "train_speech.json"
PAIRS = ("dns_challenge_mpsenet", "vctk_demand_trainset_p287", "deepfilternet_freesound")
METRICS = ("snr", "sisnr", "pesq", "stoi")


def edgeae(*args: str) -> str:
    """Run the ``edgeae`` CLI of this interpreter; its stdout (stderr passes through on failure)."""
    cmd = [sys.executable, "-m", "edgeae", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def speech_rows(a: str, b: str, source: str) -> dict:
    """``edgeae compare``'s speech table (noisy input, A, B) on ``source``'s held-out files."""
    out = json.loads(edgeae("compare", a, b, "--data", source, "--json", "--no-memory",
                            "--batch", "1", "--no-nodes"))  # fmt: skip
    return out["speech"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--options", default="", help="mix: options to add, e.g. synthetic=0")
    parser.add_argument(
        "--train-args", default="", help="more edgeae train flags, e.g. --recurrent"
    )
    parser.add_argument("--tag", default="", help="write results/train_speech.TAG.json")
    args = parser.parse_args()
    if not SPEECH.is_dir():
        print(f"skipped: {SPEECH} is absent")
        return 0
    from edgeae_runtime.pretrained import pretrained_path

    source = f"mix:clean={SPEECH / 'clean'}&noise={SPEECH / 'noise'}"
    if args.options:
        source += "&" + args.options
    results = RESULTS.with_suffix(f".{args.tag}.json") if args.tag else RESULTS
    shipped = str(pretrained_path("speech-denoiser"))
    with tempfile.TemporaryDirectory() as tmp:
        run, models = Path(tmp) / "run", Path(tmp) / "models"
        t0 = time.perf_counter()
        edgeae("train", source, "-o", str(run), "--threads", "1", "-q", *args.train_args.split())
        train_s = time.perf_counter() - t0
        edgeae("export", str(run), "-o", str(models))
        fp32, int8 = str(models / "model.onnx"), str(models / "model.int8.onnx")
        edgeae("quantize", "-m", fp32, "-o", int8, "--calibration", source)
        metrics = json.loads((run / "metrics.json").read_text())
        own = speech_rows(fp32, int8, source)
        pairs = {p: speech_rows(shipped, int8, f"pairs:{SPEECH / 'pairs' / p}&val=1")
                 for p in PAIRS}  # fmt: skip
    result = {
        "source": source,
        "train_args": args.train_args,
        "train_seconds": round(train_s, 1),
        "epochs": metrics["epochs_run"],
        "best_epoch": metrics["best_epoch"],
        "parameters": metrics["parameters"],
        "split": metrics["split"],
        "held_out": own,
        "pairs": pairs,
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    return 0


def _row(data: str, system: str, values: dict, names: tuple[str, ...]) -> str:
    cells = [f"{values[m]:.3f}" if m in values else "-" for m in names]
    return f"| {data} | {system} | " + " | ".join(cells) + " |"


def report(r: dict) -> str:
    """The Markdown section: the run, then one table of every scored system."""
    names = tuple(m for m in METRICS if m in r["held_out"]["metrics"])
    lines = [
        f'`edgeae train "mix:clean=../shared/data/speech/clean&noise=../shared/data/speech/'
        f'noise" --threads 1{(" " + r["train_args"]) if r.get("train_args") else ""}` '
        f"(the speech recipe: spectral mask, {r['parameters']:,} "
        f"parameters; {r['split']}): {r['epochs']} epochs in {r['train_seconds']:.0f} s "
        f"(best epoch {r['best_epoch']}), then `edgeae export`, `edgeae quantize --calibration "
        "SOURCE` and `edgeae compare --data SOURCE` (the held-out files at 0/5/10 dB) or "
        "`--data pairs:DIR&val=1` (every recorded pair). `shipped` = the pretrained int8 "
        "denoiser (trained on redistributable data only); `own` = the model trained here "
        "(this data includes CMU ARCTIC and ESC-50 recordings: fine for a user's own model, "
        "not for one the project ships).",
        "",
        "| data | system | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    own = r["held_out"]["rows"]
    held = f"held-out files ({len(r['held_out']['files'])})"
    lines += [
        _row(held, "noisy", own["noisy input"], names),
        _row(held, "own float", own["A"], names),
        _row(held, "own int8", own["B"], names),
    ]
    for pair, rep in r["pairs"].items():
        rows = rep["rows"]
        label = f"pairs/{pair} ({len(rep['files'])})"
        lines += [
            _row(label, "noisy", rows["noisy input"], names),
            _row(label, "shipped int8", rows["A"], names),
            _row(label, "own int8", rows["B"], names),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
