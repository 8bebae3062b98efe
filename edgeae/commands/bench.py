"""``edgeae bench MODEL...``: latency, throughput, streaming RTF and footprint of ONNX models.

The host's fuller benchmark (the device's ``edgeae-rt bench`` measures one
model at one setting); the measuring code is shared: the runtime's
``edgeae_runtime.bench`` and :func:`edgeae_export.compare.bench_model`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["bench", "bench_text"]


def _ints(text: str, option: str) -> tuple[int, ...]:
    from edgeae.errors import ConfigError

    try:
        values = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise ConfigError(f"{option} {text!r}: give comma-separated integers, e.g. 1,32") from None
    if not values or min(values) < 1:
        raise ConfigError(f"{option} {text!r}: values must be >= 1")
    return values


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


@click.command("bench")
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--batch",
    "batches",
    default="1,32,256",
    show_default=True,
    help="Batch sizes (comma-separated).",
)
@click.option(
    "--threads",
    "threads",
    default="1,2",
    show_default=True,
    help="onnxruntime intra-op thread counts (comma-separated).",
)
@click.option(
    "--budget",
    type=float,
    default=0.5,
    show_default=True,
    help="Seconds of timed calls per (batch, threads) point.",
)
@click.option(
    "--seconds",
    type=float,
    default=10.0,
    show_default=True,
    help="Length of the streamed test signal (signal models; 0 skips streaming).",
)
@click.option(
    "--chunk-ms",
    type=float,
    default=100.0,
    show_default=True,
    help="Chunk size of the streaming run.",
)
@click.option("--no-memory", is_flag=True, help="Skip the fresh-process footprint probe.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
def bench(
    models: tuple[str, ...],
    batches: str,
    threads: str,
    budget: float,
    seconds: float,
    chunk_ms: float,
    no_memory: bool,
    as_json: bool,
) -> None:
    """Benchmark ONNX models on this CPU: latency p50/p99 and throughput per batch size
    and thread count, streaming real-time factor for signal models (against the bare
    onnxruntime bound), and import + load time and peak RSS in a fresh process.

    \b
    Examples:
      edgeae bench models/sensor/model.onnx models/sensor/model.int8.onnx
      edgeae bench m.onnx --batch 1,256 --threads 1 --json | jq '.[0].rows'
    """
    from edgeae.errors import ConfigError
    from edgeae_export.compare import bench_model

    sizes, counts = _ints(batches, "--batch"), _ints(threads, "--threads")
    if budget <= 0 or seconds < 0 or chunk_ms <= 0:
        raise ConfigError("--budget and --chunk-ms must be > 0, --seconds >= 0")
    for path in models:
        if not Path(path).is_file():
            raise ConfigError(f"{path}: no such model file")
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
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        click.echo(bench_text(results))
