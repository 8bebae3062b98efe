"""Tiny in-memory problems for trainer tests (no built-in data, one torch thread)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def low_rank() -> np.ndarray:
    """400 items of 16 features lying near a 3-dimensional subspace."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 3))
    x = z @ rng.normal(size=(3, 16)) + 0.05 * rng.normal(size=(400, 16))
    return x.astype(np.float32)
