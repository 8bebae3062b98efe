"""``edgeae data``: list the built-in datasets and describe any data source.

Only numpy and ``edgeae.data`` are imported here (no torch), so these commands
start fast.
"""

from __future__ import annotations

import json
from typing import Any

import click

from edgeae_runtime.clitools import CommandGroup, json_option

from ._options import data_options

__all__ = ["data"]


@click.group(cls=CommandGroup, lazy={}, context_settings={"help_option_names": ["-h", "--help"]})
def data() -> None:
    """Inspect data sources: built-in datasets, .npy/.npz/.csv/.wav files, PNG folders.

    \b
    Examples:
      edgeae data list
      edgeae data info builtin:sensor
      edgeae data info "builtin:tones?snr=5&seconds=10" --json
      edgeae data info recording.wav --window 512 --hop 256
    """


@data.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """List the built-in datasets (no network needed; selected as builtin:NAME).

    \b
    Example:
      edgeae data list
      edgeae data list --json | jq '.[].source'
    """
    from edgeae.data import list_builtins

    infos = list_builtins()
    if as_json:
        rows = [
            {
                "source": b.source,
                "name": b.name,
                "kind": b.kind,
                "layout": b.layout,
                "items": b.n_items,
                "item_shape": list(b.item_shape),
                "sample_rate": b.sample_rate,
                "window": b.window,
                "hop": b.hop,
                "options": dict(b.options),
                "description": b.description,
            }
            for b in infos
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    header = ("source", "kind", "items", "item shape", "rate", "window/hop")
    table = [
        (
            b.source,
            b.kind,
            str(b.n_items),
            "x".join(str(d) for d in b.item_shape) + f" {b.layout}",
            f"{b.sample_rate} Hz" if b.sample_rate else "-",
            f"{b.window}/{b.hop}" if b.window else "-",
        )
        for b in infos
    ]
    widths = [max(len(r[i]) for r in (header, *table)) for i in range(len(header))]
    for row in (header, *table):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    click.echo("")
    for b in infos:
        click.echo(f"{b.source}: {b.description}")
        if b.options:
            opts = "; ".join(f"{k}: {v}" for k, v in b.options.items())
            click.echo(f"  options ({b.source}?name=value&...): {opts}")


def _fmt_stats(s: dict[str, float]) -> str:
    return f"min {s['min']:.4g}  max {s['max']:.4g}  mean {s['mean']:.4g}  std {s['std']:.4g}"


def _corpus_lines(c: dict[str, Any], val_items: int | None) -> list[tuple[str, str]]:
    """What a speech corpus adds to ``data info``: its files and the held-out split."""
    held = f"{val_items} validation items from held-out files: "
    if c["kind"] == "mix":
        cl, no = c["clean"], c["noise"]
        return [
            ("mixing", f"SNR {c['snr_db'][0]:g}..{c['snr_db'][1]:g} dB, level "
             f"{c['level_db'][0]:g}..{c['level_db'][1]:g} dBFS, seed {c['seed']}, "
             "a fresh mixture every epoch"),
            ("clean", f"{cl['files']} files: {cl['train_files']} train ({cl['train_seconds']} s), "
             f"{len(cl['validation_files'])} held out ({cl['validation_seconds']} s)"),
            ("noise", f"{no['files']} files ({no['seconds']} s): train "
             f"{', '.join(no['train_files'])}; held out {', '.join(no['validation_files'])}"),
            ("validation", held + ", ".join(cl["validation_files"])),
        ]  # fmt: skip
    return [
        ("pairs", f"{c['pairs']} pairs: {c['train_files']} train ({c['train_seconds']} s), "
         f"{len(c['validation_files'])} held out ({c['validation_seconds']} s)"),
        ("validation", held + ", ".join(c["validation_files"])),
    ]  # fmt: skip


def _print_info(info: dict[str, Any]) -> None:
    """The human-readable form of :func:`edgeae.data.summary.describe`."""
    shape = "x".join(str(d) for d in info["item_shape"])
    lines = [
        ("source", info["source"]),
        ("description", info["description"]),
        ("items", f"{info['items']} x ({shape})  {info['dtype']}  layout {info['layout']}"
         + ("  (memory-mapped)" if info["memory_mapped"] else "")),
        ("values", _fmt_stats(info["values"])),
    ]  # fmt: skip
    sig = info["signal"]
    if sig is not None:
        rate = f" at {info['sample_rate']} Hz ({sig['seconds']:.1f} s)" if sig["seconds"] else ""
        lines.append(("signal", f"{sig['channels']} channel(s) x {sig['samples']} samples{rate}"))
        lines.append(("windows", f"window {info['window']}, hop {info['hop']}"))
    if info["target"] is not None:
        lines.append(("target", "clean items, " + _fmt_stats(info["target"]["values"])))
    if info["labels"] is not None:
        counts = ", ".join(f"{r['name']}: {r['count']}" for r in info["labels"])
        lines.append(("labels", counts))
    corpus = info.get("corpus")
    if corpus is not None:
        lines.extend(_corpus_lines(corpus, info.get("validation_items")))
    lines.append(("fingerprint", info["fingerprint"]))
    for key, value in lines:
        if value:
            click.echo(f"{key:<12} {value}")


@data.command("info")
@click.argument("source")
@data_options
@click.option("--layout", type=click.Choice(["NF", "NCW", "NCHW"]), help="Read items as layout.")
@click.option(
    "--limit", type=click.IntRange(1, 10_000_000), help="Keep only the first LIMIT items."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for generated data.")
@json_option
def info_cmd(
    source: str,
    key: str | None,
    window: int | None,
    hop: int | None,
    layout: str | None,
    limit: int | None,
    seed: int,
    as_json: bool,
) -> None:
    """Describe SOURCE: shape, layout, value range, signal framing, labels, fingerprint.

    SOURCE is builtin:NAME (options as builtin:NAME?option=value&...), a .npy,
    .npz, .csv, .wav or image file, a folder of images (PNG; JPEG, WebP, BMP,
    TIFF with edgeae[images]; DIR?crop=64 for crops), or speech for a
    denoiser: mix:clean=DIR&noise=DIR (mixed on the fly), a folder holding
    noisy/ and clean/ (recorded pairs), or builtin:speech (docs/data.md).

    \b
    Examples:
      edgeae data info builtin:digits --layout NF
      edgeae data info "builtin:sensor?seconds=60&channels=2"
      edgeae data info arrays.npz --key train --json
      edgeae data info builtin:speech
      edgeae data info "mix:clean=speech/&noise=noises/&snr=0..15"
      edgeae data info my_pairs/          # holds noisy/ and clean/
    """
    from edgeae.data import load_source
    from edgeae.data.summary import describe

    ds = load_source(source, key=key, window=window, hop=hop, layout=layout, limit=limit, seed=seed)
    info = describe(ds)
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        _print_info(info)
