"""``edgeae-rt score``: anomaly scores per item or per signal window, and events."""

from __future__ import annotations

import click
import numpy as np

from ..anomaly import AnomalyScorer, StreamScorer
from ..errors import InputError
from ._common import echo_json, load_model, model_option, open_signal, pcm_options, threads_option
from .encode import _items_or_none

__all__ = ["score"]


@click.command("score")
@model_option
@click.argument("source", metavar="IN")
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Flag scores above this (default: the manifest's calibrated threshold).",
)
@click.option("--json", "as_json", is_flag=True, help="Print scores and events as JSON.")
@pcm_options
@threads_option
def score(
    model_path: str,
    source: str,
    threshold: float | None,
    as_json: bool,
    pcm_format: str,
    rate: int | None,
    channels: int | None,
    chunk_ms: float,
    threads: int,
) -> None:
    """Anomaly scores of IN: per item (.npy batch) or per window of a signal, with events.

    A score is the reconstruction error in model space; it is flagged when above
    the threshold. For signals, flagged windows that overlap are merged into
    events with start/end sample indices. Exit code 0 either way: read the
    output (or --json) for the verdict.

    \b
    Examples:
      edgeae-rt score -m model.onnx pump.wav
      edgeae-rt score -m model.onnx parts.npy --json > scores.json
      arecord -f S16_LE -r 16000 | edgeae-rt score -m model.onnx - --threshold 0.02
    """
    model = load_model(model_path, threads)
    items = _items_or_none(source, model)
    if items is not None:
        scorer = AnomalyScorer(model, threshold=threshold)
        scores, flags = scorer.flag(items)
        if as_json:
            echo_json(
                {
                    "threshold": scorer.threshold,
                    "scores": scores.tolist(),
                    "flags": flags.tolist(),
                    "anomalous": int(flags.sum()),
                }
            )
            return
        for i, (s, f) in enumerate(zip(scores.tolist(), flags.tolist(), strict=True)):
            click.echo(f"{i}\t{s:.6g}\t{'ANOMALY' if f else 'ok'}")
        click.echo(
            f"{int(flags.sum())} of {len(scores)} items above threshold {scorer.threshold:.6g}",
            err=True,
        )
        return
    stream = StreamScorer(model, threshold=threshold)
    starts, values, events = [], [], []
    with open_signal(
        source, model, pcm_format=pcm_format, rate=rate, channels=channels, chunk_ms=chunk_ms
    ) as reader:
        for chunk in reader:
            update = stream.push(chunk)
            starts.append(update.starts)
            values.append(update.scores)
            for ev in update.events:
                events.append(ev)
                if not as_json:
                    click.echo(f"event\t{ev.start}\t{ev.end}\tpeak {ev.peak:.6g}")
        if stream.samples_in == 0:
            raise InputError(f"{reader.name}: empty input (no samples)")
        total = stream.samples_in
        update = stream.flush()
    starts.append(update.starts)
    values.append(update.scores)
    for ev in update.events:
        events.append(ev)
        if not as_json:
            click.echo(f"event\t{ev.start}\t{ev.end}\tpeak {ev.peak:.6g}")
    all_scores = np.concatenate(values)
    spec = stream.spec
    if as_json:
        echo_json(
            {
                "threshold": stream.threshold,
                "sample_rate": spec.sample_rate,
                "samples": total,
                "window": spec.window,
                "hop": spec.hop,
                "window_starts": np.concatenate(starts).tolist(),
                "scores": all_scores.tolist(),
                "events": [e.to_dict() for e in events],
            }
        )
        return
    click.echo(
        f"{len(all_scores)} windows, max score {float(all_scores.max()):.6g}, "
        f"{int((all_scores > stream.threshold).sum())} above {stream.threshold:.6g}, "
        f"{len(events)} event(s)",
        err=True,
    )
