"""Score candidate speech denoisers (exported ONNX files) through the runtime, for model choice.

    .venv/bin/python benchmarks/score_speech_candidate.py --split val A.int8.onnx B.int8.onnx
    .venv/bin/python benchmarks/score_speech_candidate.py --split heldout A.int8.onnx

``val``: 16 validation mixtures of 3 s (``speech_data.VAL_CLEAN`` with training-type
noise; the trainer's ``val_quality`` draw, here through the runtime). ``heldout``:
bench_speech's sets (the held-out pairs and the ``mix 0/5/10 dB`` mixtures of
held-out speech with held-out noise types). Prints, per model, the mean SI-SNR /
PESQ-wb / STOI gain over the input and the files whose STOI falls below the
input's; no timing (bench_speech.py measures speed). Choose on ``val``, confirm on
``heldout``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_speech import eval_sets, metrics, summarize  # noqa: E402
from speech_data import RATE, SpeechCorpus  # noqa: E402

from edgeae_runtime import Model  # noqa: E402
from edgeae_runtime.spectral import denoise_spectral_offline  # noqa: E402


def val_set() -> dict[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    noisy, clean = SpeechCorpus.load().mixtures(16, 3 * RATE, seed=10_001, val=True)
    return {"val": [(f"val{i}", x, c) for i, (x, c) in enumerate(zip(noisy, clean, strict=True))]}


def score(paths: list[Path], split: str) -> dict[str, dict[str, dict[str, float]]]:
    """Summary per set and system (``noisy`` and each model's file name)."""
    sets = val_set() if split == "val" else eval_sets(quick=False)
    models = {str(p): Model(p, threads=1) for p in paths}
    per_file: dict[str, dict[str, list[dict[str, float]]]] = {}
    for set_name, items in sets.items():
        rows: dict[str, list[dict[str, float]]] = {}
        for fname, x, c in items:
            outs = {"noisy": x} | {k: denoise_spectral_offline(m, x)[0] for k, m in models.items()}
            for name, y in outs.items():
                rows.setdefault(name, []).append({"file": fname, **metrics(c, y)})
        per_file[set_name] = rows
    return summarize(per_file)


def gains(summary: dict[str, dict[str, dict[str, float]]], system: str) -> dict[str, float]:
    """Mean gains over the ``mix`` sets (heldout) or the one ``val`` set."""
    names = [s for s in summary if s.startswith("mix")] or list(summary)
    out = {
        f"{m}_gain": float(np.mean([summary[s][system][m] - summary[s]["noisy"][m] for s in names]))
        for m in ("sisnr", "pesq", "stoi")
    }
    out["stoi_lower_files"] = sum(
        summary[s][system]["stoi_lower_files"] for s in names if not s.startswith("mix 0")
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", type=Path, nargs="+")
    ap.add_argument("--split", choices=("val", "heldout"), default="val")
    ap.add_argument("-o", "--out", type=Path, default=None, help="write the summary as JSON")
    args = ap.parse_args()
    summary = score(args.models, args.split)
    for p in args.models:
        g = gains(summary, str(p))
        print(
            f"{p}: SI-SNR {g['sisnr_gain']:+.2f} dB, PESQ {g['pesq_gain']:+.3f}, "
            f"STOI {g['stoi_gain']:+.4f}, STOI lower on {g['stoi_lower_files']} files"
            + (" (5-10 dB)" if args.split == "heldout" else "")
        )
    for s, row in summary.items():  # absolute means per set: SI-SNR / PESQ-wb / STOI
        cells = ", ".join(
            f"{k.split('/')[-1]} {v['sisnr']:.2f}/{v['pesq']:.3f}/{v['stoi']:.3f}"
            for k, v in row.items()
        )
        print(f"  {s}: {cells}")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
