"""Host-side rendering of results: terminal tables, Markdown + HTML reports, PNG plots."""

from .compare_report import (
    comparison_rows,
    comparison_sections,
    comparison_text,
    write_comparison_report,
)
from .document import Code, Document, Image, Paragraph, Section, Table, write_text_atomic
from .plots import matplotlib_available
from .table import fmt, text_table

__all__ = [
    "Code",
    "Document",
    "Image",
    "Paragraph",
    "Section",
    "Table",
    "comparison_rows",
    "comparison_sections",
    "comparison_text",
    "fmt",
    "matplotlib_available",
    "text_table",
    "write_comparison_report",
    "write_text_atomic",
]
