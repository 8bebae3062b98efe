"""Data-parallel training: two gloo processes under torchrun train one run, rank 0 writing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeae.train import load_checkpoint


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = tmp_path / "items.npy"
    np.save(data, (rng.normal(size=(200, 3)) @ rng.normal(size=(3, 12))).astype(np.float32))
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "edgeae",
        "train",
        str(data),
        "-o",
        str(run),
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--json",
        "--quiet",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads(done.stdout)
    assert metrics["processes"] == 2 and metrics["epochs_run"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["items.npy", "run"]
    assert load_checkpoint(run).epoch == 1
