"""pytest arguments that leave out the runtime tests needing the host packages (edgeae, torch).

The arm64 rootfs holds only the runtime and its test tools (numpy, onnxruntime, click, onnx,
pytest, hypothesis). A test module that imports ``edgeae``/``edgeae_export``/``torch`` at the
top is ignored whole; a test function that imports one inside is deselected alone. Prints one
argument per line (``--ignore=PATH`` / ``--deselect=NODEID``) and, on stderr, what and why.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

HOST = {"edgeae", "edgeae_export", "torch"}


def _host_import(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] in HOST for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module or "").split(".")[0] in HOST
    return False


def host_only(path: Path) -> tuple[bool, list[str]]:
    """(module needs the host at import, names of test functions that import it inside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if any(_host_import(n) for n in tree.body):
        return True, []
    tests: list[str] = []
    for node in tree.body:
        scopes = [(node.name, node)] if isinstance(node, ast.FunctionDef) else []
        if isinstance(node, ast.ClassDef):
            scopes = [
                (f"{node.name}::{f.name}", f) for f in node.body if isinstance(f, ast.FunctionDef)
            ]
        for name, fn in scopes:
            if fn.name.startswith("test") and any(_host_import(n) for n in ast.walk(fn)):
                tests.append(name)
    return False, tests


def main(roots: list[str]) -> int:
    for root in roots:
        for path in sorted(Path(root).rglob("test_*.py")):
            whole, tests = host_only(path)
            if whole:
                print(f"--ignore={path}")
                print(f"host-only (imports edgeae/torch): {path}", file=sys.stderr)
            for t in tests:
                print(f"--deselect={path}::{t}")
                print(f"host-only (imports edgeae/torch): {path}::{t}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["tests/runtime", "tests/golden"]))
