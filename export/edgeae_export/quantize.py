"""``quantize_model``: float ONNX in, quantized ONNX out, within a budget and faster, or refused.

A :class:`QuantizeRequest` says what to do; :func:`quantize_model` runs the
named steps on it, each a function testable alone:

1. :func:`prepare` - load the model and its manifest, refuse an unwritable
   output, pre-process (``quant_pre_process``), resolve every option for this
   CPU or the target (the default float ops are decided once, in
   :func:`edgeae_export.quantizers.default_float_ops`), open the calibration data;
2. :func:`build` - one quantization pass (dynamic int8, static QDQ int8, fp16);
3. :func:`fit_to_budget` - with ``max_drop``, keep the most harmful nodes in
   float until the metric drop fits (:mod:`edgeae_export.budget`);
4. :func:`recalibrate` - an anomaly model's threshold on its own quantized scores;
5. :func:`speed_gate` - time float vs quantized, refuse a model that is not
   faster (:mod:`edgeae_export.speed`);
6. :func:`write` - atomically, with the manifest updated (quantization recorded,
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

from edgeae_runtime.manifest import Manifest, Preprocessing
from edgeae_runtime.session import open_session

from .budget import BudgetReport, Validation, fit_budget, recalibrate_threshold
from .calibration import DEFAULT_CALIBRATION_SIZE, CalibrationSource, RawSource, Transform
from .cpu import CpuInfo, detect_cpu, host_target, target_cpu
from .errors import CalibrationError, ExistsError, ExportError, QuantizationError
from .fingerprint import model_fingerprint
from .onnx_io import load_onnx, require_manifest, write_onnx
from .quantizers import (
    DEFAULT_FLOAT_OPS,
    QuantizeOptions,
    default_float_ops,
    prepare_float,
    quantize_proto,
    replace_options,
    resolve_exclusions,
    resolve_options,
)
from .speed import Measure, SpeedReport, check_speed, float_layers

__all__ = [
    "Built",
    "Prepared",
    "QuantizeRequest",
    "QuantizeResult",
    "build",
    "fit_to_budget",
    "prepare",
    "quantize_model",
    "recalibrate",
    "speed_gate",
    "write",
]

Say = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


@dataclass(frozen=True)
class QuantizeRequest:
    """Everything one quantization is asked to do (every field but the paths has a default).

    ``calibration``: raw items (array, iterable or callable; see CalibrationSource),
    at most ``calibration_size`` are read. ``exclude``: node names or op types kept
    float; ``exclude_op_types`` replaces the default float op types (None: the
    defaults). ``validation``: raw items (+ labels) for the budget and the anomaly
    threshold. ``measure`` replaces the timer of the speed gate (tests). ``target``
    (``arm64``/``x86``, default this machine) picks the int8 types of that CPU
    (:func:`edgeae_export.cpu.target_cpu`) and is recorded in the manifest; the
    speed gate is skipped when it is not this machine (its timing would not apply).
    """

    model_path: Path
    out_path: Path
    mode: str = "static"
    calibration: RawSource | None = None
    calibration_name: str = "calibration data"
    calibration_size: int = DEFAULT_CALIBRATION_SIZE
    method: str = "minmax"
    per_channel: bool | None = None
    exclude: Sequence[str] = ()
    exclude_op_types: Sequence[str] | None = None
    activation_type: str | None = None
    weight_type: str | None = None
    reduce_range: bool | None = None
    max_drop: float | None = None
    metric: str = "psnr"
    validation: Validation | None = None
    encoder: str | Path | None = None
    speed_gate: bool = True
    allow_slower: bool = False
    measure: Measure | None = None
    force: bool = False
    cpu: CpuInfo | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_path", Path(self.model_path))
        object.__setattr__(self, "out_path", Path(self.out_path))

    def replace(self, **changes: Any) -> QuantizeRequest:
        """A copy with some fields changed (e.g. ``allow_slower=True`` after a refusal)."""
        return dataclasses.replace(self, **changes)


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
        """JSON-ready summary (what the quantize command prints as JSON)."""
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


@dataclass(frozen=True)
class Prepared:
    """The output of :func:`prepare`: the float model made ready and every option resolved."""

    float_model: onnx.ModelProto
    manifest: Manifest
    path: Path  # the pre-processed float model (inside the work directory)
    model: onnx.ModelProto  # the same, loaded
    options: QuantizeOptions
    target: str
    speed_gate: bool  # False when the target is not this machine
    source: CalibrationSource | None = None
    preprocessing: Preprocessing | None = None
    transform: Transform | None = None
    warnings: tuple[str, ...] = ()

    @property
    def input_name(self) -> str:
        return self.manifest.inputs[0].name

    @property
    def present_ops(self) -> set[str]:
        """Op types in the pre-processed float graph."""
        return {n.op_type for n in self.model.graph.node}


@dataclass(frozen=True)
class Built:
    """A quantized graph (not yet written), the options that made it, and its budget report."""

    model: onnx.ModelProto
    options: QuantizeOptions
    budget: BudgetReport | None = None


# Ops that only a quantized graph holds: quantizing it again fails inside onnxruntime.
_QUANTIZED_OPS = frozenset(
    {
        "QuantizeLinear",
        "DequantizeLinear",
        "DynamicQuantizeLinear",
        "QLinearConv",
        "QLinearMatMul",
        "ConvInteger",
        "MatMulInteger",
        "QGemm",
    }
)


def _refuse_quantized(model: onnx.ModelProto, manifest: Manifest, name: str) -> None:
    """Quantize float32 models only: an int8 or fp16 model is refused with a clear error.

    The manifest's ``quantization.mode`` says so for edgeae files; the graph itself
    (quantized ops, float16 tensors) is checked too, for files whose manifest lies.
    """
    mode = manifest.quantization.mode
    ops = sorted({n.op_type for n in model.graph.node} & _QUANTIZED_OPS)
    fp16 = any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer) or any(
        v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16 for v in model.graph.input
    )
    if mode != "float32" or ops or fp16:
        what = (
            f"quantization.mode {mode!r}"
            if mode != "float32"
            else f"quantized ops {', '.join(ops)}"
            if ops
            else "float16 tensors"
        )
        raise QuantizationError(
            f"{name}: is already quantized ({what}); quantize the float32 model that "
            "`edgeae export` wrote (model.onnx, encoder.onnx or decoder.onnx)"
        )


def _check_output(path: Path, force: bool) -> None:
    """Fail before any work on an output that could not be written (same rules as write_onnx)."""
    if not path.parent.is_dir():
        raise ExportError(f"{path}: output directory {path.parent} does not exist; create it first")
    if path.is_dir():
        raise ExportError(f"{path}: is a directory, expected a file name")
    if path.exists() and not force:
        raise ExistsError(f"{path}: already exists; use `force` to overwrite it")


def _latent_transform(path: Path) -> Transform:
    """Items (model space) -> latents, by the float encoder or full model at ``path``."""
    sess = open_session(path)
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


def prepare(request: QuantizeRequest, workdir: Path, say: Say = _quiet) -> Prepared:
    """Step 1: load, check the output, pre-process into ``workdir``, resolve the options."""
    req = request
    here = host_target(detect_cpu())
    cpu = req.cpu if req.cpu is not None else target_cpu(req.target)
    target = req.target or host_target(cpu) or cpu.machine
    float_model = load_onnx(req.model_path)
    manifest = require_manifest(
        float_model, where=req.model_path.name, needed="role, item_shape, preprocessing"
    )
    _refuse_quantized(float_model, manifest, req.model_path.name)
    _check_output(req.out_path, req.force)
    if req.model_path.resolve() == req.out_path.resolve():
        raise ExportError(
            f"{req.out_path}: is the input model; write the quantized model elsewhere"
        )
    warnings: list[str] = []
    gate = req.speed_gate
    if gate and target != here:
        gate = False
        warnings.append(
            f"speed gate skipped: the target is {target}, not this machine "
            f"({here or detect_cpu().machine}); time the model on the target"
        )
        say(warnings[-1])
    path = prepare_float(float_model, workdir)
    model = onnx.load(str(path))
    opts, notes = _resolve_options(req, model, cpu)
    warnings += notes
    say(f"cpu: {opts.cpu_reason}")
    source = pre = transform = None
    if req.calibration is not None:
        source, pre, transform = _calibration(
            req.model_path,
            manifest,
            req.calibration,
            size=req.calibration_size,
            name=req.calibration_name,
            encoder=req.encoder,
        )
    elif req.mode == "static" or (req.max_drop is not None and req.validation is None):
        raise CalibrationError(
            f"{req.model_path.name}: static quantization needs calibration data",
            param="calibration",
        )
    return Prepared(
        float_model=float_model,
        manifest=manifest,
        path=path,
        model=model,
        options=opts,
        target=target,
        speed_gate=gate,
        source=source,
        preprocessing=pre,
        transform=transform,
        warnings=tuple(warnings),
    )


def _resolve_options(
    req: QuantizeRequest, model: onnx.ModelProto, cpu: CpuInfo
) -> tuple[QuantizeOptions, list[str]]:
    """Every option resolved for ``cpu`` and the ops in ``model``, and what to warn about."""
    notes: list[str] = []
    present = {n.op_type for n in model.graph.node}
    names, ops = resolve_exclusions(model, req.exclude)
    base_ops = (
        default_float_ops(req.mode, present)
        if req.exclude_op_types is None
        else tuple(req.exclude_op_types)
    )
    opts = resolve_options(
        req.mode,
        method=req.method,
        per_channel=req.per_channel,
        activation_type=req.activation_type,
        weight_type=req.weight_type,
        reduce_range=req.reduce_range,
        exclude_nodes=names,
        exclude_op_types=tuple(dict.fromkeys((*base_ops, *ops))),
        cpu=cpu,
    )
    for op in opts.exclude_op_types:
        if op in present and op in DEFAULT_FLOAT_OPS:
            notes.append(f"{op} kept float: {DEFAULT_FLOAT_OPS[op]}")
    if req.mode == "dynamic" and "Conv" in present:
        notes.append(
            "dynamic quantization turns Conv into ConvInteger, often slower than float "
            "on CPU; static mode is usually faster (the speed gate checks)"
        )
    return opts, notes


def build(
    prepared: Prepared, kept: tuple[str, ...] = (), options: QuantizeOptions | None = None
) -> onnx.ModelProto:
    """Step 2: one quantization pass of the prepared model, ``kept`` nodes left in float."""
    o = prepared.options if options is None else options
    o = replace_options(o, exclude_nodes=tuple(dict.fromkeys((*o.exclude_nodes, *kept))))
    return quantize_proto(
        prepared.path,
        o,
        calibration=prepared.source,
        input_name=prepared.input_name,
        preprocessing=prepared.preprocessing,
        transform=prepared.transform,
    )


def fit_to_budget(
    prepared: Prepared, request: QuantizeRequest, start: onnx.ModelProto, say: Say = _quiet
) -> Built:
    """Step 3: with ``max_drop``, keep nodes float until the drop fits; else ``start`` as is.

    Dynamic and fp16 models are ranked with a static QDQ pass (the per-node SQNR
    needs QDQ nodes); without calibration data the validation items calibrate it.
    """
    if request.max_drop is None:
        return Built(start, prepared.options)
    validation = request.validation
    if validation is None:
        raise CalibrationError("a budget needs validation data (`validation`)", param="max_drop")
    if prepared.source is None:  # dynamic/fp16 without calibration: rank with validation items
        source = CalibrationSource(
            validation.x, item_shape=prepared.manifest.item_shape, name=validation.name
        )
        prepared = dataclasses.replace(
            prepared, source=source, preprocessing=prepared.manifest.preprocessing
        )
    static = prepared.options.mode == "static"
    rank = (
        start if static else build(prepared, (), replace_options(prepared.options, mode="static"))
    )
    model, report = fit_budget(
        lambda kept: build(prepared, kept),
        float_model=prepared.model,
        rank_model=rank,
        manifest=prepared.manifest,
        metric=request.metric,
        max_drop=request.max_drop,
        validation=validation,
        start=start,
        progress=say,
    )
    o = prepared.options
    opts = replace_options(
        o, exclude_nodes=tuple(dict.fromkeys((*o.exclude_nodes, *report.kept_float)))
    )
    if report.kept_float:
        say(f"kept float to meet the budget: {', '.join(report.kept_float)}")
    return Built(model, opts, report)


def recalibrate(
    prepared: Prepared, request: QuantizeRequest, built: Built, say: Say = _quiet
) -> tuple[Manifest, tuple[str, ...]]:
    """Step 4: the manifest with the anomaly threshold of the quantized model, and warnings."""
    manifest, val = prepared.manifest, request.validation
    if manifest.anomaly is not None and val is not None and val.held_out:
        anomaly = recalibrate_threshold(built.model, manifest, val)
        say(f"anomaly threshold recalibrated on the quantized model: {anomaly.threshold:.6g}")
        return manifest.replace(anomaly=anomaly), ()
    if manifest.anomaly is not None and manifest.role == "autoencoder":
        why = "no validation data" if val is None else f"{val.name} is not held out"
        return manifest, (
            f"anomaly threshold kept from the float model ({why}; held-out normal validation "
            "data recalibrate it on the int8 model)",
        )
    return manifest, ()


def speed_gate(
    prepared: Prepared, request: QuantizeRequest, built: Built, say: Say = _quiet
) -> tuple[SpeedReport | None, tuple[str, ...]]:
    """Step 5: float islands, then time float vs quantized; SpeedGateError if not faster."""
    warnings: list[str] = []
    mode = built.options.mode
    if mode == "static":
        kept = set(built.options.exclude_nodes)
        kept |= {
            n.name for n in prepared.model.graph.node
            if n.op_type in built.options.exclude_op_types
        }  # fmt: skip
        islands = [n for n in float_layers(built.model) if n not in kept]
        if islands:
            warnings.append(
                f"{len(islands)} quantized layer(s) still run in float on this CPU "
                f"(onnxruntime could not fuse them): {', '.join(islands)}"
            )
    if not prepared.speed_gate:
        return None, tuple(warnings)
    say("timing float vs quantized (1 thread)")
    speed = check_speed(
        prepared.float_model,
        built.model,
        mode=mode,
        allow_slower=request.allow_slower or mode == "fp16",
        measure=request.measure,
    )
    if not speed.faster:
        warnings.append(
            f"SLOWER: the {mode} model is not faster than float on this CPU "
            f"(speed-up {speed.speedup(speed.batches[-1]):.2f}x at batch "
            f"{speed.batches[-1]}); {speed.suggestions[0]}"
        )
    elif speed.float_faster():
        b = speed.float_faster()[0]
        i = speed.batches.index(b)
        warnings.append(
            f"at batch {b} the float model is faster on this CPU ({speed.float_us[i]:.0f} µs "
            f"vs {speed.quantized_us[i]:.0f} µs; the {mode} model is faster at batch "
            f"{speed.batches[-1]}): calls of {b} item(s) should run the float file"
        )
    return speed, tuple(warnings)


def write(
    prepared: Prepared,
    request: QuantizeRequest,
    built: Built,
    manifest: Manifest,
    speed: SpeedReport | None = None,
    warnings: Sequence[str] = (),
) -> QuantizeResult:
    """Step 6: the manifest records the quantization; the file is written atomically."""
    budget = built.budget
    budget_fields: dict[str, Any] = {}
    if budget is not None:
        budget_fields = {
            "metric": budget.metric,
            "max_drop": budget.max_drop,
            "measured_drop": budget.measured_drop,
            "kept_float": budget.kept_float,
        }
    calibrated = request.calibration_name if prepared.source is not None else None
    spec = built.options.spec(calibrated, **budget_fields)
    spec = dataclasses.replace(spec, target=prepared.target)
    new_manifest = manifest.replace(
        quantization=spec,
        provenance=dataclasses.replace(
            manifest.provenance, file_fingerprint=model_fingerprint(built.model)
        ),
    )
    path = write_onnx(built.model, request.out_path, new_manifest, force=request.force)
    return QuantizeResult(
        path=path,
        manifest=new_manifest,
        options=built.options,
        float_bytes=request.model_path.stat().st_size,
        quantized_bytes=path.stat().st_size,
        speed=speed,
        budget=budget,
        warnings=tuple(warnings),
    )


def quantize_model(request: QuantizeRequest, *, progress: Say | None = None) -> QuantizeResult:
    """Run the six steps on ``request`` (see the module docstring); nothing is written on error."""
    say = progress or _quiet
    with tempfile.TemporaryDirectory(prefix="edgeae-quantize-") as tmp:
        prepared = prepare(request, Path(tmp), say)
        say(f"quantizing ({request.mode})")
        built = fit_to_budget(prepared, request, build(prepared), say)
        manifest, recal_notes = recalibrate(prepared, request, built, say)
        speed, speed_notes = speed_gate(prepared, request, built, say)
        warnings = (*prepared.warnings, *recal_notes, *speed_notes)
        return write(prepared, request, built, manifest, speed, warnings)
