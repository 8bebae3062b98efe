"""``edgeae-rt bench``: latency and streaming speed of a model on this device."""

from __future__ import annotations

import click

from ..bench import batch_latency, bench_signal, raw_bound, stream_rtf
from ._common import echo_json, load_model, model_option, threads_option

__all__ = ["bench"]


@click.command("bench")
@model_option
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Batch size N for the batched latency.",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Timed calls per latency figure.",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Length of the streamed test signal.",
)
@click.option(
    "--chunk-ms",
    type=click.FloatRange(min=0.1),
    default=100.0,
    show_default=True,
    help="Chunk size for the streaming run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@threads_option
def bench(
    model_path: str,
    batch: int,
    repeats: int,
    seconds: float,
    chunk_ms: float,
    as_json: bool,
    threads: int,
) -> None:
    """Measure MODEL here: latency p50/p99 at batch 1 and N, and streaming real-time factor.

    The streaming run (signal models only) pushes a synthetic noisy signal through
    the StreamDenoiser in --chunk-ms chunks and compares it with bare onnxruntime
    on the whole signal in one call (the raw bound).

    \b
    Examples:
      edgeae-rt bench -m model.onnx
      edgeae-rt bench -m model.int8.onnx --chunk-ms 10 --json
    """
    model = load_model(model_path, threads)
    lat1 = batch_latency(model, 1, repeats=repeats)
    latn = batch_latency(model, batch, repeats=max(1, repeats // 4))
    result: dict[str, object] = {
        "model": str(model.path),
        "threads": threads,
        "latency_batch_1": lat1.to_dict(),
        f"latency_batch_{batch}": latn.to_dict(),
    }
    lines = [
        f"latency batch 1    p50 {lat1.p50_ms:.3f} ms   p99 {lat1.p99_ms:.3f} ms",
        f"latency batch {batch:<4} p50 {latn.p50_ms:.3f} ms   p99 {latn.p99_ms:.3f} ms",
    ]
    if model.signal is not None and model.role == "autoencoder":
        spec = model.signal
        signal = bench_signal(model, seconds)
        st = stream_rtf(model, signal, max(1, round(chunk_ms * spec.sample_rate / 1000.0)))
        raw = raw_bound(model, signal)
        latency_ms = 1000.0 * (spec.window - 1) / spec.sample_rate
        result.update(
            stream=st.to_dict(),
            raw_bound_rtf=raw,
            stream_vs_raw=st.rtf / raw if raw > 0 else None,
            latency_ms=latency_ms,
        )
        lines.append(
            f"stream {chunk_ms:g} ms chunks: RTF {st.rtf:.4f} (raw onnxruntime bound {raw:.4f}), "
            f"chunk p50 {st.chunk_p50_ms:.3f} ms, p99 {st.chunk_p99_ms:.3f} ms, "
            f"algorithmic latency {latency_ms:.1f} ms"
        )
    if as_json:
        echo_json(result)
        return
    for line in lines:
        click.echo(line)
