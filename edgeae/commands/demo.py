"""``edgeae demo``: the whole toolkit end to end on built-in data, with a report (``make demo``)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from edgeae_runtime.clitools import Command, force_option, output_option

__all__ = ["demo"]


@click.command("demo", cls=Command)
@output_option(deprecated=("--out",), path_type=Path, required=False)
@click.option("--quick", is_flag=True, help="Tiny data and one epoch: a smoke test in seconds.")
@click.option(
    "--only",
    "only",
    default="sensor,tones,digits",
    show_default=True,
    help="Which models to build (comma-separated).",
)
@force_option
def demo(output: Path | None, quick: bool, only: str, force: bool) -> None:
    """Run every stage of edgeae on built-in data and write one report.

    Trains a conv1d on builtin:sensor (anomalies) and on builtin:tones
    (denoising) and a dense model on builtin:digits, exports each to ONNX,
    quantizes it to int8 within a budget, compares float vs int8, streams a
    held-out noisy recording (another seed) through the int8 denoiser,
    denoises real speech with the pretrained model, trains a rate-distortion
    codec on the first 80 % of the sensor recording and compresses and
    decompresses the last 20 % with it (int8), scores the sensor recording for
    anomalies, and writes report.md, index.html and the plots into DIR/report
    (-o DIR, default runs/demo-YYYYmmdd-HHMMSS). One line per stage with its
    time; 1-2.5 minutes on 2 quiet cores, within 3 minutes (--quick: seconds).

    \b
    Examples:
      edgeae demo
      edgeae demo -o runs/demo --force
      edgeae demo --quick --only sensor
    """
    from edgeae.demo import run_demo
    from edgeae.report.demo_report import summary_lines

    out = output or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    models = tuple(m.strip() for m in only.split(",") if m.strip())
    click.echo(f"edgeae demo -> {out}{' (quick)' if quick else ''}", err=True)
    result = run_demo(
        out, quick=quick, force=force, models=models,
        progress=lambda msg: click.echo(msg, err=True),
    )  # fmt: skip
    click.echo("\n".join(summary_lines(result)))
