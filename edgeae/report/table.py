"""Plain-text tables for the terminal: aligned columns, numbers right-aligned."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["fmt", "text_table"]


def fmt(value: float | int | None, digits: int = 4, unit: str = "") -> str:
    """A number for a table cell: ``-`` for missing, ``inf``, or ``digits`` significant digits."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
    if isinstance(value, int):
        return f"{value}{unit}"
    return f"{value:.{digits}g}{unit}"


def _numeric(cell: str) -> bool:
    """True for cells that read as numbers (``1.5e+04``, ``-``, ``12 ms``, ``43%``)."""
    if cell in ("-", "inf", "-inf", "nan"):
        return True
    try:
        float(cell.split(" ")[0].rstrip("%x"))
    except ValueError:
        return False
    return True


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the first column left-aligned, numbers right."""
    cells = [list(header), *(list(r) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        parts = []
        for i, cell in enumerate(row):
            right = i > 0 and (n == 0 or _numeric(cell))
            parts.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
