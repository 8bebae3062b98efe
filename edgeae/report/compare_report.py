"""Render a :class:`~edgeae_export.compare.Comparison`: a terminal table, report sections, plots.

The same rows feed the terminal table and the Markdown/HTML report, so the two
never disagree; plots are added when matplotlib is installed, and the report
says so when it is not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeae_export.compare import Comparison, Details, ModelStats
from edgeae_runtime import metrics

from . import plots
from .document import Code, Document, Image, Paragraph, Section, Table
from .table import fmt, text_table

__all__ = [
    "comparison_rows",
    "comparison_sections",
    "comparison_text",
    "write_comparison_report",
]

NO_MATPLOTLIB = "No plots: matplotlib is not installed (pip install 'edgeae[report]')."
TOP_NODES = 10


def _delta(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "-"
    d = b - a
    return fmt(d) if np.isfinite(d) else "-"


def _row(name: str, a: float | None, b: float | None, digits: int = 4) -> tuple[str, ...]:
    return (name, fmt(a, digits), fmt(b, digits), _delta(a, b))


def comparison_rows(c: Comparison) -> list[tuple[str, ...]]:
    """``(metric, A, B, B-A)`` rows for every number measured on both models."""
    a, b = c.a, c.b
    rows = [
        ("quantization", a.quantization, b.quantization, ""),
        _row("MSE", a.quality.mse, b.quality.mse),
        _row("MAE", a.quality.mae, b.quality.mae),
        _row("PSNR (dB)", a.quality.psnr, b.quality.psnr),
    ]
    if a.quality.snr_db is not None:
        rows.append(_row("SNR (dB)", a.quality.snr_db, b.quality.snr_db))
    if a.quality.ssim is not None:
        rows.append(_row("SSIM", a.quality.ssim, b.quality.ssim))
    if a.anomaly is not None and b.anomaly is not None:
        rows += [
            _row("AUROC", a.anomaly.auroc, b.anomaly.auroc),
            _row("pAUC (FPR<=0.1)", a.anomaly.pauc, b.anomaly.pauc),
            ("operating point", a.anomaly.operating_point or a.anomaly.threshold_source,
             b.anomaly.operating_point or b.anomaly.threshold_source, ""),
            _row("threshold", a.anomaly.threshold, b.anomaly.threshold),
            _row("TPR", a.anomaly.tpr, b.anomaly.tpr),
            _row("FPR", a.anomaly.fpr, b.anomaly.fpr),
            _row("precision", a.anomaly.precision, b.anomaly.precision),
            _row("recall", a.anomaly.recall, b.anomaly.recall),
            _row("F1", a.anomaly.f1, b.anomaly.f1),
            _row("flagged items", a.anomaly.flagged, b.anomaly.flagged),
        ]  # fmt: skip
        ca, cb = a.anomaly.clip, b.anomaly.clip
        if ca is not None and cb is not None:
            what = f"{ca.clips} clips, {ca.anomalous} anomalous, {ca.reduce} of items"
            rows += [
                _row(f"clip AUROC ({what})", ca.auroc, cb.auroc),
                _row("clip pAUC (FPR<=0.1)", ca.pauc, cb.pauc),
                ("clip threshold from", ca.threshold_source, cb.threshold_source, ""),
                _row("clip threshold", ca.threshold, cb.threshold),
                _row("clip TPR", ca.tpr, cb.tpr),
                _row("clip FPR", ca.fpr, cb.fpr),
            ]
    if a.codec is not None or b.codec is not None:
        ca, cb = a.codec, b.codec
        if (ca or cb).bytes_per_second is not None:  # type: ignore[union-attr]
            rows.append(
                _row("codec bytes/s", ca and ca.bytes_per_second, cb and cb.bytes_per_second)
            )
            rows.append(_row("codec SNR (dB)", ca and ca.snr_db, cb and cb.snr_db))
        else:
            rows.append(
                _row("codec bytes/item", ca and ca.bytes_per_item, cb and cb.bytes_per_item)
            )
            rows.append(_row("codec PSNR (dB)", ca and ca.psnr, cb and cb.psnr))
    rows.append(_row("size (KiB)", a.size_bytes / 1024, b.size_bytes / 1024))
    for la, lb in zip(a.latency, b.latency, strict=True):
        rows.append(_row(f"latency p50 b{la.batch} (µs)", la.median_us, lb.median_us))
        rows.append(_row(f"latency p99 b{la.batch} (µs)", la.p99_us, lb.p99_us))
    if a.peak_rss_mb is not None:
        rows.append(_row("peak RSS (MB)", a.peak_rss_mb, b.peak_rss_mb))
        rows.append(_row("import+load+run (s)", a.load_s, b.load_s))
    return rows


def _agreement(c: Comparison) -> str:
    d = c.output_difference
    text = f"A vs B outputs: MSE {fmt(d.mse)}, max-range PSNR {fmt(d.psnr)} dB"
    if d.snr_db is not None:
        text += f", SNR {fmt(d.snr_db)} dB"
    if c.flags_agree is not None:
        text += f"; anomaly flags agree on {c.flags_agree}/{c.items} items"
    return text


def _node_rows(c: Comparison, top: int = TOP_NODES) -> list[tuple[str, ...]]:
    return [
        (str(i + 1), n.name, n.op_type, f"{n.sqnr_db:.2f}", f"{n.harm_db:.2f}")
        for i, n in enumerate(c.nodes[:top])
    ]


_NODE_HEADER = ("#", "node", "op", "SQNR (dB)", "SQNR lost in node (dB)")


def _title(c: Comparison) -> str:
    return (
        f"A = {Path(c.a.path).name}, B = {Path(c.b.path).name}, "
        f"data {c.data} ({c.items} items, task {c.task})"
    )


_RD_HEADER = ("codec", "bits/value", "bytes/item", "bytes/s", "PSNR (dB)", "SNR (dB)", "SSIM")


def _rd_rows(c: Comparison) -> list[tuple[str, ...]]:
    return [
        (p.label, fmt(p.bits_per_value), fmt(p.bytes_per_item), fmt(p.bytes_per_second),
         fmt(p.psnr), fmt(p.snr_db), fmt(p.ssim))
        for p in c.rd_curve
    ]  # fmt: skip


def comparison_text(c: Comparison) -> str:
    """The terminal form: a header line, the metric table, worst nodes, notes, the verdict."""
    parts = [_title(c), "", text_table(("metric", "A", "B", "B-A"), comparison_rows(c)), ""]
    parts.append(_agreement(c))
    if c.nodes:
        parts += ["", "per-node error, most harmful first:"]
        parts.append(text_table(_NODE_HEADER, _node_rows(c)))
    if c.rd_curve:
        parts += ["", "rate-distortion curve (quality ladder):"]
        parts.append(text_table(_RD_HEADER, _rd_rows(c)))
    parts += [f"note: {n}" for n in c.notes]
    parts += ["", c.verdict.line]
    return "\n".join(parts)


def _model_names(c: Comparison) -> tuple[str, str]:
    return f"A {Path(c.a.path).name}", f"B {Path(c.b.path).name}"


def comparison_sections(
    c: Comparison, directory: str | Path, *, prefix: str = "", title: str | None = None
) -> list[Section]:
    """Report sections for one comparison; PNGs named ``{prefix}*.png`` go into ``directory``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    head = title or "Comparison"
    summary = Section(
        head,
        [
            Paragraph(_title(c) + "."),
            Table(("metric", "A", "B", "B-A"), tuple(comparison_rows(c))),
            Paragraph(_agreement(c) + "."),
            Code(c.verdict.line),
        ],
    )
    summary.blocks += [Paragraph(f"Note: {n}") for n in c.notes]
    sections = [summary]
    if c.nodes:
        sections.append(
            Section(
                f"{head}: per-node error",
                [
                    Paragraph(
                        "SQNR of each quantized activation against the float model; a node's "
                        "harm is the SQNR it loses between its inputs and its output."
                    ),
                    Table(_NODE_HEADER, tuple(_node_rows(c))),
                ],
            )
        )
    if c.rd_curve:
        sections.append(
            Section(
                f"{head}: rate-distortion curve",
                [
                    Paragraph(
                        "Every codec of the quality ladder on the same data: bits per input "
                        "value (pixel, sample or feature) against the quality after decoding."
                    ),
                    Table(_RD_HEADER, tuple(_rd_rows(c))),
                ],
            )
        )
    figures = Section(f"{head}: plots")
    if not plots.matplotlib_available():
        figures.blocks.append(Paragraph(NO_MATPLOTLIB))
    elif c.details is not None:
        figures.blocks += _plots(c, c.details, d, prefix)
    if figures.blocks:
        sections.append(figures)
    return sections


def _plots(c: Comparison, det: Details, d: Path, prefix: str) -> list[Image]:
    name_a, name_b = _model_names(c)
    out = []
    p = plots.error_histograms(
        {name_a: det.error_a, name_b: det.error_b}, d / f"{prefix}errors.png"
    )
    out.append(Image(p.name, "Per-item reconstruction error of both models"))
    rows = {name_a: det.example_a, name_b: det.example_b}
    if not np.array_equal(det.example_reference, det.example_inputs):
        rows = {"clean": det.example_reference, **rows}
    titles = None
    if det.example_labels is not None:
        titles = [f"anomaly (label {int(v)})" if v > 0 else "normal" for v in det.example_labels]
    p = plots.examples_plot(
        det.example_inputs,
        rows,
        d / f"{prefix}examples.png",
        image_shape=det.image_shape,
        titles=titles,
    )
    out.append(Image(p.name, "Example inputs with both reconstructions"))
    if c.rd_curve:
        out.append(_rd_image(c, d, prefix))
    if c.nodes:
        bars = [(n.name, n.op_type, n.harm_db) for n in c.nodes]
        p = plots.sqnr_bars(bars, d / f"{prefix}nodes.png")
        out.append(Image(p.name, "SQNR lost per node, most harmful first"))
    if det.labels is not None and det.scores_a is not None and det.scores_b is not None:
        curves = {}
        for name, scores, stats in ((name_a, det.scores_a, c.a), (name_b, det.scores_b, c.b)):
            fpr, tpr = metrics.roc_curve(scores, det.labels)
            curves[name] = (fpr, tpr, _auroc(stats))
        p = plots.roc_plot(curves, d / f"{prefix}roc.png")
        out.append(Image(p.name, "ROC curves of both models' anomaly scores"))
    return out


def _rd_image(c: Comparison, d: Path, prefix: str) -> Image:
    """The ladder's curve, float and int8 codecs as separate lines."""
    signal = c.rd_curve[0].snr_db is not None
    curves: dict[str, list[tuple[float, float]]] = {}
    for p in c.rd_curve:
        quality = p.snr_db if signal else p.psnr
        if p.bits_per_value is None or quality is None:
            continue
        kind = "int8" if "int8" in p.label else "float"
        curves.setdefault(f"edgeae {kind}", []).append((p.bits_per_value, quality))
    path = plots.rd_plot(
        curves,
        d / f"{prefix}rd.png",
        x_label="bits per sample" if signal else "bits per value",
        y_label="SNR (dB)" if signal else "PSNR (dB)",
    )
    return Image(path.name, "Rate-distortion curve of the quality ladder")


def _auroc(stats: ModelStats) -> float:
    return stats.anomaly.auroc if stats.anomaly is not None else float("nan")


def write_comparison_report(c: Comparison, directory: str | Path) -> tuple[Path, Path]:
    """Write ``report.md``, ``index.html`` and the PNGs of one comparison into ``directory``."""
    doc = Document("edgeae compare", comparison_sections(c, directory), lead=c.verdict.line)
    return doc.write(directory)
