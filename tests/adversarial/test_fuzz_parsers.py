"""A bounded fuzz of every parser in ``make test``: 250 mutations each, under a 1 GiB RLIMIT_AS.

Each parser runs in a fresh process (``python -m tests.adversarial.fuzz``) so the
memory limit binds the parsing, not pytest. Only the package's own errors may come
out; a foreign exception (MemoryError included) or a warning fails the test with
the first examples. ``make fuzz`` runs the same fuzzer with 40x more cases.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adversarial.fuzz import PARSERS

ROOT = Path(__file__).resolve().parents[2]
CASES = 250
LIMIT_MB = 1024


@pytest.mark.parametrize("parser", PARSERS)
def test_fuzz_parser_raises_only_package_errors(parser: str, good: dict) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.adversarial.fuzz", "--parser", parser, "--cases",
         str(CASES), "--seed", "0", "--limit-mb", str(LIMIT_MB), "--models",
         str(good["decoder"].parent)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.stdout.strip(), proc.stderr[-2000:]
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["cases"] == CASES
    assert stats["foreign"] == 0, stats["examples"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert stats["package_errors"] > 0 and stats["ok"] > 0  # the mutations reach both paths
