"""``edgeae export``: a trained run -> model.onnx, encoder.onnx and decoder.onnx with manifests.

The host side of the export: it loads the run's checkpoint and real items of
its data (:func:`edgeae_export.sampling.sample_items`: THE seeded sample spread over
all of it, the calibration's too), then hands
the torch module and a plain description to
:func:`edgeae_export.export_autoencoder`, which checks parity and writes the files.
torch is imported inside the command only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from edgeae_runtime.clitools import (
    BoundedFloat,
    Command,
    force_option,
    json_option,
    library_names,
    output_option,
)

from ._options import data_options

__all__ = ["export", "validation_items"]


def validation_items(
    ckpt: Any,
    *,
    data: str | None,
    key: str | None,
    window: int | None,
    hop: int | None,
    samples: int,
) -> tuple[Any, str]:
    """Raw items to check parity on and fit the codec on, and where they came from.

    :func:`edgeae_export.sampling.sample_items` of the whole source, the run's own
    data (training and validation items alike) or other data (``--data``). Speech
    runs (spectral) take STFT items of the source's held-out files (the same sample).
    """
    from edgeae.data import load_source
    from edgeae.errors import DataError
    from edgeae_export.sampling import sample_items

    source = data or ckpt.data_source
    if not source:
        raise DataError(f"{ckpt.path}: the checkpoint names no data source; pass --data SOURCE")
    if ckpt.spectral is not None:  # a mask denoiser: STFT items of held-out speech
        from edgeae.data.speech import model_states, spectral_items

        states = model_states(ckpt.model) if ckpt.spectral.state else None
        items, how = spectral_items(
            source, ckpt.signal, ckpt.spectral, limit=samples, states=states
        )
        return items, f"{how} of {source}"
    from edgeae.data.sources import frames_itself

    framing = ckpt.signal if ckpt.layout == "NCW" and ckpt.signal else ckpt.windows
    extra: dict[str, Any] = {}
    if ckpt.features:
        extra = {"features": ckpt.features, "layout": ckpt.layout}
    elif window is None and framing is not None and not frames_itself(source):
        window, hop = framing.window, hop or framing.hop  # cut the run's data as it was
        extra = {"layout": ckpt.layout}
    try:
        ds = load_source(source, key=key, window=window, hop=hop, **extra)
        if (
            tuple(ds.item_shape) != tuple(ckpt.item_shape)
            and ckpt.layout == "NCW"
            and window is None
            and ds.signal is not None
        ):  # a signal framed without a sample rate: frame it as the run did
            w = ckpt.item_shape[-1]
            ds = load_source(source, key=key, window=w, hop=hop or w)
    except DataError as exc:
        hint = "" if data else "; pass --data SOURCE (and --key/--window/--hop) to use other data"
        raise DataError(f"{exc}{hint}") from None
    if tuple(ds.item_shape) != tuple(ckpt.item_shape):
        raise DataError(
            f"{source}: items have shape {tuple(ds.item_shape)}, the model takes "
            f"{tuple(ckpt.item_shape)}; pass --data (and --window/--key) matching the run"
        )
    raw = sample_items(ds.x, samples)
    whose = "the run's data" if ds.fingerprint == ckpt.data_fingerprint else "not the training data"
    return raw, f"{len(raw)} items sampled over all {len(ds)} of {source} ({whose})"


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n < 1024**2 else f"{n / 1024**2:.2f} MB"


@library_names(out_dir="output")
@click.command("export", cls=Command)
@click.argument("run_dir", type=click.Path(path_type=Path))
@output_option(deprecated=("--out",), path_type=Path)
@click.option(
    "--tolerance",
    type=BoundedFloat(0.0, 1e3, low_open=True),
    default=1e-4,
    show_default=True,
    help="Max abs error allowed between onnxruntime and torch (model space).",
)
@click.option(
    "--opset",
    type=click.IntRange(1, 99),
    default=None,
    help="ONNX opset (default 17: what onnxruntime's quantizer and older runtimes handle).",
)
@click.option("--optimize", is_flag=True, help="Apply onnxruntime's basic graph optimizations.")
@force_option
@click.option("--data", default=None, help="Data to check parity on (default: the run's source).")
@data_options
@click.option(
    "--samples",
    type=click.IntRange(1, 100_000),
    default=256,  # edgeae_export.sampling.EXPORT_SAMPLES (options never import edgeae_export)
    show_default=True,
    help="How many items the parity check and the codec calibration use.",
)
@json_option
def export(
    run_dir: Path,
    output: Path,
    tolerance: float,
    opset: int | None,
    optimize: bool,
    force: bool,
    data: str | None,
    key: str | None,
    window: int | None,
    hop: int | None,
    samples: int,
    as_json: bool,
) -> None:
    """Export a trained run to ONNX: model.onnx, encoder.onnx and decoder.onnx in -o DIR.

    DIR is created when missing.

    Each file is checked (onnx checker, shape inference), run in onnxruntime on
    real items of the run's data and compared with torch; above --tolerance
    nothing is written. Each carries its manifest (shapes, normalization, signal
    framing, anomaly threshold, latent codec, fingerprint, parity). Existing
    files are replaced only with --force.

    \b
    Examples:
      edgeae export runs/digits -o models/digits
      edgeae export runs/tones -o models/tones --optimize --json
      edgeae export runs/digits -o models/digits --force --tolerance 1e-3
      edgeae export runs/wav -o models/wav --data other.wav --window 256 --hop 128
    """
    from edgeae.errors import CheckpointError
    from edgeae.train import load_checkpoint
    from edgeae_export import DEFAULT_OPSET, export_autoencoder
    from edgeae_export.exporter import check_export_targets
    from edgeae_runtime.preprocess import normalize

    check_export_targets(output, force=force)  # refuse before loading anything
    ckpt = load_checkpoint(run_dir)
    if not ckpt.finished:
        raise CheckpointError(
            f"{run_dir}: training has not finished (checkpoint of epoch {ckpt.epoch} of "
            f"{ckpt.train_config.get('epochs', '?')}, no threshold calibrated yet); let it end, "
            f"or finish a stopped run with `edgeae train {ckpt.data_source or 'SOURCE'} "
            f"-o {run_dir} --resume`"
        )
    raw, described = validation_items(
        ckpt, data=data, key=key, window=window, hop=hop, samples=samples
    )
    info = ckpt.export_info()
    if not as_json:
        click.echo(f"exporting {ckpt.arch} from {run_dir}; parity on {described}", err=True)
    result = export_autoencoder(
        ckpt.model,
        out_dir=output,
        example_inputs=normalize(raw, ckpt.preprocessing),
        info=info,
        tolerance=tolerance,
        opset=opset if opset is not None else DEFAULT_OPSET,
        optimize=optimize,
        force=force,
    )
    if as_json:
        summary = {"run_dir": str(run_dir), "parity_data": described, **result.to_dict()}
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(
        f"exported {run_dir} -> {output} (opset {result.opset}, "
        f"fingerprint {result.fingerprint[:16]})"
    )
    for f in result.files:
        click.echo(
            f"  {f.path!s:<40} {_size(f.size_bytes):>9}  parity {f.parity.max_abs_error:.2e} "
            f"(tolerance {f.parity.tolerance:.0e}, {f.parity.samples} items)"
        )
