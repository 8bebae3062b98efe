"""The demo's report: a summary of every stage with its time, then each stage's own section."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .document import Code, Document, Paragraph, Section, Table
from .plots import matplotlib_available

__all__ = ["write_demo_report"]

_NO_PLOTS = "No plots: matplotlib is not installed (pip install 'edgeae[report]')."


def write_demo_report(
    directory: str | Path, result: Any, sections: Sequence[Section], *, quick: bool = False
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``index.html`` for a demo run (``result`` is a DemoResult)."""
    rows = tuple(
        (s.name, f"{s.seconds:.1f}", "-" if s.peak_rss_mb is None else f"{s.peak_rss_mb:.0f}",
         s.summary)
        for s in result.stages
    )  # fmt: skip
    total = sum(s.seconds for s in result.stages)
    head = Section(
        "What ran",
        [
            Paragraph(
                "Every stage of edgeae on built-in data: train, export (parity-checked against "
                "torch), quantize to int8 within a budget, compare float vs int8, stream-denoise "
                "audio, compress a stream, score anomalies."
                + (" Quick mode: tiny data and one epoch, numbers are not meaningful." if quick
                   else "")
            ),
            Table(("stage", "seconds", "peak RSS so far (MB)", "result"), rows),
            Paragraph(
                f"Total {total:.1f} s on {platform.machine()} ({platform.python_version()})."
            ),
            Code(f"edgeae demo --out {result.out_dir}{' --quick' if quick else ''}"),
        ],
    )  # fmt: skip
    if not matplotlib_available():
        head.blocks.append(Paragraph(_NO_PLOTS))
    doc = Document("edgeae demo", [head, *sections], lead=f"Run directory: {result.out_dir}")
    return doc.write(directory)
