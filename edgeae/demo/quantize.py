"""Demo step: static int8 within the task's budget; a speed-gate refusal is reported, not hidden."""

from __future__ import annotations

import numpy as np

from .results import ExportStep, ModelFiles, QuantizeStep, TrainStep
from .spec import DemoRun

__all__ = ["quantize_codec", "run"]


def run(trained: TrainStep, exported: ExportStep, demo: DemoRun) -> QuantizeStep:
    """Quantize the autoencoder to int8 within the task's budget."""
    import onnx

    from edgeae_export import QuantizeRequest, SpeedGateError, Validation, quantize_model
    from edgeae_export.sampling import sample_indices

    spec, ds, files = trained.spec, trained.dataset, exported.files
    # calibration (THE sample of 512 of them) and the budget and the int8 threshold on all
    # items: a p99 threshold from 512 items moved with which 512 (sensor: 0.278 on an even
    # spread, 0.212 on the stratified sample, 2 vs 6 false events)
    idx = sample_indices(len(ds), 256) if demo.quick else np.arange(len(ds))
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
    )


def quantize_codec(files: ModelFiles, calibration: np.ndarray) -> ModelFiles:
    """Static int8 encoder and decoder (the decoder calibrated on the float encoder's
    latents), beside the float files; the autoencoder stays the float one."""
    from edgeae_export import QuantizeRequest, quantize_model

    out = {}
    for role, src in (("encoder", files.encoder), ("decoder", files.decoder)):
        out[role] = src.with_name(f"{role}.int8.onnx")
        quantize_model(
            QuantizeRequest(
                src,
                out[role],
                mode="static",
                calibration=calibration,
                force=True,
                speed_gate=False,  # a codec's int8 halves ship for their bytes, not speed
                encoder=files.encoder if role == "decoder" else None,
            )
        )
    return ModelFiles(files.autoencoder, out["encoder"], out["decoder"])
