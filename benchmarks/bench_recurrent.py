"""Does recurrence beat the shipped 8-frame conv mask at equal steps? A torch-only probe.

    .venv/bin/python benchmarks/bench_recurrent.py --epochs 40 [--long 300] [--threads 1]

Trains two speech denoisers with ``train_speech_denoiser.py``'s data, loss, schedule and
seed, one after the other, and prints their validation gains (the trainer's 64 x 1.5 s
SI-SNR gain of the best epoch, and SI-SNR / PESQ-wb / STOI gains of 16 x 3 s mixtures):

- ``conv``: the shipped spectral mask (``SpectralMaskAE``: 8 frames + noise floor);
- ``gru``: the same STFT front-end, features and mask contract, with the past carried
  by a GRU instead of 8 context frames: ``[|X|^0.3 of the frame, its noise floor]``
  (2 x 161) -> Linear 64, ReLU -> GRU 80 -> Linear 128, ReLU -> Linear 161, Sigmoid.

``--long N`` then trains the GRU alone for N epochs and sets it beside the shipped
model's own training record (the same script and seed; 300 epochs). This probe is what
made the case for the recurrent-state contract; the GRU design has shipped since
(``edgeae.models.spectral_gru``, ``train_speech_denoiser.py``'s default; docs/speech.md
"Recurrence"), and this script keeps its own copy of the probe model so the stored
numbers stay reproducible. Results go to
``benchmarks/results/recurrent.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import train_speech_denoiser as tsd  # noqa: E402

from edgeae.models.spectral import SpectralConfig, track_floor  # noqa: E402
from edgeae.train.denoiser import enhance  # noqa: E402


class GRUMask(nn.Module):
    """The probe's recurrent mask model (``config`` and ``mask_sequence`` as the trainer
    expects of a spectral model)."""

    def __init__(self, cfg: SpectralConfig, hidden: int = 80, width: int = 64) -> None:
        super().__init__()
        self.config = cfg
        f = cfg.bins
        self.inp = nn.Sequential(nn.Linear(2 * f, width), nn.ReLU())
        self.gru = nn.GRU(width, hidden, batch_first=True)
        self.out = nn.Sequential(nn.Linear(hidden, 128), nn.ReLU(), nn.Linear(128, f), nn.Sigmoid())
        with torch.no_grad():  # start near "pass everything", as the conv model does
            self.out[-2].bias.fill_(1.0)

    def mask_sequence(self, feats: torch.Tensor) -> torch.Tensor:
        """Masks ``(B, bins, T)`` of feature sequences ``(B, bins, T)``, causal."""
        floor = track_floor(feats, self.config.noise_floor)
        x = torch.cat([feats, floor], 1).transpose(1, 2)
        h, _ = self.gru(self.inp(x))
        return self.out(h).transpose(1, 2)


SHIPPED = tsd.PRETRAINED / "speech-denoiser.json"


def train_one(
    kind: str, epochs: int, steps: int, threads: int, save: Path | None, quick: bool
) -> dict:
    """One model trained by the shipped recipe's script, scored on bench_speech's held-out
    sets (float, the torch twin of the runtime's STFT / mask / overlap-add); its record (the
    trainer's per-epoch lines go to stderr, the tables to stdout)."""
    args = tsd.parser().parse_args(
        ["--epochs", str(epochs), "--steps", str(steps), "--threads", str(threads)]
        + ([] if kind == "gru" else ["--no-recurrent"])
    )
    make = (lambda a: GRUMask(tsd.spectral_config(a))) if kind == "gru" else tsd.build
    with contextlib.redirect_stdout(sys.stderr):
        model, info = tsd.train(args, make)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": model.state_dict(), "info": info}, save / f"{kind}-{epochs}.pt")
    return {**row(kind, info, epochs, steps), "heldout": heldout(model, quick)}


def row(name: str, info: dict, epochs: int, steps: int) -> dict:
    """A table row from a training record (``train_speech_denoiser.train``'s ``info``)."""
    return {
        "model": name,
        "params": info["params"],
        "epochs": epochs,
        "steps": epochs * steps,
        "train_seconds": info["train_seconds"],
        "val_sisnr_gain_db": info["val_sisnr_gain_db"],
        **info["val_quality"],
    }


def heldout(model: nn.Module, quick: bool) -> dict[str, dict[str, float]]:
    """Mean SI-SNR / PESQ-wb / STOI of the enhanced held-out sets, and of their input."""
    from bench_speech import eval_sets, metrics

    out: dict[str, dict[str, float]] = {}
    model.eval()
    for name, items in eval_sets(quick).items():
        rows: dict[str, list[dict[str, float]]] = {"noisy": [], "model": []}
        for _, x, clean in items:
            with torch.no_grad():
                y = enhance(model, torch.from_numpy(x[None].astype(np.float32)))[0].numpy()
            rows["noisy"].append(metrics(clean, x))
            rows["model"].append(metrics(clean, y))
        out[name] = {
            f"{who} {k}": round(float(np.mean([d[k] for d in v])), 3)
            for who, v in rows.items()
            for k in ("sisnr", "pesq", "stoi")
        }
    return out


def heldout_table(rows: list[dict]) -> str:
    """Per held-out set: each model's SI-SNR / PESQ / STOI (the input's first), and the
    mixtures' mean gains."""
    sets = list(rows[0]["heldout"])
    lines = [
        "| set | input | " + " | ".join(r["model"] + f" {r['epochs']} ep" for r in rows) + " |"
    ]
    lines.append("|---" * (len(rows) + 2) + "|")

    def cell(h: dict, who: str) -> str:
        return f"{h[who + ' sisnr']:.2f} / {h[who + ' pesq']:.3f} / {h[who + ' stoi']:.3f}"

    for name in sets:
        first = rows[0]["heldout"][name]
        lines.append(
            f"| {name} | {cell(first, 'noisy')} | "
            + " | ".join(cell(r["heldout"][name], "model") for r in rows)
            + " |"
        )
    mixes = [s for s in sets if s.startswith("mix")]
    gains = []
    for r in rows:
        h = r["heldout"]
        g = [np.mean([h[s][f"model {k}"] - h[s][f"noisy {k}"] for s in mixes]) for k in
             ("sisnr", "pesq", "stoi")]  # fmt: skip
        gains.append(f"{g[0]:+.2f} / {g[1]:+.3f} / {g[2]:+.3f}")
    lines.append("| mixtures, mean gain | | " + " | ".join(gains) + " |")
    return "\n".join(lines)


def shipped_record() -> dict:
    """The shipped model's own training record (the same script and seed)."""
    info = json.loads(SHIPPED.read_text())
    epochs, steps = int(info["args"]["epochs"]), int(info["args"]["steps"])
    design = "gru" if info.get("model_config", {}).get("recurrent") else "conv"
    return row(f"{design} (shipped, its training record)", info, epochs, steps)


def table(rows: list[dict]) -> str:
    """Validation gains, one markdown row per model."""
    lines = [
        "| model | params | steps | train s | val SI-SNR gain (64 x 1.5 s) "
        "| val 16 x 3 s: SI-SNR / PESQ / STOI gain |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['params']:,} | {r['steps']} | {r['train_seconds']:.0f} "
            f"| {r['val_sisnr_gain_db']:+.2f} dB | {r['sisnr_gain']:+.2f} / "
            f"{r['pesq_gain']:+.3f} / {r['stoi_gain']:+.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40, help="epochs of 40 steps for both models")
    ap.add_argument(
        "--long",
        type=int,
        default=None,
        help="also the GRU alone at this many epochs (300: against the shipped model's own record)",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="2 epochs of 4 steps (a smoke run)")
    ap.add_argument("--save", type=Path, default=None, help="keep each model's weights here")
    opts = ap.parse_args()
    epochs, steps = (2, 4) if opts.quick else (opts.epochs, 40)
    save, quick = opts.save, opts.quick
    equal = [train_one(k, epochs, steps, opts.threads, save, quick) for k in ("gru", "conv")]
    print(
        f"equal steps ({epochs} epochs of {steps} steps each, one after the other), validation:\n"
    )
    print(table(equal))
    print("\nheld out (bench_speech.py's sets; SI-SNR dB / PESQ-wb / STOI, float):\n")
    print(heldout_table(equal))
    doc: dict = {"equal_steps": equal}
    if opts.long and not opts.quick:
        long = [train_one("gru", opts.long, 40, opts.threads, save, quick)]
        record = shipped_record()
        print(f"\nlonger ({opts.long} epochs of 40 steps) beside the shipped model, validation:\n")
        print(table([*long, record]))
        print("\nheld out (the shipped model's: BENCHMARKS.md, speech section):\n")
        print(heldout_table(long))
        doc["long"] = [*long, record]
    out = HERE / "results" / ("recurrent.quick.json" if opts.quick else "recurrent.json")
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
