"""Fixtures shared by the whole test tree."""

from __future__ import annotations

import pytest
from click.testing import CliRunner


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner; stderr is kept apart from stdout."""
    return CliRunner()
