"""The terminal form of a performance model (``edgeae bench --profile``): top nodes by time,
totals, share of the practical peak, and the small-model line when int8 does not pay."""

from __future__ import annotations

from pathlib import Path

from .table import fmt, text_table

__all__ = ["perf_text"]


def perf_text(pm, *, top: int = 8, label: str | None = None) -> str:  # pm: PerfModel
    """Header line, the ``top`` nodes by time (op, MACs/item, time share, GMAC/s, share of
    the matching peak), the rest summed, then totals and the advice line if any; lines
    start with ``label`` (default: the file name)."""
    peak = pm.peak
    name = label or Path(pm.path).name
    rows = []
    for n in pm.nodes[:top]:
        ref = peak.int8_gmacs if n.int8 else peak.fp32_gmacs
        share = f"{100 * n.gmacs / ref:.0f}%" if n.gmacs is not None and ref > 0 else "-"
        rows.append(
            (
                n.name,
                n.op,
                fmt(n.macs) if n.macs else "-",
                f"{100 * n.time_share:.1f}%",
                fmt(n.gmacs, 3),
                share,
            )
        )
    rest = pm.nodes[top:]
    if rest:
        rows.append(
            (
                f"({len(rest)} more)",
                "",
                fmt(sum(n.macs for n in rest)) if any(n.macs for n in rest) else "-",
                f"{100 * sum(n.time_share for n in rest):.1f}%",
                "",
                "",
            )
        )
    header = ("node", "op run", "MACs/item", "time", "GMAC/s", "of peak")
    ref = peak.int8_gmacs if pm.precision == "int8" else peak.fp32_gmacs
    lines = [
        f"{name}: profile at batch {pm.batch}, {pm.peak.threads} thread(s)",
        text_table(header, rows),
        f"{name}: {pm.macs_per_item / 1e6:.3f} MMACs/item, "
        f"{pm.us_per_item:.2f} µs/item -> {pm.gmacs:.1f} GMAC/s = "
        f"{100 * pm.share_of_peak:.0f}% of the {pm.precision} peak ({ref:.0f} GMAC/s; "
        f"int8 {peak.int8_gmacs:.0f}, fp32 {peak.fp32_gmacs:.0f} GMAC/s, best GEMM of "
        f"{'/'.join(str(s) for s in peak.sizes)}-cubes, same run); "
        f"quantize/dequantize {100 * pm.qdq_share:.0f}%, layout transposes "
        f"{100 * pm.layout_share:.0f}% of node time",
    ]
    if pm.unmapped_macs:
        lines.append(
            f"{name}: {fmt(pm.unmapped_macs)} MACs/item in nodes the profile "
            "does not name (fused away)"
        )
    if pm.advice:
        lines.append(f"{name}: {pm.advice}")
    return "\n".join(lines)
