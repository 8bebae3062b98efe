"""The end-to-end demo: train, export, quantize, compare, stream, compress, score, report.

:func:`run_demo` runs every stage of the toolkit on the built-in data through
the same library calls the CLI commands make (no subprocesses of the CLI),
prints one line per stage with its time, and writes one report (Markdown, PNG,
index.html) into the run directory. ``quick=True`` shrinks data and epochs so
the whole pipeline runs in seconds (tests use it); the default is the full
demo, measured to stay under three minutes on two cores (benchmarks/bench_demo.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeae.errors import ConfigError

__all__ = [
    "DEMO_MODELS",
    "HELD_OUT_TONES",
    "QUICK_HELD_OUT_TONES",
    "DemoModel",
    "DemoResult",
    "StageTime",
    "peak_rss_mb",
    "run_demo",
]

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoModel:
    """One model of the demo: its data, its schedule, and the quantization budget.

    It trains exactly the built-in's recipe (:mod:`edgeae.train.recipes`, what
    ``edgeae train builtin:NAME`` trains: architecture, model options, training
    settings); the only change is ``epochs``, a shorter schedule where the
    recipe's would not fit the demo's 3-minute budget (None: the recipe's own).
    """

    name: str
    source: str
    quick_source: str
    epochs: int | None
    metric: str
    max_drop: float
    quick_limit: int | None = None
    role: str = ""
    codec: bool = False


#: The demo's models. Epochs vs the recipe: sensor 20 of 60, digits 60 of 150, tones all 25.
#: Budgets are issue 3's targets: 0.005 AUROC, 0.3 dB PSNR.
DEMO_MODELS = (
    DemoModel("sensor", "builtin:sensor", "builtin:sensor?seconds=40", 20, "auroc", 0.005,
              role="anomaly detection and compression of 3-axis vibration (conv1d)",
              codec=True),
    DemoModel("tones", "builtin:tones", "builtin:tones?seconds=2", None, "psnr", 0.3,
              role="denoising 16 kHz audio (conv1d)"),
    DemoModel("digits", "builtin:digits", "builtin:digits", 60, "psnr", 0.3,
              quick_limit=256, role="8x8 handwritten digits (dense2d)"),
)  # fmt: skip

#: The recording the streaming stage denoises: same generator, another seed, never trained on.
HELD_OUT_TONES = "builtin:tones?seed=101"
QUICK_HELD_OUT_TONES = "builtin:tones?seconds=2&seed=101"


@dataclass(frozen=True)
class StageTime:
    """One stage of the demo, how long it took, and the process's peak RSS after it (MB)."""

    name: str
    seconds: float
    summary: str
    peak_rss_mb: float | None = None


def peak_rss_mb() -> float | None:
    """This process's peak resident memory so far (Linux VmHWM), None where unknown."""
    try:
        with open("/proc/self/status") as fh:
            line = next(ln for ln in fh if ln.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 1024.0


@dataclass
class DemoResult:
    """Where everything went and the headline numbers, per stage."""

    out_dir: Path
    report_md: Path
    report_html: Path
    stages: list[StageTime] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Total wall time of all stages."""
        return sum(s.seconds for s in self.stages)


class _Stages:
    """Times stages and prints one line per stage: ``[ 3/14]  12.3 s  export sensor: ...``."""

    def __init__(self, total: int, say: Say) -> None:
        self.total, self.say, self.done = total, say, []  # type: list[StageTime]

    def run(self, name: str, fn: Callable[[], tuple[Any, str]]) -> Any:
        self.say(f"[{len(self.done) + 1:2d}/{self.total}] {name} ...")
        t0 = time.perf_counter()
        value, summary = fn()
        st = StageTime(name, time.perf_counter() - t0, summary, peak_rss_mb())
        self.done.append(st)
        rss = f"  [{st.peak_rss_mb:.0f} MB]" if st.peak_rss_mb is not None else ""
        self.say(f"[{len(self.done):2d}/{self.total}] {st.seconds:6.1f} s  {name}: {summary}{rss}")
        return value


def _prepare_out(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise ConfigError(f"{out_dir}: already exists and is not empty; pass --force or --out")
        import shutil

        for sub in ("runs", "models", "report"):
            shutil.rmtree(out_dir / sub, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def run_demo(
    out_dir: str | Path,
    *,
    quick: bool = False,
    force: bool = False,
    models: tuple[str, ...] = ("sensor", "tones", "digits"),
    progress: Say | None = None,
) -> DemoResult:
    """Run the whole toolkit on built-in data into ``out_dir`` and write its report there."""
    from edgeae.report.demo_report import write_demo_report

    from . import demo_steps as steps

    say = progress or (lambda _m: None)
    chosen = [m for m in DEMO_MODELS if m.name in models]
    if not chosen:
        known = ", ".join(m.name for m in DEMO_MODELS)
        raise ConfigError(f"demo: no known model among {models}; choose from {known}")
    out = Path(out_dir)
    _prepare_out(out, force)
    per_model = 4
    extra = int("tones" in models) + int("sensor" in models) * 2 + 1
    stages = _Stages(per_model * len(chosen) + extra, say)
    context: dict[str, Any] = {"quick": quick, "out": out, "sections": [], "numbers": {}}

    for spec in chosen:
        run = stages.run(f"train {spec.name}", lambda s=spec: steps.train(s, context, say))
        files = stages.run(f"export {spec.name}", lambda s=spec, r=run: steps.export(s, r, out))
        qpath = stages.run(
            f"quantize {spec.name}", lambda s=spec, f=files: steps.quantize(s, f, context, say)
        )
        stages.run(
            f"compare {spec.name}", lambda s=spec, f=files, q=qpath: steps.compare(s, f, q, context)
        )
    if "tones" in models:
        stages.run("stream-denoise tones", lambda: steps.stream_denoise(context))
    if "sensor" in models:
        stages.run("compress sensor stream", lambda: steps.codec_round_trip(context))
        stages.run("score sensor anomalies", lambda: steps.score_anomalies(context))
    result = DemoResult(out, out / "report" / "report.md", out / "report" / "index.html")

    def report() -> tuple[Any, str]:
        result.stages = list(stages.done)
        md, page = write_demo_report(out / "report", result, context["sections"], quick=quick)
        return None, f"{md} and {page.name}"

    stages.run("write report", report)
    result.stages = list(stages.done)
    result.numbers = context["numbers"]
    return result


def spread(n: int, k: int) -> np.ndarray:
    """``k`` indices spread evenly over ``range(n)`` (all of them when ``n <= k``)."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))
