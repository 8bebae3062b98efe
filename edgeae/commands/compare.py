"""``edgeae compare A.onnx B.onnx --data SOURCE``: can I ship B instead of A?

Runs both models through the runtime on the same data and prints every number
(task quality, anomaly detection, codec, per-node error, size, latency, memory)
with a verdict against ``--max-drop``; exit code 1 when the budget is exceeded,
so CI can gate on it. The work is done by :func:`edgeae_export.compare.compare_models`;
this module only loads data and renders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from edgeae_runtime.clitools import (
    Command,
    batch_option,
    json_option,
    max_drop_option,
    no_memory_option,
    output_option,
    threads_option,
)

from ._options import key_option, recorded_source

__all__ = ["compare", "load_data_for_model"]


def load_data_for_model(
    source: str,
    model_path: str | Path,
    *,
    key: str | None = None,
    limit: int | None = None,
) -> Any:
    """Load ``source`` framed and laid out the way the model at ``model_path`` expects.

    Signals are cut with the manifest's window and hop; images and vectors take
    the manifest's layout (a dense model sees digits as flat vectors).
    """
    from edgeae.data import load_source
    from edgeae.errors import DataError
    from edgeae_runtime.model import Model

    manifest = Model(model_path).manifest
    layout = manifest.layout
    if manifest.spectral is not None and manifest.signal is not None:  # a mask denoiser
        from edgeae.data.speech import is_speech_source, model_states, spectral_dataset

        if is_speech_source(source):  # a recurrent model's items: the float model's states
            states = model_states(model_path) if manifest.spectral.state else None
            return spectral_dataset(
                source, manifest.signal, manifest.spectral, limit=limit, states=states
            )
        return load_source(source, key=key, layout=layout, limit=limit)  # ready-made items
    from edgeae.data.sources import frames_itself

    if manifest.signal is None or frames_itself(source):
        return load_source(source, key=key, layout=layout, limit=limit, features=manifest.features)
    window, hop = manifest.signal.window, manifest.signal.hop
    rate = manifest.signal.sample_rate  # WAV and speech sources are resampled to the model's rate
    try:
        return load_source(
            source, key=key, window=window, hop=hop, layout=layout, limit=limit, sample_rate=rate
        )
    except DataError as first:
        if source.startswith("builtin:"):
            raise
        try:  # a file of ready-made windows rather than a signal
            return load_source(source, key=key, layout=layout, limit=limit)
        except DataError:
            raise first from None


def anomaly_labels(dataset: Any, mode: str) -> Any:
    """The labels to score anomalies against: ``auto`` uses them for labeled signals only.

    Item labels are often classes (digits 0-9), not anomalies; ``yes`` treats any
    labels as anomaly labels (> 0 = anomaly), ``no`` ignores them.
    """
    from edgeae.errors import DataError

    labels = getattr(dataset, "labels", None)
    if mode == "no" or labels is None:
        if mode == "yes":
            raise DataError(f"{dataset.name}: --labels yes, but the data has no labels")
        return None
    if mode == "auto" and dataset.anomaly_labels is None:
        return None
    return labels


@click.command("compare", cls=Command)
@click.argument("model_a", type=click.Path(dir_okay=False))
@click.argument("model_b", type=click.Path(dir_okay=False))
@click.option(
    "--data",
    "source",
    default=None,
    help="builtin:NAME, a file, or a PNG folder [default: A's training data, if found].",
)
@key_option
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000_000),
    default=4096,
    show_default=True,
    help="Items used at most.",
)
@click.option(
    "--labels",
    "labels_mode",
    type=click.Choice(["auto", "yes", "no"]),
    default="auto",
    show_default=True,
    help="Use the data's labels as anomaly labels (auto: for labeled signals such as sensor).",
)
@click.option(
    "--metric",
    default=None,
    help="Metric of the verdict: psnr, ssim, snr_db, auroc, "
    "f1, clip_auroc (labelled logmel: clips), mse, mae (default: auroc with labels, else psnr).",
)
@max_drop_option
@click.option(
    "--codec-a",
    nargs=2,
    type=click.Path(dir_okay=False),
    default=None,
    metavar="ENCODER DECODER",
    help="Codec files of A (default: found beside A).",
)
@click.option(
    "--codec-b",
    nargs=2,
    type=click.Path(dir_okay=False),
    default=None,
    metavar="ENCODER DECODER",
    help="Codec files of B (default: found beside B).",
)
@click.option(
    "--ladder",
    multiple=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Exported codecs of a quality ladder (a folder per step, or their parent): adds "
    "a rate-distortion curve on the same data (repeatable).",
)
@batch_option(default=(1, 256))
@threads_option()
@no_memory_option
@click.option("--no-nodes", is_flag=True, help="Skip the per-node error.")
@json_option
@output_option(deprecated=("--report",), required=False)
def compare(
    model_a: str,
    model_b: str,
    source: str | None,
    key: str | None,
    limit: int,
    labels_mode: str,
    metric: str | None,
    max_drop: float | None,
    codec_a: tuple[str, str] | None,
    codec_b: tuple[str, str] | None,
    ladder: tuple[str, ...],
    batches: tuple[int, ...],
    threads: int,
    no_memory: bool,
    no_nodes: bool,
    as_json: bool,
    output: str | None,
) -> None:
    """Compare two models (float vs quantized first of all) on the same data.

    Quality (MSE, MAE, PSNR, SNR for signals, SSIM for images, A-vs-B output
    difference), anomaly detection when the data has anomaly labels (AUROC,
    pAUC, precision/recall/F1 at each model's threshold, flag agreement; on a
    logmel: folder of normal and anomaly_* clips also per clip: clip AUROC/pAUC
    over every item of each clip, TPR/FPR at the clip threshold), the codec
    (encoder*/decoder* files beside each model), per-node SQNR when B is a QDQ
    version of A, size, latency p50/p99 and peak memory. The last line is the
    verdict; the exit code is 0 within --max-drop and 1 above it. With -o DIR,
    report.md, index.html and PNG plots are written into DIR.

    \b
    Examples:
      edgeae compare models/digits/model.onnx models/digits/model.int8.onnx \\
          --data builtin:digits --max-drop 0.5
      edgeae compare m/model.onnx m/model.int8.onnx --data builtin:sensor \\
          --metric auroc --max-drop 0.005 -o reports/sensor
      edgeae compare a.onnx b.onnx --data windows.npy --json | jq .verdict
      edgeae compare q4/model.onnx q4/model.int8.onnx --data builtin:digits \\
          --ladder codecs/ -o reports/rd     # codecs/q1 .. codecs/q4, each exported
    """
    from edgeae.errors import ConfigError
    from edgeae.report import comparison_text, write_comparison_report
    from edgeae_export.compare import METRICS, compare_models
    from edgeae_runtime.errors import EXIT_VERDICT, InputError

    if metric is not None and metric not in METRICS:
        raise ConfigError(f"{metric!r}: choose one of {', '.join(METRICS)}", param="metric")
    sizes = batches
    for path in (model_a, model_b):
        if not Path(path).is_file():
            raise InputError(f"{path}: no such model file")
    for side, pair in (("a", codec_a), ("b", codec_b)):
        if pair is not None:
            _check_codec_pair(pair, f"codec_{side}")
    if source is None:
        from edgeae_export.onnx_io import load_onnx, require_manifest

        manifest = require_manifest(load_onnx(model_a), where=model_a, needed="its training data")
        recorded = recorded_source(manifest, model_a, option="--data")
    dataset = load_data_for_model(source or recorded, model_a, key=key)
    if source is None:
        click.echo(f"compare: data {recorded} (A's training data, as recorded)", err=True)
    labels = anomaly_labels(dataset, labels_mode)

    def progress(msg: str) -> None:
        click.echo(f"compare: {msg}", err=True)

    result = compare_models(
        model_a,
        model_b,
        dataset,
        labels=labels,
        metric=metric,
        max_drop=max_drop,
        max_items=limit,
        codec_a=codec_a,
        codec_b=codec_b,
        batches=sizes,
        measure_memory=not no_memory,
        per_node=not no_nodes,
        threads=threads,
        progress=progress,
        ladder=ladder,
    )
    speech = None
    if getattr(dataset, "corpus", None) is not None:  # speech pairs: SNR, SI-SNR, PESQ, STOI
        from edgeae.metrics.denoise import compare_speech, speech_text

        progress("speech metrics on the held-out files")
        speech = compare_speech(model_a, model_b, dataset.corpus)
    if output is not None:
        md, page = write_comparison_report(result, output)
        progress(f"report written: {md} and {page}")
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "speech": speech}, indent=2))
    else:
        click.echo(comparison_text(result))
        if speech is not None:
            click.echo(speech_text(speech))
    sys.stdout.flush()
    if not result.passed:
        raise click.exceptions.Exit(EXIT_VERDICT)


def _check_codec_pair(pair: tuple[str, str], param: str) -> None:
    """A given codec pair must exist and be an encoder then a decoder: else exit 3, not a skip."""
    from edgeae_runtime.errors import InputError, ModelError
    from edgeae_runtime.model import Model

    for path, role in zip(pair, ("encoder", "decoder"), strict=True):
        if not Path(path).is_file():
            raise InputError(f"{path}: no such {role} file", param=param)
        found = Model(path).role
        if found != role:
            swapped = " (the two files are swapped?)" if found in ("encoder", "decoder") else ""
            raise ModelError(
                f"{path}: is the {found}, expected the {role}{swapped}; give ENCODER DECODER",
                param=param,
            )
