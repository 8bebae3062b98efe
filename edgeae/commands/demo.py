"""``edgeae demo``: the whole toolkit end to end on built-in data, with a report (``make demo``)."""

from __future__ import annotations

import time
from pathlib import Path

import click

__all__ = ["demo"]


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory [runs/demo-YYYYmmdd-HHMMSS].",
)
@click.option("--quick", is_flag=True, help="Tiny data and one epoch: a smoke test in seconds.")
@click.option(
    "--only",
    "only",
    default="sensor,tones,digits",
    show_default=True,
    help="Which models to build (comma-separated).",
)
@click.option("--force", is_flag=True, help="Reuse a non-empty --out directory.")
def demo(out_dir: Path | None, quick: bool, only: str, force: bool) -> None:
    """Run every stage of edgeae on built-in data and write one report.

    Trains a conv1d on builtin:sensor (anomalies, compression) and on
    builtin:tones (denoising) and a dense model on builtin:digits, exports each
    to ONNX, quantizes it to int8 within a budget, compares float vs int8,
    streams a held-out noisy recording (another seed) through the int8
    denoiser, compresses and
    decompresses the sensor stream with the int8 codec, scores the sensor
    recording for anomalies, and writes
    report.md, index.html and the plots into OUT/report. One line per stage
    with its time; about 70 s on 2 quiet cores, within 3 minutes (--quick: seconds).

    \b
    Examples:
      edgeae demo
      edgeae demo --out runs/demo --force
      edgeae demo --quick --only sensor
    """
    from edgeae.demo import run_demo

    out = out_dir or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    models = tuple(m.strip() for m in only.split(",") if m.strip())
    click.echo(f"edgeae demo -> {out}{' (quick)' if quick else ''}", err=True)
    result = run_demo(
        out, quick=quick, force=force, models=models,
        progress=lambda msg: click.echo(msg, err=True),
    )  # fmt: skip
    n = result.numbers
    lines = [f"edgeae demo finished in {result.seconds:.1f} s"]
    for name in ("sensor", "tones", "digits"):
        if name in n:
            v = n[name]
            speed = next((f", {k[8:]} speed-up {x:.2f}x" for k, x in v.items()
                          if k.startswith("speedup_")), "")  # fmt: skip
            lines.append(
                f"  {name:7s} {v['metric']} float {v['float']:.4g} -> int8 {v['int8']:.4g} "
                f"(drop {v['drop']:.3g}, {'within' if v['passed'] else 'OVER'} budget), "
                f"size {100 * v['size_ratio']:.0f}%{speed}"
            )
    if "stream" in n:
        s = n["stream"]
        lines.append(
            f"  stream  SNR {s['snr_in_db']:.1f} -> {s['snr_out_db']:.1f} dB on held-out "
            f"{s['source']}, RTF {s['rtf']:.4f}, latency {s['latency_ms']:.1f} ms"
        )
    if "codec" in n:
        c = n["codec"]
        lines.append(
            f"  codec   sensor stream {c['bytes_per_s']:.0f} B/s ({c['ratio_vs_pcm16']:.1f}x "
            f"smaller than PCM16), SNR after decoding {c['snr_db']:.1f} dB"
        )
    if "anomaly" in n:
        a = n["anomaly"]
        lines.append(
            f"  anomaly {a['detected']}/{a['segments']} segments detected, "
            f"{a['false_events']} false events"
        )
    lines.append(f"report: {result.report_html} (and {result.report_md.name})")
    click.echo("\n".join(lines))
