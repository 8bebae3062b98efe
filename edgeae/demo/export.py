"""Demo step: the run -> model/encoder/decoder ONNX with manifests, parity-checked."""

from __future__ import annotations

from .data import parity_items
from .results import ExportStep, ModelFiles, TrainStep
from .spec import DemoRun

__all__ = ["run"]


def run(trained: TrainStep, demo: DemoRun) -> ExportStep:
    """Export ``trained``'s checkpoint as ``edgeae export`` does, into OUT/models/NAME."""
    from edgeae.train import load_checkpoint
    from edgeae_export import export_autoencoder
    from edgeae_runtime.preprocess import normalize

    ckpt = load_checkpoint(trained.run_dir)
    raw = parity_items(ckpt)
    result = export_autoencoder(
        ckpt.model,
        out_dir=demo.models_dir(trained.spec.name),
        example_inputs=normalize(raw, ckpt.preprocessing),
        info=ckpt.export_info(),
    )
    paths = {f.role: f.path for f in result.files}
    return ExportStep(
        files=ModelFiles(paths["autoencoder"], paths["encoder"], paths["decoder"]),
        sizes=tuple((f.path.name, f.size_bytes) for f in result.files),
        parity_error=max(f.parity.max_abs_error for f in result.files),
    )
