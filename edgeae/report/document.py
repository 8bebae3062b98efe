"""A report as a list of sections made of a few block types, rendered to Markdown and HTML.

One structure, two renderings: ``report.md`` for a repository or a terminal pager
and ``index.html`` that opens in a browser with the plots inline. No Markdown
parser is needed because the blocks are built, not parsed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from edgeae_runtime.atomic import write_text_atomic as _write_text_atomic

__all__ = [
    "Audio",
    "Block",
    "Code",
    "Document",
    "Image",
    "Paragraph",
    "Section",
    "Table",
    "write_text_atomic",
]


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of plain text (rendered as is in Markdown, escaped in HTML)."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table with a header row; cells are already formatted strings."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Image:
    """A PNG file in the report directory (relative path) with its caption."""

    path: str
    caption: str


@dataclass(frozen=True)
class Code:
    """Preformatted text: a command line or program output."""

    text: str


@dataclass(frozen=True)
class Audio:
    """A sound file in the report directory (relative path) with its caption: a player in HTML."""

    path: str
    caption: str


Block = Paragraph | Table | Image | Code | Audio


@dataclass
class Section:
    """A titled part of the report."""

    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    """The whole report: a title, an optional lead paragraph, sections."""

    title: str
    sections: list[Section] = field(default_factory=list)
    lead: str = ""

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown with relative image links."""
        out = [f"# {self.title}", ""]
        if self.lead:
            out += [self.lead, ""]
        for section in self.sections:
            out += [f"## {section.title}", ""]
            for block in section.blocks:
                out += [*_block_md(block), ""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """A self-contained page (inline CSS, images by relative path)."""
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        if self.lead:
            body.append(f"<p>{e(self.lead)}</p>")
        for section in self.sections:
            body.append(f"<h2>{e(section.title)}</h2>")
            body += [_block_html(b) for b in section.blocks]
        return _PAGE.format(title=e(self.title), body="\n".join(body))

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``report.md`` and ``index.html`` into ``directory`` (atomically each)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        md, page = d / "report.md", d / "index.html"
        write_text_atomic(md, self.to_markdown())
        write_text_atomic(page, self.to_html())
        return md, page


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _block_md(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        return [block.text]
    if isinstance(block, Table):
        lines = ["| " + " | ".join(_cell(h) for h in block.header) + " |"]
        lines.append("|" + "|".join("---" for _ in block.header) + "|")
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
        return lines
    if isinstance(block, Image):
        return [f"![{block.caption}]({block.path})", "", f"*{block.caption}*"]
    if isinstance(block, Audio):
        return [f"[{block.caption}]({block.path})"]
    return ["```", block.text.rstrip("\n"), "```"]


def _block_html(block: Block) -> str:
    e = html.escape
    if isinstance(block, Paragraph):
        return f"<p>{e(block.text)}</p>"
    if isinstance(block, Table):
        head = "".join(f"<th>{e(h)}</th>" for h in block.header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if isinstance(block, Image):
        return (
            f'<figure><img src="{e(block.path)}" alt="{e(block.caption)}">'
            f"<figcaption>{e(block.caption)}</figcaption></figure>"
        )
    if isinstance(block, Audio):
        return (
            f'<figure><audio controls preload="none" src="{e(block.path)}"></audio>'
            f"<figcaption>{e(block.caption)}</figcaption></figure>"
        )
    return f"<pre>{e(block.text)}</pre>"


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` atomically (the runtime's one atomic output)."""
    return _write_text_atomic(path, text)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
thead {{ background: #f3f3f3; }}
figure {{ margin: 1em 0; }} img {{ max-width: 100%; }}
figcaption {{ color: #555; font-size: 0.9em; }}
pre {{ background: #f6f6f6; padding: 0.8em; overflow-x: auto; }}
</style></head>
<body>
{body}
</body></html>
"""
