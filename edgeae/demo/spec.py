"""What the demo runs: its models, the held-out recordings, and the run's settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CHUNK_S",
    "DEMO_MODELS",
    "HELD_OUT_TONES",
    "QUICK_HELD_OUT_TONES",
    "DemoModel",
    "DemoRun",
    "Say",
]

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoModel:
    """One model of the demo: its data, its schedule, and the quantization budget.

    It trains exactly the built-in's recipe (:mod:`edgeae.train.recipes`, what
    ``edgeae train builtin:NAME`` trains: architecture, model options, training
    settings); the only change is ``epochs``, a shorter schedule where the
    recipe's would not fit the demo's 3-minute budget (None: the recipe's own).
    """

    name: str
    source: str
    quick_source: str
    epochs: int | None
    metric: str
    max_drop: float
    quick_limit: int | None = None
    role: str = ""


#: The demo's models. Epochs vs the recipe: sensor 20 of 60, digits 60 of 150, tones all 25.
#: Budgets: 0.005 AUROC, 0.3 dB PSNR (the int8 targets in BENCHMARKS.md).
DEMO_MODELS = (
    DemoModel("sensor", "builtin:sensor", "builtin:sensor?seconds=40", 20, "auroc", 0.005,
              role="anomaly detection in 3-axis vibration (conv1d)"),
    DemoModel("tones", "builtin:tones", "builtin:tones?seconds=2", None, "psnr", 0.3,
              role="denoising 16 kHz audio (conv1d)"),
    DemoModel("digits", "builtin:digits", "builtin:digits", 60, "psnr", 0.3,
              quick_limit=256, role="8x8 handwritten digits (dense2d)"),
)  # fmt: skip

#: The recording the streaming stage denoises: same generator, another seed, never trained on.
HELD_OUT_TONES = "builtin:tones?seed=101"
QUICK_HELD_OUT_TONES = "builtin:tones?seconds=2&seed=101"

CHUNK_S = 0.1  # streaming chunk of the denoiser: 100 ms


@dataclass(frozen=True)
class DemoRun:
    """The settings every step sees: where files go, quick or full, where progress goes."""

    out: Path
    quick: bool
    say: Say

    @property
    def report_dir(self) -> Path:
        """Where the report and its plots are written."""
        return self.out / "report"

    def models_dir(self, name: str) -> Path:
        """Where the ONNX files of model ``name`` are written."""
        return self.out / "models" / name
