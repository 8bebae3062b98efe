"""Model selection within a time budget: ``edgeae train SOURCE --search --search-budget SECONDS``.

Trains a few candidate recipes (architecture, depth, latent size, noise) for the
data's layout, the source's own recipe (or the defaults) first, each with the
same training settings, until the time budget is spent, and keeps the one the
validation metric picks: AUROC on the labelled held-out items when the data has
anomaly labels, else the held-out reconstruction error in raw units (lower is
better, comparable across candidates because every one sees the same split).
The chosen run becomes ``RUN``; the others are deleted. :func:`search` returns
the table it chose from (what the command prints).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeae.data.dataset import Dataset
from edgeae.errors import ConfigError

from .config import TrainConfig
from .trainer import train

__all__ = ["Candidate", "SearchResult", "candidates", "search"]


@dataclass(frozen=True)
class Candidate:
    """One recipe to try: an architecture, its model options and training overrides."""

    arch: str
    model: Mapping[str, Any]
    train: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def label(self) -> str:
        opts = ", ".join(f"{k}={_short(v)}" for k, v in {**self.model, **self.train}.items())
        return f"{self.arch}({opts or 'defaults'})"


def _short(v: Any) -> str:
    return "x".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)


@dataclass
class SearchResult:
    """The table of tried candidates and the chosen one."""

    metric: str  # "auroc" (higher is better) or "val_mse_raw" (lower is better)
    rows: list[dict[str, Any]]
    chosen: int
    seconds: float

    def table(self) -> list[str]:
        """Plain-text rows: candidate, epochs, seconds, metric, chosen mark."""
        lines = [f"{'#':>2}  {'candidate':<58} {'epochs':>6} {'s':>6}  {self.metric}"]
        for i, r in enumerate(self.rows):
            value = "-" if r["value"] is None else f"{r['value']:.5g}"
            mark = "  <- chosen" if i == self.chosen else ""
            lines.append(
                f"{i:>2}  {r['candidate']:<58} {r['epochs']:>6} {r['seconds']:>6.1f}  {value}{mark}"
            )
        return lines


def candidates(layout: str, base: Candidate) -> list[Candidate]:
    """The recipe ``base`` first, then a few alternatives for ``layout`` (NF, NCW, NCHW)."""
    if layout == "NF":
        alts = [
            Candidate("dense", {"hidden": (128,), "latent": 8}),
            Candidate("dense", {"hidden": (128,), "latent": 32}),
            Candidate("dense", {"hidden": (256, 128), "latent": 16}),
            Candidate("dense", {"hidden": (128,), "latent": 16}, {"noise": "gaussian"}),
        ]
    elif layout == "NCW":
        alts = [
            Candidate("conv1d", {"hidden": (32, 64), "latent": 4}),
            Candidate("conv1d", {"hidden": (32, 64, 64), "latent": 2}),
            Candidate(
                "conv1d",
                {"hidden": (32, 64), "latent": 4},
                {"noise": "masking", "noise_level": 0.3},
            ),
        ]
    else:
        alts = [
            Candidate("conv2d", {"hidden": (16, 32), "latent": 4}),
            Candidate("dense2d", {"hidden": (256, 128), "latent": 16}),
            Candidate("conv2d", {"hidden": (16, 32), "latent": 4}, {"noise": "gaussian"}),
        ]
    return [base, *[c for c in alts if c != base]]


def search(
    data: Dataset,
    base: Candidate,
    config: TrainConfig,
    run_dir: str | Path,
    *,
    budget_s: float,
    data_source: str = "",
    force: bool = False,
    say: Any = None,
) -> tuple[Any, SearchResult]:
    """Try candidates until ``budget_s`` seconds are spent; keep the best as ``run_dir``.

    Every candidate gets ``config``'s epochs, capped so that the remaining
    candidates fit the budget at the measured speed of the first one. Returns
    ``(TrainResult of the chosen run, SearchResult)``.
    """
    if not (budget_s > 0 and math.isfinite(budget_s)):
        raise ConfigError(f"budget: must be a positive number of seconds, got {budget_s}")
    say = say or (lambda _m: None)
    final = Path(run_dir)
    if final.exists() and not force:
        raise ConfigError(f"{final}: exists; use --force to replace it")
    work = final.with_name(final.name + ".search")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    todo = candidates(data.layout, base)
    labelled = data.anomaly_labels is not None
    metric = "auroc" if labelled else "val_mse_raw"
    rows: list[dict[str, Any]] = []
    results: list[Any] = []
    start = time.perf_counter()
    per_epoch = None
    for i, cand in enumerate(todo):
        left = budget_s - (time.perf_counter() - start)
        if i > 0 and left <= 0:
            break
        epochs = config.epochs
        if per_epoch is not None:
            share = left / (len(todo) - i)
            epochs = max(1, min(config.epochs, int(share / per_epoch)))
        cfg = dataclasses.replace(config, epochs=epochs, **dict(cand.train))
        t0 = time.perf_counter()
        try:
            result = train(
                data, cand.arch, dict(cand.model), cfg, work / f"c{i}", progress=False,
                data_source=data_source,
            )  # fmt: skip
        except ConfigError as exc:  # a candidate that does not fit this data
            say(f"search: skipped {cand.label()} ({exc})")
            continue
        seconds = time.perf_counter() - t0
        runs = max(result.epochs_run, 1)
        per_epoch = per_epoch or seconds / runs
        m = result.metrics
        value = m.get("anomaly_auroc") if labelled else m.get("val_mse_raw")
        rows.append({"candidate": cand.label(), "epochs": result.epochs_run, "seconds": seconds,
                     "value": value, "run": str(work / f"c{i}")})  # fmt: skip
        results.append(result)
        say(f"search: {cand.label()}: {metric} {value} ({seconds:.1f} s)")
    if not rows:
        raise ConfigError("search: no candidate could be trained on this data")
    # ties go to the earlier candidate (the recipe comes first)
    sign = -1.0 if labelled else 1.0
    scored = [(sign * r["value"], i) for i, r in enumerate(rows) if r["value"] is not None]
    chosen = min(scored)[1] if scored else 0
    if final.exists():
        shutil.rmtree(final)
    shutil.move(rows[chosen]["run"], final)
    shutil.rmtree(work, ignore_errors=True)
    chosen_result = dataclasses.replace(results[chosen], run_dir=final)
    res = SearchResult(metric, rows, chosen, time.perf_counter() - start)
    (final / "search.txt").write_text("\n".join(res.table()) + "\n")
    return chosen_result, res
