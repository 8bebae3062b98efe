"""Fixtures shared by the whole test tree."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import settings

# Property tests check laws, not speed: a loaded CI machine must not fail them on
# hypothesis' per-example deadline (wall-clock is measured in benchmarks/ only).
settings.register_profile("edgeae", deadline=None)
settings.load_profile("edgeae")


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner; stderr is kept apart from stdout."""
    return CliRunner()
