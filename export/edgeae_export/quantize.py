"""``quantize_model``: float ONNX in, quantized ONNX out, within a budget and faster, or refused.

Steps: load the model and its manifest; pre-process (``quant_pre_process``);
quantize (dynamic int8, static QDQ int8 calibrated on data, or fp16) with
defaults chosen for this CPU; if ``max_drop`` is given, keep the most harmful
nodes in float until the metric drop fits (:mod:`edgeae_export.budget`);
recalibrate an anomaly model's threshold on its own scores; time float vs
quantized and refuse a model that is not faster (:mod:`edgeae_export.speed`);
write it atomically with the manifest updated (quantization recorded,
``file_fingerprint`` recomputed, ``fingerprint`` unchanged: it is the same
trained model).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from edgeae_runtime.manifest import Manifest

from .bench import cpu_session
from .budget import BudgetReport, Validation, fit_budget, recalibrate_threshold
from .calibration import DEFAULT_CALIBRATION_SIZE, CalibrationSource, RawSource, Transform
from .cpu import CpuInfo
from .errors import CalibrationError, ExportError, QuantizationError
from .fingerprint import model_fingerprint
from .onnx_io import load_onnx, require_manifest, write_onnx
from .quantizers import (
    DEFAULT_FLOAT_OPS,
    QuantizeOptions,
    prepare_float,
    quantize_proto,
    replace_options,
    resolve_exclusions,
    resolve_options,
)
from .speed import Measure, SpeedReport, check_speed, float_layers

__all__ = ["QuantizeResult", "quantize_model"]


@dataclass(frozen=True)
class QuantizeResult:
    """What ``quantize_model`` did: the file, its manifest, sizes, speed and budget reports."""

    path: Path
    manifest: Manifest
    options: QuantizeOptions
    float_bytes: int
    quantized_bytes: int
    speed: SpeedReport | None
    budget: BudgetReport | None
    warnings: tuple[str, ...] = ()

    @property
    def size_ratio(self) -> float:
        """Quantized size / float size."""
        return self.quantized_bytes / max(self.float_bytes, 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what ``edgeae quantize --json`` prints)."""
        return {
            "path": str(self.path),
            "mode": self.manifest.quantization.mode,
            "quantization": dataclasses.asdict(self.manifest.quantization),
            "cpu": self.options.cpu_reason,
            "float_bytes": self.float_bytes,
            "quantized_bytes": self.quantized_bytes,
            "size_ratio": round(self.size_ratio, 4),
            "speed": self.speed.to_dict() if self.speed else None,
            "budget": self.budget.to_dict() if self.budget else None,
            "anomaly_threshold": (
                self.manifest.anomaly.threshold if self.manifest.anomaly else None
            ),
            "fingerprint": self.manifest.provenance.fingerprint,
            "file_fingerprint": self.manifest.provenance.file_fingerprint,
            "warnings": list(self.warnings),
        }


def _check_output(path: Path, force: bool) -> None:
    """Fail before any work on an output that could not be written (same rules as write_onnx)."""
    if not path.parent.is_dir():
        raise ExportError(f"{path}: output directory {path.parent} does not exist; create it first")
    if path.is_dir():
        raise ExportError(f"{path}: is a directory, expected a file name")
    if path.exists() and not force:
        raise ExportError(f"{path}: already exists; pass --force to overwrite it")


def _latent_transform(path: Path) -> Transform:
    """Items (model space) -> latents, by the float encoder or full model at ``path``."""
    sess = cpu_session(path)
    name = sess.get_inputs()[0].name

    def transform(x: np.ndarray) -> np.ndarray:
        return np.asarray(sess.run(["latent"], {name: x})[0], dtype=np.float32)

    return transform


def _decoder_transform(
    model_path: Path, manifest: Manifest, encoder: str | Path | None
) -> Transform:
    """For a decoder: run the float encoder (or full model) to turn items into latents."""
    candidates = (
        [Path(encoder)]
        if encoder
        else [model_path.with_name(n) for n in ("encoder.onnx", "model.onnx")]
    )
    for cand in candidates:
        if not cand.is_file():
            continue
        enc_manifest = require_manifest(load_onnx(cand), where=cand.name, needed="its role")
        if enc_manifest.fingerprint != manifest.fingerprint:
            if encoder:
                raise CalibrationError(
                    f"{cand}: was exported from another model (fingerprint "
                    f"{enc_manifest.fingerprint[:12]} vs {manifest.fingerprint[:12]})"
                )
            continue
        return _latent_transform(cand)
    raise CalibrationError(
        f"{model_path.name}: a decoder is calibrated on latents; give latent arrays of shape "
        f"{manifest.latent_shape}, or put the float encoder.onnx of the same model beside it"
    )


def _calibration(
    model_path: Path,
    manifest: Manifest,
    data: RawSource,
    *,
    size: int,
    name: str,
    encoder: str | Path | None,
) -> tuple[CalibrationSource, Any, Transform | None]:
    """The source, its preprocessing and transform for this model's role."""
    if manifest.role != "decoder":
        return (
            CalibrationSource(data, item_shape=manifest.item_shape, max_items=size, name=name),
            manifest.preprocessing,
            None,
        )
    if isinstance(data, np.ndarray) and data.shape[1:] == tuple(manifest.latent_shape):
        src = CalibrationSource(data, item_shape=manifest.latent_shape, max_items=size, name=name)
        return src, None, None
    transform = _decoder_transform(model_path, manifest, encoder)
    src = CalibrationSource(data, item_shape=manifest.item_shape, max_items=size, name=name)
    return src, manifest.preprocessing, transform


def quantize_model(
    model_path: str | Path,
    out_path: str | Path,
    *,
    mode: str = "static",
    calibration: RawSource | None = None,
    calibration_name: str = "calibration data",
    calibration_size: int = DEFAULT_CALIBRATION_SIZE,
    method: str = "minmax",
    per_channel: bool | None = None,
    exclude: Sequence[str] = (),
    exclude_op_types: Sequence[str] | None = None,
    activation_type: str | None = None,
    weight_type: str | None = None,
    reduce_range: bool | None = None,
    max_drop: float | None = None,
    metric: str = "psnr",
    validation: Validation | None = None,
    encoder: str | Path | None = None,
    speed_gate: bool = True,
    allow_slower: bool = False,
    measure: Measure | None = None,
    force: bool = False,
    cpu: CpuInfo | None = None,
    progress: Callable[[str], None] | None = None,
) -> QuantizeResult:
    """Quantize ``model_path`` into ``out_path``; see the module docstring for the steps.

    ``calibration``: raw items (array, iterable or callable; see CalibrationSource),
    at most ``calibration_size`` are read. ``exclude``: node names or op types kept
    float. ``validation``: raw items (+ labels) for the budget and the anomaly
    threshold. ``measure`` replaces the timer of the speed gate (tests).
    """
    say = progress or (lambda _msg: None)
    model_path, out_path = Path(model_path), Path(out_path)
    float_model = load_onnx(model_path)
    manifest = require_manifest(
        float_model, where=model_path.name, needed="role, item_shape, preprocessing"
    )
    _check_output(out_path, force)
    if model_path.resolve() == out_path.resolve():
        raise ExportError(f"{out_path}: is the input model; write the quantized model elsewhere")
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edgeae-quantize-") as tmp:
        prepared = prepare_float(float_model, Path(tmp))
        prep_model = onnx.load(str(prepared))
        names, ops = resolve_exclusions(prep_model, exclude)
        present = {n.op_type for n in prep_model.graph.node}
        default_ops = tuple(op for op in DEFAULT_FLOAT_OPS if op in present and mode == "static")
        opts = resolve_options(
            mode,
            method=method,
            per_channel=per_channel,
            activation_type=activation_type,
            weight_type=weight_type,
            reduce_range=reduce_range,
            exclude_nodes=names,
            exclude_op_types=tuple(dict.fromkeys((*default_ops, *ops)))
            if exclude_op_types is None
            else tuple(exclude_op_types),
            cpu=cpu,
        )
        present = {n.op_type for n in prep_model.graph.node}
        for op in opts.exclude_op_types:
            if op in present and op in DEFAULT_FLOAT_OPS:
                warnings.append(f"{op} kept float: {DEFAULT_FLOAT_OPS[op]}")
        if mode == "dynamic" and "Conv" in present:
            warnings.append(
                "dynamic quantization turns Conv into ConvInteger, often slower than float "
                "on CPU; --mode static is usually faster (the speed gate checks)"
            )
        say(f"cpu: {opts.cpu_reason}")

        source = transform = pre = None
        input_name = manifest.inputs[0].name
        if calibration is not None:
            source, pre, transform = _calibration(
                model_path,
                manifest,
                calibration,
                size=calibration_size,
                name=calibration_name,
                encoder=encoder,
            )
        elif mode == "static" or (max_drop is not None and validation is None):
            raise CalibrationError(
                f"{model_path.name}: static quantization needs calibration data; give "
                "--calibration FILE or builtin:NAME"
            )

        def build(kept: tuple[str, ...], o: QuantizeOptions = opts) -> onnx.ModelProto:
            o = replace_options(o, exclude_nodes=tuple(dict.fromkeys((*o.exclude_nodes, *kept))))
            return quantize_proto(
                prepared,
                o,
                calibration=source,
                input_name=input_name,
                preprocessing=pre,
                transform=transform,
            )

        say(f"quantizing ({mode})")
        qmodel = build(())
        budget: BudgetReport | None = None
        if max_drop is not None:
            if validation is None:
                raise QuantizationError("--max-drop needs validation data (--val SOURCE)")
            if source is None:  # dynamic/fp16 without calibration: rank with validation items
                source = CalibrationSource(
                    validation.x, item_shape=manifest.item_shape, name=validation.name
                )
                pre = manifest.preprocessing
            rank = qmodel if mode == "static" else build((), replace_options(opts, mode="static"))
            qmodel, budget = fit_budget(
                build,
                float_model=prep_model,
                rank_model=rank,
                manifest=manifest,
                metric=metric,
                max_drop=max_drop,
                validation=validation,
                start=qmodel,
                progress=say,
            )
            opts = replace_options(
                opts, exclude_nodes=tuple(dict.fromkeys((*opts.exclude_nodes, *budget.kept_float)))
            )
            if budget.kept_float:
                say(f"kept float to meet the budget: {', '.join(budget.kept_float)}")

        if mode == "static":
            kept = set(opts.exclude_nodes)
            kept |= {n.name for n in prep_model.graph.node if n.op_type in opts.exclude_op_types}
            islands = [n for n in float_layers(qmodel) if n not in kept]
            if islands:
                warnings.append(
                    f"{len(islands)} quantized layer(s) still run in float on this CPU "
                    f"(onnxruntime could not fuse them): {', '.join(islands)}"
                )

        new_manifest = manifest
        if manifest.anomaly is not None and validation is not None:
            anomaly = recalibrate_threshold(qmodel, manifest, validation)
            new_manifest = new_manifest.replace(anomaly=anomaly)
            say(f"anomaly threshold recalibrated on the quantized model: {anomaly.threshold:.6g}")
        elif manifest.anomaly is not None and manifest.role == "autoencoder":
            warnings.append("anomaly threshold kept from the float model (no validation data)")

        speed: SpeedReport | None = None
        if speed_gate:
            say("timing float vs quantized (1 thread)")
            speed = check_speed(
                float_model,
                qmodel,
                mode=mode,
                allow_slower=allow_slower or mode == "fp16",
                measure=measure,
            )
            if not speed.faster:
                warnings.append(
                    f"SLOWER: the {mode} model is not faster than float on this CPU "
                    f"(speed-up {speed.speedup(speed.batches[-1]):.2f}x at batch "
                    f"{speed.batches[-1]}); {speed.suggestions[0]}"
                )

        budget_fields: dict[str, Any] = {}
        if budget is not None:
            budget_fields = {
                "metric": budget.metric,
                "max_drop": budget.max_drop,
                "measured_drop": budget.measured_drop,
                "kept_float": budget.kept_float,
            }
        spec = opts.spec(calibration_name if source is not None else None, **budget_fields)
        new_manifest = new_manifest.replace(
            quantization=spec,
            provenance=dataclasses.replace(
                manifest.provenance, file_fingerprint=model_fingerprint(qmodel)
            ),
        )
        path = write_onnx(qmodel, out_path, new_manifest, force=force)
    return QuantizeResult(
        path=path,
        manifest=new_manifest,
        options=opts,
        float_bytes=model_path.stat().st_size,
        quantized_bytes=path.stat().st_size,
        speed=speed,
        budget=budget,
        warnings=tuple(warnings),
    )
