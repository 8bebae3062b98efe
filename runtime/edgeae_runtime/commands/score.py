"""``edgeae-rt score``: anomaly scores per item or per signal window, and events."""

from __future__ import annotations

import click
import numpy as np

from ..anomaly import AnomalyEvent, AnomalyScorer, ClipScorer, ScoreUpdate, StreamScorer
from ..clitools import BoundedFloat, Command
from ..errors import InputError
from ._common import (
    echo_json,
    json_option,
    load_model,
    model_option,
    open_signal,
    pcm_options,
    threads_option,
)
from .encode import _items_or_none

__all__ = ["score"]


def _collect(
    update: ScoreUpdate,
    starts: list[np.ndarray],
    values: list[np.ndarray],
    events: list[AnomalyEvent],
    as_json: bool,
) -> None:
    """Keep one update's results; in text mode print them at once (a pipe sees them live)."""
    starts.append(update.starts)
    values.append(update.scores)
    events.extend(update.events)
    if as_json:
        return
    shares = update.channels
    for i, (start, value, flag) in enumerate(
        zip(update.starts.tolist(), update.scores.tolist(), update.flags.tolist(), strict=True)
    ):
        line = f"{start}\t{value:.6g}\t{'ANOMALY' if flag else 'ok'}"
        if flag and shares is not None:  # which channel (sensor) carries the error
            top = int(np.argmax(shares[i]))
            line += f"\tchannel {top} ({100 * float(shares[i, top]):.0f} %)"
        click.echo(line)
    for ev in update.events:
        click.echo(f"event\t{ev.start}\t{ev.end}\tpeak {ev.peak:.6g}")


@click.command("score", cls=Command)
@model_option()
@click.argument("source", metavar="IN")
@click.option(
    "--threshold",
    type=BoundedFloat(None, None),
    default=None,
    help="Flag scores above this (default: the manifest's calibrated threshold).",
)
@click.option(
    "--channel",
    type=click.IntRange(0, 63),
    default=0,
    show_default=True,
    help="Log-mel models: the channel of a multichannel input to score (training's "
    "logmel:DIR?channel=, 0 by default).",
)
@json_option
@pcm_options
@threads_option()
def score(
    model_path: str,
    source: str,
    threshold: float | None,
    channel: int,
    as_json: bool,
    pcm_format: str,
    rate: int | None,
    channels: int | None,
    chunk_ms: float,
    threads: int,
) -> None:
    """Anomaly scores of IN: per item (.npy batch), per window of a signal or of a CSV
    sensor log, with events.

    A score is the reconstruction error in model space under the manifest's score
    law (anomaly.tails "upper": the error; "both": its log distance from the normal
    median, so a window reconstructed far too well is flagged too); it is flagged
    when above the threshold. Text output: one line per item (index, score, verdict) or per
    window (first sample, score, verdict), printed as windows complete; for
    signals, flagged windows that overlap are merged into "event START END" lines.
    Exit code 0 either way: read the output (or --json) for the verdict.

    \b
    Examples:
      edgeae-rt score -m model.onnx pump.wav
      edgeae-rt score -m model.onnx parts.npy --json > scores.json
      arecord -f S16_LE -r 16000 | edgeae-rt score -m model.onnx - --threshold 0.02
      arecord -f S16_LE -r 16000 | edgeae-rt score -m machine.onnx -   # a log-mel model
      edgeae-rt score -m plant.onnx plant.csv          # a sensorlog: model, on its CSV log

    A model trained on a sensor log (manifest.sensorlog) takes the CSV log itself:
    resampled and cut as in training, windows with a missing value masked (counted,
    never scored), one line per window (its time, score, verdict, the sensor that
    carries a flagged window's error), then events.

    A log-mel model (manifest.features, trained on a logmel: source) takes audio:
    one line per stacked log-mel item (first sample, score, verdict) as it
    completes, events, and at the end the clip score (mean or max of the items).
    """
    model = load_model(model_path, threads)
    if source.lower().endswith(".csv") and model.manifest.sensorlog is not None:
        _score_log(model, source, threshold, as_json)
        return
    items = _items_or_none(source, model)
    if items is not None:
        scorer = AnomalyScorer(model, threshold=threshold)
        scores, flags = scorer.flag(items)
        if as_json:
            echo_json(
                {
                    "threshold": scorer.threshold,
                    "tails": model.anomaly_spec.tails,
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
    if model.manifest.features is not None:
        _score_audio(
            model, source, threshold, as_json, pcm_format, rate, channels, channel, chunk_ms
        )
        return
    multi = model.require_signal().channels > 1
    stream = StreamScorer(model, threshold=threshold, per_channel=multi)
    starts, values, events = [], [], []
    shares: list[np.ndarray] = []
    with open_signal(
        source, model, pcm_format=pcm_format, rate=rate, channels=channels, chunk_ms=chunk_ms
    ) as reader:
        for chunk in reader:
            update = stream.push(chunk)
            _collect(update, starts, values, events, as_json)
            if update.channels is not None:
                shares.append(update.channels)
        if stream.samples_in == 0:
            raise InputError(f"{reader.name}: empty input (no samples)")
        total = stream.samples_in
        update = stream.flush()
        _collect(update, starts, values, events, as_json)
        if update.channels is not None:
            shares.append(update.channels)
    all_scores = np.concatenate(values)
    spec = stream.spec
    if as_json:
        echo_json(
            {
                "threshold": stream.threshold,
                "tails": model.anomaly_spec.tails,
                "sample_rate": spec.sample_rate,
                "samples": total,
                "window": spec.window,
                "hop": spec.hop,
                "window_starts": np.concatenate(starts).tolist(),
                "scores": all_scores.tolist(),
                "events": [e.to_dict() for e in events],
                **({"channel_share": np.concatenate(shares).round(4).tolist()} if shares else {}),
            }
        )
        return
    click.echo(
        f"{len(all_scores)} windows, max score {float(all_scores.max()):.6g}, "
        f"{int((all_scores > stream.threshold).sum())} above {stream.threshold:.6g}, "
        f"{len(events)} event(s)",
        err=True,
    )


def _score_log(model, source: str, threshold: float | None, as_json: bool) -> None:
    """Score a CSV sensor log: one line per complete window (its time), events, masked gaps."""
    from ..anomaly import LogScorer
    from ..sensorlog import time_text

    scorer = LogScorer(model, threshold=threshold)
    update, log = scorer.score(source)
    names = model.manifest.sensorlog.columns
    last = log.grid.size - 1

    def when(i: int) -> str:
        return time_text(float(log.grid[min(i, last)]), log.dates)

    if as_json:
        echo_json(
            {
                "threshold": scorer.threshold,
                "columns": list(names),
                "window_times": [when(i) for i in update.starts.tolist()],
                "scores": update.scores.tolist(),
                "flags": update.flags.tolist(),
                "channel_share": update.channels.round(4).tolist(),
                "masked_window_times": [when(i) for i in log.starts[~log.complete].tolist()],
                "events": [
                    {**e.to_dict(), "start_time": when(e.start), "end_time": when(e.end - 1)}
                    for e in update.events
                ],
            }
        )
        return
    rows = zip(update.starts.tolist(), update.scores.tolist(), update.flags.tolist(),
               update.channels, strict=True)  # fmt: skip
    for start, value, flag, share in rows:
        line = f"{when(start)}\t{value:.6g}\t{'ANOMALY' if flag else 'ok'}"
        if flag:  # which sensor carries the error
            top = int(np.argmax(share))
            line += f"\t{names[top]} ({100 * float(share[top]):.0f} %)"
        click.echo(line)
    for ev in update.events:
        click.echo(f"event\t{when(ev.start)}\t{when(ev.end - 1)}\tpeak {ev.peak:.6g}")
    click.echo(
        f"{update.scores.size} windows scored, {int((~log.complete).sum())} masked for missing "
        f"values, {int(update.flags.sum())} flagged, {len(update.events)} event(s) above "
        f"{scorer.threshold:.6g}",
        err=True,
    )


def _score_audio(
    model, source: str, threshold: float | None, as_json: bool, pcm_format: str,
    rate: int | None, channels: int | None, channel: int, chunk_ms: float,
) -> None:  # fmt: skip
    """Score audio with a log-mel model, live: items, events, then the clip score.

    A multichannel input is scored on its ``channel`` (as training reads clips)."""
    import sys

    from ..audio import is_headerless, open_reader
    from ..errors import ParameterError

    f = model.manifest.features
    if rate is not None and rate != f.sample_rate:
        raise ParameterError(
            f"{rate} Hz does not match the model's {f.sample_rate} Hz; resample the input first",
            param="rate",
        )
    scorer = ClipScorer(model, threshold=threshold)
    starts, values, events = [], [], []
    chunk = max(1, round(chunk_ms * f.sample_rate / 1000.0))
    with open_reader(
        source, pcm_format=pcm_format, sample_rate=f.sample_rate,
        channels=(channels or 1) if is_headerless(source) else channels,
        chunk_frames=chunk, stdin=sys.stdin.buffer,
    ) as reader:  # fmt: skip
        if reader.sample_rate is not None and reader.sample_rate != f.sample_rate:
            raise InputError(
                f"{reader.name}: {reader.sample_rate} Hz, the model takes {f.sample_rate} Hz; "
                "resample the input first"
            )
        if channel >= reader.channels:
            raise ParameterError(
                f"{reader.name} has {reader.channels} channel(s), no channel {channel}",
                param="channel",
            )
        for part in reader:
            _collect(scorer.push(part[channel : channel + 1]), starts, values, events, as_json)
        if scorer.samples_in == 0:
            raise InputError(f"{reader.name}: empty input (no samples)")
        total = scorer.samples_in
        _collect(scorer.flush(), starts, values, events, as_json)
    all_scores = np.concatenate(values)
    if all_scores.size == 0:
        raise InputError(f"{source}: too short for one log-mel item ({scorer.span} samples)")
    clip = scorer.clip_score
    if as_json:
        echo_json(
            {
                "threshold": scorer.threshold,
                "sample_rate": f.sample_rate,
                "samples": total,
                "item_starts": np.concatenate(starts).tolist(),
                "scores": all_scores.tolist(),
                "clip_score": clip,
                "clip_reduce": f.reduce,
                "clip_threshold": scorer.clip_threshold,
                "clip_anomalous": bool(clip > scorer.clip_threshold),
                "events": [e.to_dict() for e in events],
            }
        )
        return
    click.echo(
        f"clip score {clip:.6g} ({f.reduce} of {all_scores.size} items): "
        f"{'ANOMALY' if clip > scorer.clip_threshold else 'ok'} at clip threshold "
        f"{scorer.clip_threshold:.6g}; "
        f"{len(events)} event(s)",
        err=True,
    )
