"""``edgeae-rt bench``: latency, throughput and streaming speed of models on this device.

Its signature is ``edgeae bench``'s (one decorator, :func:`~edgeae_runtime.clitools.bench_options`),
so a command measured on the host runs unchanged on the board. The footprint
here is this process's own: the load time of each model and the peak RSS after
all runs (the host's ``edgeae bench`` probes each model in a fresh process).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from typing import Any

import click

from ..bench import batch_latency, bench_signal, raw_bound, stream_rtf
from ..clitools import Command, bench_options
from ._common import echo_json, load_model

__all__ = ["bench"]


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _warn_repeats(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        click.echo(
            "warning: --repeats is deprecated and goes in the next release; "
            "use --budget (seconds of timed calls)",
            err=True,
        )
    return value


def bench_one(
    path: str,
    *,
    batches: tuple[int, ...],
    threads: tuple[int, ...],
    budget: float,
    seconds: float,
    chunk_ms: float,
) -> dict[str, Any]:
    """Every (threads, batch) point of one model, and its streaming run (signal models)."""
    rows = []
    load_s = None
    for n_threads in threads:
        t0 = time.perf_counter()
        model = load_model(path, n_threads)
        load_s = time.perf_counter() - t0 if load_s is None else load_s
        for batch in batches:
            lat = batch_latency(model, batch, budget_s=budget)
            rows.append(
                {
                    "threads": n_threads,
                    "batch": batch,
                    "p50_ms": lat.median_us / 1e3,
                    "p99_ms": lat.p99_us / 1e3,
                    "items_per_s": lat.items_per_s if lat.median_us > 0 else None,
                    "calls": lat.calls,
                }
            )
    model = load_model(path, min(threads))
    result: dict[str, Any] = {
        "model": str(model.path),
        "size_bytes": os.path.getsize(model.path),
        "quantization": model.manifest.quantization.mode,
        "rows": rows,
        "stream": None,
        "load_s": load_s,
    }
    if model.signal is not None and model.role == "autoencoder" and seconds > 0:
        spec = model.signal
        signal = bench_signal(model, seconds)
        st = stream_rtf(model, signal, max(1, round(chunk_ms * spec.sample_rate / 1000.0)))
        raw = raw_bound(model, signal)
        result["stream"] = {
            **st.to_dict(),
            "raw_bound_rtf": raw,
            "stream_vs_raw": st.rtf / raw if raw > 0 else None,
            "algorithmic_latency_ms": 1000.0 * (spec.window - 1) / spec.sample_rate,
        }
    return result


def _lines(result: dict[str, Any]) -> list[str]:
    name = os.path.basename(result["model"])
    lines = [
        f"{name}: threads {r['threads']} batch {r['batch']:<5} p50 {r['p50_ms']:.3f} ms  "
        f"p99 {r['p99_ms']:.3f} ms  {r['items_per_s'] or 0:.0f} items/s"
        for r in result["rows"]
    ]
    st = result["stream"]
    if st is not None:
        lines.append(
            f"{name}: stream {st['chunk_ms']:g} ms chunks: RTF {st['rtf']:.4f} (raw onnxruntime "
            f"bound {st['raw_bound_rtf']:.4f}), chunk p50 {st['chunk_p50_ms']:.3f} ms, "
            f"p99 {st['chunk_p99_ms']:.3f} ms, algorithmic latency "
            f"{st['algorithmic_latency_ms']:.1f} ms"
        )
    lines.append(f"{name}: {result['size_bytes'] / 1024:.1f} KiB on disk")
    return lines


@click.command("bench", cls=Command)
@bench_options
@click.option("--repeats", type=int, default=None, hidden=True, callback=_warn_repeats)
def bench(
    model_path: tuple[str, ...],
    batches: tuple[int, ...],
    threads: tuple[int, ...],
    budget: float,
    seconds: float,
    chunk_ms: float,
    no_memory: bool,
    as_json: bool,
    openvino: bool,
    repeats: int | None,
) -> None:
    """Measure each MODEL here: latency p50/p99 and throughput per batch size and thread
    count, and the streaming real-time factor of signal models.

    The streaming run pushes a synthetic noisy signal through the StreamDenoiser in
    --chunk-ms chunks and compares it with bare onnxruntime on the whole signal in
    one call (the raw bound). --model, --batch and --threads repeat (or take
    comma-separated lists). The footprint is this process's: load time and peak RSS.

    \b
    Examples:
      edgeae-rt bench -m model.onnx
      edgeae-rt bench -m model.onnx -m model.int8.onnx --batch 1,64 --threads 1
      edgeae-rt bench -m model.int8.onnx --chunk-ms 10 --json
      edgeae-rt bench -m model.int8.onnx --batch 1,256 --threads 1 --openvino
    """
    results = [
        bench_one(
            path,
            batches=batches,
            threads=threads,
            budget=budget,
            seconds=seconds,
            chunk_ms=chunk_ms,
        )
        for path in model_path
    ]
    peak = None if no_memory else _peak_rss_mb()
    for r in results:
        if no_memory:
            r["load_s"] = None
        r["peak_rss_mb"] = peak
    if openvino:
        from ..ov_backend import compare_providers

        for r, path in zip(results, model_path, strict=True):
            r["providers"] = compare_providers(path, batches, threads=min(threads),
                                               budget_s=budget)
    if as_json:
        echo_json(results)
        return
    for r in results:
        for line in _lines(r):
            click.echo(line)
        if "providers" in r:
            from ..ov_backend import providers_text

            click.echo(providers_text(r["model"], r["providers"]))
    if peak is not None:
        click.echo(f"peak RSS of this process {peak:.1f} MB (all models above)")
