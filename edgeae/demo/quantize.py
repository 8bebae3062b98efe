"""Demo step: static int8 within the task's budget; a speed-gate refusal is reported, not hidden."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .data import spread
from .results import CodecFiles, ExportStep, ModelFiles, QuantizeStep, TrainStep
from .spec import DemoRun

__all__ = ["run"]


def run(trained: TrainStep, exported: ExportStep, demo: DemoRun) -> QuantizeStep:
    """Quantize the autoencoder (and for a codec model the encoder and decoder) to int8."""
    import onnx

    from edgeae_export import QuantizeRequest, SpeedGateError, Validation, quantize_model

    spec, ds, files = trained.spec, trained.dataset, exported.files
    idx = spread(len(ds), 256 if demo.quick else 512)
    x = np.asarray(ds.x[idx], dtype=np.float32)
    labels = ds.anomaly_labels
    target = None if ds.target is None else np.asarray(ds.target[idx], dtype=np.float32)
    validation = Validation(x, None if labels is None else labels[idx], spec.source, target=target)
    out = files.autoencoder.with_name("model.int8.onnx")
    request = QuantizeRequest(
        files.autoencoder,
        out,
        mode="static",
        calibration=x,
        calibration_name=spec.source,
        max_drop=spec.max_drop,
        metric=spec.metric,
        validation=validation,
        force=True,
        speed_gate=not demo.quick,  # a smoke run need not time float vs int8
    )
    refusal = None
    try:
        result = quantize_model(request)
    except SpeedGateError as exc:
        refusal = exc.format_message()
        demo.say(f"        speed gate refused int8: {refusal}")
        result = quantize_model(request.replace(allow_slower=True))
    codec = _quantize_codec(files, x, demo) if spec.codec else None
    b = result.budget
    q = result.manifest.quantization
    present = {n.op_type for n in onnx.load(str(files.autoencoder)).graph.node}
    return QuantizeStep(
        path=out,
        quantized_bytes=result.quantized_bytes,
        size_ratio=result.size_ratio,
        metric=b.metric if b else None,
        measured_drop=b.measured_drop if b else None,
        max_drop=b.max_drop if b else None,
        kept_float=(*(op for op in q.excluded_op_types if op in present), *q.excluded_nodes),
        gate_refusal=refusal,
        codec=codec,
    )


def _quantize_codec(files: ModelFiles, x: np.ndarray, demo: DemoRun) -> CodecFiles:
    """Static int8 encoder and decoder (the decoder calibrated on the float encoder's latents).

    A speed-gate refusal keeps the float file for that half and says so.
    """
    from edgeae_export import QuantizeRequest, SpeedGateError, quantize_model

    kept: list[str] = []
    outs: dict[str, Path] = {}
    for role, src in (("encoder", files.encoder), ("decoder", files.decoder)):
        out = src.with_name(f"{role}.int8.onnx")
        request = QuantizeRequest(
            src,
            out,
            mode="static",
            calibration=x,
            force=True,
            encoder=files.encoder if role == "decoder" else None,
            speed_gate=not demo.quick,
        )
        try:
            quantize_model(request)
        except SpeedGateError as exc:
            demo.say(f"        speed gate kept {src.name} float: {exc.format_message()}")
            shutil.copyfile(src, out)
            kept.append(role)
        outs[role] = out
    return CodecFiles(outs["encoder"], outs["decoder"], tuple(kept))
