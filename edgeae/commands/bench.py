"""``edgeae bench -m MODEL...``: latency, throughput, streaming RTF and footprint of ONNX models.

The host's benchmark has the device's signature (one decorator,
:func:`edgeae_runtime.clitools.bench_options`); it adds a fresh-process footprint
probe and one table for all models. The measuring code is shared: the runtime's
``edgeae_runtime.bench`` and :func:`edgeae_export.compare.bench_model`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgeae_runtime.clitools import Command, bench_options, legacy_argument

if TYPE_CHECKING:
    from edgeae_runtime.manifest import ExecutionAdvice

__all__ = ["HOST_ONLY_OPTIONS", "bench", "bench_text"]

#: Flags only the host's bench has (it has onnx for the graph's MACs); the rest is shared.
HOST_ONLY_OPTIONS = ("--profile", "--record")


def bench_text(results: list) -> str:  # list[BenchResult]
    """The terminal form: one latency table for all models, then streaming and footprint lines."""
    from edgeae.report import fmt, text_table

    rows = []
    for r in results:
        for row in r.rows:
            rows.append(
                (
                    Path(r.path).name,
                    r.quantization,
                    str(row.threads),
                    str(row.batch),
                    fmt(row.p50_us),
                    fmt(row.p99_us),
                    fmt(row.items_per_s),
                )
            )
    header = ("model", "quant", "threads", "batch", "p50 (µs)", "p99 (µs)", "items/s")
    lines = [text_table(header, rows), ""]
    for r in results:
        name = Path(r.path).name
        lines.append(f"{name}: {r.size_bytes / 1024:.1f} KiB on disk")
        if r.stream is not None:
            s = r.stream
            lines.append(
                f"{name}: streaming {s.seconds:g} s in {s.chunk_ms:g} ms chunks: RTF {s.rtf:.4f} "
                f"(raw onnxruntime bound {s.raw_bound_rtf:.4f}), chunk p50 {s.chunk_p50_ms:.3f} ms"
                f", p99 {s.chunk_p99_ms:.3f} ms, algorithmic latency "
                f"{s.algorithmic_latency_ms:.1f} ms"
            )
        if r.peak_rss_mb is not None:
            lines.append(
                f"{name}: import + load + first call {r.load_s:.3f} s, peak RSS "
                f"{r.peak_rss_mb:.1f} MB (fresh process)"
            )
    return "\n".join(lines)


def _record(path: str, rows: list) -> ExecutionAdvice:
    """Write the provider verdict into the model's manifest (the file is rewritten atomically)."""
    from datetime import date

    from edgeae_export.cpu import detect_cpu
    from edgeae_export.onnx_io import load_onnx, require_manifest, rewrite_manifest
    from edgeae_runtime.ov_backend import recommendation

    cpu = detect_cpu()
    advice = recommendation(
        rows, machine=cpu.model_name or cpu.machine, measured=date.today().isoformat()
    )
    manifest = require_manifest(load_onnx(path), where=Path(path).name, needed="a manifest")
    rewrite_manifest(path, manifest.replace(execution=advice))
    return advice


@click.command("bench", cls=Command)
@bench_options
@legacy_argument("MODEL...", into="model_path", flag="-m/--model", nargs=-1)
@click.option(
    "--profile",
    is_flag=True,
    help="Also print each model's performance model at the largest --batch: MACs, "
    "time and GMAC/s per node (onnxruntime's profiler), share of this CPU's int8/fp32 peak.",
)
@click.option(
    "--record",
    is_flag=True,
    help="With --openvino: write the verdict at the largest --batch into each model's "
    "manifest (manifest.execution), which Model(path, providers=\"recommended\") follows.",
)
def bench(
    model_path: tuple[str, ...],
    batches: tuple[int, ...],
    threads: tuple[int, ...],
    budget: float,
    seconds: float,
    chunk_ms: float,
    no_memory: bool,
    as_json: bool,
    profile: bool,
    record: bool,
    openvino: bool,
) -> None:
    """Benchmark ONNX models on this CPU: latency p50/p99 and throughput per batch size
    and thread count, streaming real-time factor for signal models (against the bare
    onnxruntime bound), and import + load time and peak RSS in a fresh process.

    The options are edgeae-rt bench's, so the same line measures a board;
    --model, --batch and --threads repeat (or take comma-separated lists).

    \b
    Examples:
      edgeae bench -m models/sensor/model.onnx -m models/sensor/model.int8.onnx
      edgeae bench -m m.onnx --batch 1,256 --threads 1 --json | jq '.[0].rows'
      edgeae bench -m model.int8.onnx --batch 256 --threads 1 --profile
      edgeae bench -m model.int8.onnx --batch 1,256 --threads 1 --openvino
      edgeae bench -m model.int8.onnx --batch 1 --threads 1 --openvino --record
    """
    from edgeae_export.compare import bench_model
    from edgeae_runtime.errors import InputError, ParameterError

    if record and not openvino:
        raise ParameterError("--record needs --openvino (it records that comparison)",
                             param="record")

    sizes, counts, models = batches, threads, model_path
    for path in models:
        if not Path(path).is_file():
            raise InputError(f"{path}: no such model file")
    results = [
        bench_model(
            path,
            batches=sizes,
            threads=counts,
            budget_s=budget,
            stream_seconds=seconds,
            chunk_ms=chunk_ms,
            memory=not no_memory,
            progress=lambda msg: click.echo(f"bench: {msg}", err=True),
        )
        for path in models
    ]
    perfs = []
    if profile:
        from edgeae_export.perf_model import measure_peak, performance_model

        click.echo("bench: the int8/fp32 GEMM peak probe", err=True)
        peak = measure_peak(threads=min(counts), budget_s=budget)
        for path in models:
            click.echo(f"bench: {Path(path).name}: profile at batch {max(sizes)}", err=True)
            perfs.append(
                performance_model(
                    path, batch=max(sizes), threads=min(counts), budget_s=budget, peak=peak
                )
            )
    providers = []
    if openvino:
        from edgeae_runtime.ov_backend import compare_providers

        for path in models:
            click.echo(f"bench: {Path(path).name}: onnxruntime vs openvino", err=True)
            providers.append(compare_providers(path, sizes, threads=min(counts), budget_s=budget))
    if record:
        for path, rows in zip(models, providers, strict=True):
            advice = _record(path, rows)
            click.echo(
                f"bench: {Path(path).name}: recorded {advice.provider} for batch {advice.batch}, "
                f"{advice.threads} thread(s) in manifest.execution",
                err=True,
            )
    if as_json:
        dicts = [r.to_dict() for r in results]
        for d, pm in zip(dicts, perfs or [None] * len(dicts), strict=True):
            if pm is not None:
                d["profile"] = pm.to_dict()
        for d, rows in zip(dicts, providers or [None] * len(dicts), strict=True):
            if rows is not None:
                d["providers"] = rows
        click.echo(json.dumps(dicts, indent=2))
    else:
        click.echo(bench_text(results))
        if perfs:
            from edgeae.report.perf_table import perf_text

            click.echo("\n\n".join(perf_text(pm) for pm in perfs))
        from edgeae_runtime.ov_backend import providers_text

        for path, rows in zip(models, providers, strict=False):
            click.echo(providers_text(path, rows))
