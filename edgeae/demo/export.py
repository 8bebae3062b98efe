"""Demo step: the run -> model/encoder/decoder ONNX with manifests, parity-checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .data import parity_items
from .results import ExportStep, ModelFiles, TrainStep
from .spec import DemoRun

__all__ = ["export_checkpoint", "run"]


def run(trained: TrainStep, demo: DemoRun) -> ExportStep:
    """Export ``trained``'s checkpoint as ``edgeae export`` does, into OUT/models/NAME."""
    from edgeae.train import load_checkpoint

    ckpt = load_checkpoint(trained.run_dir)
    return export_checkpoint(ckpt, parity_items(ckpt), demo.models_dir(trained.spec.name))


def export_checkpoint(ckpt: Any, raw: np.ndarray, out_dir: Path) -> ExportStep:
    """Export ``ckpt`` into ``out_dir``, parity-checked on ``raw`` items (raw units)."""
    from edgeae_export import export_autoencoder
    from edgeae_runtime.preprocess import normalize

    result = export_autoencoder(
        ckpt.model,
        out_dir=out_dir,
        example_inputs=normalize(raw, ckpt.preprocessing),
        info=ckpt.export_info(),
    )
    paths = {f.role: f.path for f in result.files}
    return ExportStep(
        files=ModelFiles(paths["autoencoder"], paths["encoder"], paths["decoder"]),
        sizes=tuple((f.path.name, f.size_bytes) for f in result.files),
        parity_error=max(f.parity.max_abs_error for f in result.files),
    )
