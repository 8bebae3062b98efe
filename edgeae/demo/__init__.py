"""The end-to-end demo: train, export, quantize, compare, stream, compress, score, report.

:func:`run_demo` runs every stage of the toolkit on the built-in data through
the same library calls the CLI commands make (no subprocesses of the CLI),
prints one line per stage with its time, and writes one report (Markdown, PNG,
index.html) into the run directory. ``quick=True`` shrinks data and epochs so
the whole pipeline runs in seconds (tests use it); the default is the full
demo, measured to stay under three minutes on two cores (benchmarks/bench_demo.py).

One module per step (``train``, ``export``, ``quantize``, ``compare``,
``stream``, ``codec``, ``anomaly``), each returning a typed result from
:mod:`edgeae.demo.results`; :mod:`edgeae.demo.run` calls them in order and
:mod:`edgeae.report.demo_report` builds the report from the results. To add a
step: a module with ``run(...) -> YourStep`` (a dataclass with a ``summary``),
a field on :class:`DemoResult`, one ``stages.run`` line in ``run_demo``, and its
section and summary line in the report.
"""

from .results import DemoResult, StageTime
from .run import peak_rss_mb, run_demo
from .spec import DEMO_MODELS, HELD_OUT_TONES, QUICK_HELD_OUT_TONES, DemoModel

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
