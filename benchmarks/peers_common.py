"""Shared parts of the peers benchmark (bench_peers.py): paths, the models of the table
(``SPECS``), the batches and targets, and the helpers every phase uses."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PRETRAINED = ROOT / "runtime" / "edgeae_runtime" / "pretrained" / "speech-denoiser.onnx"
DCASE = ROOT.parent / "shared" / "data" / "machine" / "dcase2020_task2_id00"
BATCHES = (1, 256)
TARGETS = {"int8_vs_fp32": 2.0, "share_of_int8_peak": 0.70, "speech_rtf_20ms": 0.05}


@dataclass(frozen=True)
class Spec:
    """One model of the table: how it is trained (None for the pretrained denoiser)."""

    tag: str
    source: str
    arch: str | None = None  # None: the recipe's
    model: dict[str, Any] = field(default_factory=dict)  # on top of the recipe's
    epochs: int = 10
    eval_source: str | None = None  # held-out data (other seed); None: the held-out split
    metric: str = "psnr"
    recipe: bool = True  # the decoder the recipe ships (False: the alternative measured)


SPECS = (
    Spec("digits dense2d", "builtin:digits", epochs=30),
    # the rows without "subpixel" pin the upsample decoder (the conv default before issue 14)
    Spec("digits conv2d", "builtin:digits", "conv2d", {"decoder": "upsample"}, epochs=30,
         recipe=False),
    Spec("digits conv2d subpixel", "builtin:digits", "conv2d", {"decoder": "subpixel"},
         epochs=30, recipe=False),
    Spec("sensor conv1d", "builtin:sensor", model={"decoder": "upsample"}, epochs=15,
         eval_source="builtin:sensor?seed=1", metric="auroc"),
    Spec("sensor conv1d subpixel", "builtin:sensor", model={"decoder": "subpixel"}, epochs=15,
         eval_source="builtin:sensor?seed=1", metric="auroc", recipe=False),
    Spec("tones conv1d", "builtin:tones", model={"decoder": "upsample"}, epochs=8,
         eval_source="builtin:tones?seed=1", recipe=False),
    Spec("tones conv1d subpixel", "builtin:tones", model={"decoder": "subpixel"}, epochs=8,
         eval_source="builtin:tones?seed=1"),
    Spec("machine ad01", "logmel:", epochs=6, metric="none"),
    Spec("speech denoiser (pretrained)", "pretrained", metric="none"),
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def slug(tag: str) -> str:
    return tag.split(" (")[0].replace(" ", "-")
