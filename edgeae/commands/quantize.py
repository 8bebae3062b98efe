"""``edgeae quantize``: quantize an exported model for this CPU, within an accuracy budget.

The host side of :func:`edgeae_export.quantize_model`: it resolves data sources
(files or ``builtin:NAME``) with :mod:`edgeae.data`, hands the arrays to the
library, and prints a summary (sizes, speed-up, metric drop, nodes kept float).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from edgeae_runtime.clitools import (
    Command,
    force_option,
    json_option,
    legacy_argument,
    library_names,
    max_drop_option,
    model_option,
    output_option,
)

from ._options import recorded_source

__all__ = ["quantize"]

_HELP = """Quantize -m MODEL.onnx (dynamic int8, static int8 QDQ, or fp16) into -o OUT.onnx.

\b
The int8 types follow this CPU (x86: U8S8, + reduce_range without VNNI; ARM: S8S8), or
the --target CPU (recorded in the manifest; no speed gate when it is not this machine),
ConvTranspose stays float in static mode (no int8 kernel on the CPU provider),
and the result is refused unless it is faster than the float model here
(--allow-slower writes it anyway). The manifest records every choice.

\b
Examples:
  edgeae quantize -m models/digits/model.onnx -o models/digits/model.int8.onnx
  edgeae quantize -m models/sensor/model.onnx -o models/sensor/model.int8.onnx \\
      --max-drop 0.005 --metric auroc --val builtin:sensor
  edgeae quantize -m models/digits/model.onnx -o q.onnx --mode static --method percentile \\
      --calibration digits.npy --exclude dec_conv2 --exclude ConvTranspose
  edgeae quantize -m models/tones/decoder.onnx -o models/tones/decoder.int8.onnx \\
      --calibration builtin:tones
  edgeae quantize -m models/digits/model.onnx -o model.fp16.onnx --mode fp16
  edgeae quantize -m models/tones/model.onnx -o model.arm64.onnx --target arm64
"""


def _load_items(
    source: str, manifest: Any, size: int, model: Path
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Raw items (a seeded random sample of at most ``size``), anomaly labels, clean targets."""
    from edgeae.data import load_source
    from edgeae.data.sources import frames_itself
    from edgeae.data.speech import is_speech_source, model_states, spectral_items
    from edgeae_export.errors import CalibrationError
    from edgeae_export.sampling import sample_indices

    if manifest.spectral is not None and is_speech_source(source):  # STFT items of speech
        states = model_states(model) if manifest.spectral.state else None  # the float's
        items = spectral_items(
            source, manifest.signal, manifest.spectral, limit=size, states=states
        )
        return items[0], None, None
    kwargs: dict[str, Any] = {"layout": manifest.layout}
    if manifest.features is not None:  # logmel: sources cut this model's items by default
        kwargs["features"] = manifest.features
    framed = manifest.spectral is not None or frames_itself(source)  # items as the source cuts
    if manifest.signal is not None and not framed:
        kwargs.update(window=manifest.signal.window, hop=manifest.signal.hop)
    if manifest.signal is not None:  # WAV and speech sources at the model's rate
        kwargs["sample_rate"] = manifest.signal.sample_rate
    ds = load_source(source, **kwargs)
    if ds.item_shape != tuple(manifest.item_shape):
        raise CalibrationError(
            f"{source}: items have shape {ds.item_shape}, the model expects item shape "
            f"{tuple(manifest.item_shape)}; give data made for this model"
        )
    picked = sample_indices(len(ds), size)  # the calibration path's one sample law
    labels = None if ds.anomaly_labels is None else ds.anomaly_labels[picked]
    target = None if ds.target is None else ds.target[picked]
    return ds.x[picked], labels, target


def _speech_metric(metric: str, source: str, manifest: Any) -> Any:
    """The budget's speech metric on the held-out files of speech source ``source``."""
    from edgeae.data.speech import is_speech_source, load_speech
    from edgeae.errors import ConfigError
    from edgeae.metrics.denoise import task_metric

    if manifest.signal is None or not is_speech_source(source):
        raise ConfigError(
            f"--metric {metric}: needs a denoiser (a signal model) and a speech source for "
            "--val/--calibration (builtin:speech, mix:clean=DIR&noise=DIR or a noisy/+clean/ "
            f"folder), got {source or 'none'}"
        )
    corpus = load_speech(source, sample_rate=manifest.signal.sample_rate)
    return task_metric(metric, corpus.validation_pairs(), corpus.sample_rate)


def _summary(result: Any) -> list[str]:
    q = result.manifest.quantization
    lines = [
        f"wrote {result.path} ({q.mode}; weights {q.weight_type}, activations "
        f"{q.activation_type}, per-channel {q.per_channel}, reduce_range {q.reduce_range})",
        f"cpu: {result.options.cpu_reason} (target {q.target})",
        f"size: {result.float_bytes / 1024:.1f} KiB float -> {result.quantized_bytes / 1024:.1f} "
        f"KiB ({100 * result.size_ratio:.0f}%)",
    ]
    if result.speed is not None:
        parts = [
            f"batch {b}: {f:.0f} -> {qq:.0f} µs ({f / max(qq, 1e-9):.2f}x)"
            for b, f, qq in zip(
                result.speed.batches, result.speed.float_us, result.speed.quantized_us, strict=True
            )
        ]
        lines.append("latency (1 thread): " + "; ".join(parts))
    if result.budget is not None:
        b = result.budget
        lines.append(
            f"{b.metric}: float {b.float_value:.4f}, quantized {b.quantized_value:.4f}, "
            f"drop {b.measured_drop:.4f} (budget {b.max_drop})"
        )
    kept = (*q.excluded_op_types, *q.excluded_nodes)
    lines.append(f"kept float: {', '.join(kept) if kept else 'nothing'}")
    if result.manifest.anomaly is not None and result.manifest.role == "autoencoder":
        from edgeae_runtime.operating_point import describe_operating_point

        a = result.manifest.anomaly
        lines.append(f"anomaly threshold: {a.threshold:.6g} ({describe_operating_point(a)})")
    lines += [f"warning: {w}" for w in result.warnings]
    return lines


@library_names(validation="val_source", target="cpu_target")
@click.command(
    "quantize",
    cls=Command,
    help=_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@model_option()
@legacy_argument("MODEL", into="model_path", flag="-m/--model")
@output_option(path_type=Path)
@click.option(
    "--mode", type=click.Choice(["dynamic", "static", "fp16"]), default="static", show_default=True
)
@click.option(
    "--calibration",
    default=None,
    help="File or builtin:NAME [default: the model's training data: a built-in, or a file "
    "still there].",
)
@click.option(
    "--calibration-size",
    type=click.IntRange(1, 1_000_000),
    default=512,
    show_default=True,
    help="Calibration items read at most (bounds memory).",
)
@click.option(
    "--method",
    type=click.Choice(["minmax", "entropy", "percentile"]),
    default="minmax",
    show_default=True,
    help="Calibration method (entropy/percentile keep histograms: more memory).",
)
@click.option(
    "--per-channel/--no-per-channel",
    default=None,
    help="Per-channel weight scales [default: on for static].",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="NAME_OR_OPTYPE",
    help="Keep a node (by name) or every node of an op type in float; repeatable.",
)
@max_drop_option
@click.option(
    "--metric",
    type=click.Choice(["psnr", "mse", "auroc", "sisnr", "pesq", "stoi"]),
    default="psnr",
    show_default=True,
    help="psnr: dB; mse: relative increase; auroc: absolute; sisnr (dB), pesq, stoi: "
    "a denoiser's mean over the held-out files of a speech source (pesq/stoi need the "
    "metrics extra).",
)
@click.option(
    "--val",
    "val_source",
    default=None,
    help="Validation data for the budget and anomaly threshold [default: calibration].",
)
@click.option(
    "--val-size",
    type=click.IntRange(1, 1_000_000),
    default=1024,
    show_default=True,
    help="Validation items read at most.",
)
@click.option(
    "--encoder",
    type=click.Path(path_type=Path),
    default=None,
    help="Float encoder.onnx that turns items into latents (decoder calibration).",
)
@click.option(
    "--target",
    "cpu_target",
    type=click.Choice(["arm64", "x86"]),
    default=None,
    help="CPU the model is for: its int8 types [default: this machine].",
)
@click.option(
    "--reduce-range/--full-range",
    "reduce_range",
    default=None,
    help="7-bit weights: the same integers on every x86 CPU, VNNI or not "
    "[default: only where this CPU/target needs it].",
)
@click.option("--allow-slower", is_flag=True, help="Write the model even if it is not faster.")
@force_option
@json_option
def quantize(
    model_path: str,
    output: Path,
    mode: str,
    calibration: str | None,
    calibration_size: int,
    method: str,
    per_channel: bool | None,
    exclude: tuple[str, ...],
    max_drop: float | None,
    metric: str,
    val_source: str | None,
    val_size: int,
    encoder: Path | None,
    cpu_target: str | None,
    reduce_range: bool | None,
    allow_slower: bool,
    force: bool,
    as_json: bool,
) -> None:
    from edgeae_export.budget import Validation
    from edgeae_export.onnx_io import load_onnx, require_manifest
    from edgeae_export.quantize import QuantizeRequest, quantize_model

    model = Path(model_path)
    manifest = require_manifest(
        load_onnx(model), where=str(model), needed="role, item_shape and preprocessing"
    )
    needs_data = mode == "static" or max_drop is not None or manifest.anomaly is not None
    data = labels = target = None
    cal_name = calibration
    if needs_data:
        cal_name = calibration or recorded_source(manifest, model, option="--calibration")
        data, labels, target = _load_items(cal_name, manifest, calibration_size, model)
        if calibration is None and not as_json:
            click.echo(f"calibration: {cal_name} (the model's training data)", err=True)
    validation = None
    if manifest.role == "autoencoder" and (max_drop is not None or manifest.anomaly is not None):
        if val_source is not None and val_source != cal_name:
            vx, vlabels, vtarget = _load_items(val_source, manifest, val_size, model)
        else:
            vx, vlabels, vtarget = (
                (data, labels, target)
                if val_size <= calibration_size
                else _load_items(cal_name or "", manifest, val_size, model)
            )
        name = val_source or cal_name or "validation data"
        held_out = val_source is not None and val_source != cal_name  # else: training data
        validation = Validation(vx, vlabels, name, target=vtarget, held_out=held_out)
    budget_metric: Any = metric
    if metric in ("sisnr", "pesq", "stoi") and max_drop is not None:
        budget_metric = _speech_metric(metric, val_source or cal_name or "", manifest)

    def progress(msg: str) -> None:
        if not as_json:
            click.echo(msg, err=True)

    result = quantize_model(
        QuantizeRequest(
            model,
            output,
            mode=mode,
            calibration=data if mode == "static" else None,
            calibration_name=cal_name or "",
            calibration_size=calibration_size,
            method=method,
            per_channel=per_channel,
            exclude=exclude,
            max_drop=max_drop,
            metric=budget_metric,
            validation=validation,
            encoder=encoder,
            target=cpu_target,
            reduce_range=reduce_range,
            allow_slower=allow_slower,
            force=force,
        ),
        progress=progress,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        for line in _summary(result):
            click.echo(line)
