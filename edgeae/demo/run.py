"""``run_demo``: every step in order, one progress line each, then the report from the results."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from edgeae.errors import ConfigError

from . import anomaly, codec, compare, export, quantize, speech, stream, train
from .results import DemoResult, ModelSteps, StageTime, StepResult
from .spec import DEMO_MODELS, DemoRun, Say

__all__ = ["peak_rss_mb", "run_demo"]

R = TypeVar("R", bound=StepResult)


def peak_rss_mb() -> float | None:
    """This process's peak resident memory so far (Linux VmHWM), None where unknown."""
    try:
        with open("/proc/self/status") as fh:
            line = next(ln for ln in fh if ln.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 1024.0


class _Stages:
    """Times stages and prints one line per stage: ``[ 3/14]  12.3 s  export sensor: ...``."""

    def __init__(self, total: int, say: Say) -> None:
        self.total, self.say = total, say
        self.done: list[StageTime] = []

    def run(self, name: str, step: Callable[[], R]) -> R:
        self.say(f"[{len(self.done) + 1:2d}/{self.total}] {name} ...")
        t0 = time.perf_counter()
        result = step()
        st = StageTime(name, time.perf_counter() - t0, result.summary, peak_rss_mb())
        self.done.append(st)
        rss = f"  [{st.peak_rss_mb:.0f} MB]" if st.peak_rss_mb is not None else ""
        head = f"[{len(self.done):2d}/{self.total}] {st.seconds:6.1f} s  {name}"
        self.say(f"{head}: {st.summary}{rss}")
        return result


class _Written:
    """The report stage's result: where the report went."""

    def __init__(self, md: Path, page: Path) -> None:
        self.summary = f"{md} and {page.name}"


def _prepare_out(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise ConfigError(f"{out_dir}: already exists and is not empty; pass --force or --out")
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
    """Run the whole toolkit on built-in data into ``out_dir`` and write its report there.

    Per model: train, export, quantize, compare; then the signal steps that need
    a model (stream-denoise with tones, codec and anomaly scoring with sensor);
    last the report, built from the typed results.
    """
    from edgeae.report.demo_report import write_demo_report

    chosen = [m for m in DEMO_MODELS if m.name in models]
    if not chosen:
        known = ", ".join(m.name for m in DEMO_MODELS)
        raise ConfigError(f"demo: no known model among {models}; choose from {known}")
    out = Path(out_dir)
    _prepare_out(out, force)
    demo = DemoRun(out=out, quick=quick, say=progress or (lambda _m: None))
    names = {m.name for m in chosen}
    extra = int("tones" in names) + 2 * int("sensor" in names) + 2
    stages = _Stages(4 * len(chosen) + extra, demo.say)
    result = DemoResult(out, out / "report" / "report.md", out / "report" / "index.html", quick)

    for spec in chosen:
        t = stages.run(f"train {spec.name}", lambda s=spec: train.run(s, demo))
        e = stages.run(f"export {spec.name}", lambda t=t: export.run(t, demo))
        q = stages.run(f"quantize {spec.name}", lambda t=t, e=e: quantize.run(t, e, demo))
        c = stages.run(f"compare {spec.name}", lambda t=t, e=e, q=q: compare.run(t, e, q, demo))
        result.models.append(ModelSteps(spec, t, e, q, c))
    by_name = {m.spec.name: m for m in result.models}
    if "tones" in by_name:
        tones = by_name["tones"]
        result.stream = stages.run("stream-denoise tones", lambda: stream.run(tones.quantize, demo))
    result.speech = stages.run("denoise real speech (pretrained)", lambda: speech.run(demo))
    if "sensor" in by_name:
        sensor = by_name["sensor"]
        result.codec = stages.run("compress sensor stream", lambda: codec.run(sensor.train, demo))
        result.anomaly = stages.run(
            "score sensor anomalies", lambda: anomaly.run(sensor.train, sensor.quantize, demo)
        )

    def report() -> _Written:
        result.stages = list(stages.done)
        return _Written(*write_demo_report(demo.report_dir, result))

    stages.run("write report", report)
    result.stages = list(stages.done)
    return result
