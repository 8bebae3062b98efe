"""The libraries never spell a command-line flag: errors name parameters, the CLIs name flags.

Every string in ``edgeae_export`` and ``edgeae_runtime`` (outside the runtime's
command-line modules) is read from the source: none may hold a ``--flag``, and
the exporter does not know ``builtin:`` sources (they belong to ``edgeae.data``).
Docstrings are left out: they may say which command a function serves.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = {
    "edgeae_export": ROOT / "export" / "edgeae_export",
    "edgeae_runtime": ROOT / "runtime" / "edgeae_runtime",
}
CLI_MODULES = {"cli.py", "clitools.py"}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def _library_files(package: str) -> list[Path]:
    base = LIBRARIES[package]
    return sorted(
        p
        for p in base.rglob("*.py")
        if "commands" not in p.relative_to(base).parts and p.name not in CLI_MODULES
    )


def _strings(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in docstrings:
            yield node.lineno, node.value


@pytest.mark.parametrize("package", sorted(LIBRARIES))
def test_no_library_message_names_a_flag(package: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {FLAG.search(text).group(0)}"
        for path in _library_files(package)
        for line, text in _strings(path)
        if FLAG.search(text)
    ]
    assert found == [], "flags in library strings (raise with param=... instead):\n" + "\n".join(
        found
    )


def test_the_exporter_does_not_know_builtin_sources() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _library_files("edgeae_export")
        for line, text in _strings(path)
        if "builtin:" in text
    ]
    assert found == []


def test_the_scan_sees_strings() -> None:
    """The scan is not vacuous: it finds the flag a CLI module does spell."""
    texts = [t for _, t in _strings(LIBRARIES["edgeae_runtime"] / "commands" / "_common.py")]
    assert any(FLAG.search(t) for t in texts)
