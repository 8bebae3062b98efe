"""Report rendering: Markdown and HTML from one document, PNG plots, the comparison table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.report import (
    Code,
    Document,
    Image,
    Paragraph,
    Section,
    Table,
    compare_report,
    comparison_text,
    fmt,
    plots,
    text_table,
    write_comparison_report,
)
from edgeae_export.compare import compare_models
from tests.export.compare_support import labeled_data, quantize_qdq
from tests.export.quantize.models import make_data
from tests.runtime.onnx_models import make_triplet

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("cmp")
    a = make_triplet(d, "qdense", anomaly=True)["autoencoder"]
    x = make_data("dense", 128)
    b = quantize_qdq(a, d / "model.int8.onnx", x)
    xl, labels = labeled_data(x)
    return compare_models(
        a,
        b,
        xl,
        labels=labels,
        max_drop=0.5,
        measure_memory=False,
        batches=(1,),
        latency_budget_s=0.01,
    )


def test_document_renders_markdown_and_html(tmp_path: Path) -> None:
    doc = Document(
        "Title <x>",
        [
            Section(
                "Part",
                [
                    Paragraph("a & b"),
                    Table(("k", "v|w"), (("1", "2"),)),
                    Image("plot.png", "a plot"),
                    Code("$ edgeae demo"),
                ],
            )
        ],
        lead="lead",
    )
    md = doc.to_markdown()
    assert md.startswith("# Title <x>\n") and "## Part" in md
    assert "| k | v\\|w |" in md and "![a plot](plot.png)" in md and "```\n$ edgeae demo\n```" in md
    page = doc.to_html()
    assert "<h1>Title &lt;x&gt;</h1>" in page and "a &amp; b" in page
    assert '<img src="plot.png"' in page and "<td>2</td>" in page
    md_path, html_path = doc.write(tmp_path / "out")
    assert md_path.read_text() == md and html_path.read_text() == page
    assert not [p for p in md_path.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_text_table_aligns_columns() -> None:
    out = text_table(("metric", "A"), [("PSNR", "31.2"), ("size", "12")]).splitlines()
    assert out[0].split() == ["metric", "A"] and set(out[1]) <= {"-", " "}
    assert len({len(line) for line in out}) == 1  # every row padded to the same width
    assert fmt(None) == "-" and fmt(float("inf")) == "inf" and fmt(3) == "3"
    assert fmt(1.23456, 3) == "1.23"


def test_comparison_text_has_every_part(comparison) -> None:  # type: ignore[no-untyped-def]
    text = comparison_text(comparison)
    for word in (
        "PSNR (dB)",
        "AUROC",
        "precision",
        "F1",
        "flags agree",
        "latency p50 b1",
        "size (KiB)",
        "per-node error",
        comparison.nodes[0].name,
    ):
        assert word in text, word
    assert text.splitlines()[-1] == comparison.verdict.line


def test_comparison_report_writes_pngs(comparison, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md, page = write_comparison_report(comparison, tmp_path)
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["errors.png", "examples.png", "nodes.png", "roc.png"]
    for name in pngs:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 2000
    text = md.read_text()
    assert all(f"({name})" in text for name in pngs)
    assert comparison.verdict.line in text and "<table>" in page.read_text()


def test_report_without_matplotlib_says_so(
    comparison,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(plots, "matplotlib_available", lambda: False)
    md, _ = write_comparison_report(comparison, tmp_path)
    assert compare_report.NO_MATPLOTLIB in md.read_text()
    assert not list(tmp_path.glob("*.png"))


def test_signal_and_image_plots(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    sig = rng.standard_normal((2, 1, 64)).astype(np.float32)
    p = plots.examples_plot(
        sig, {"A": sig * 0.9, "B": sig * 0.8}, tmp_path / "s.png", sample_rate=16000
    )
    img = rng.random((3, 1, 8, 8)).astype(np.float32)
    q = plots.examples_plot(img, {"A": img}, tmp_path / "i.png", image_shape=(1, 8, 8))
    r = plots.signal_plot(
        {"noisy": sig[0, 0], "score": np.abs(sig[1, 0])},
        tmp_path / "t.png",
        sample_rate=16000,
        spans=[(10, 20)],
        threshold=0.5,
    )
    for path in (p, q, r):
        assert path.read_bytes().startswith(PNG_MAGIC)
