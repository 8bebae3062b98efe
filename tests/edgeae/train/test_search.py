"""train --search: candidates within a budget, the table, the chosen run in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.data.dataset import Dataset, fingerprint
from edgeae.errors import ConfigError
from edgeae.train import TrainConfig, load_checkpoint
from edgeae.train.search import Candidate, candidates, search


def _data(labelled: bool) -> Dataset:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((200, 4)) @ rng.standard_normal((4, 24))).astype(np.float32)
    y = np.zeros(200, dtype=np.int64)
    if labelled:
        y[::8] = 1
        x[y == 1] += rng.normal(0, 2.0, (25, 24)).astype(np.float32)
    return Dataset(
        name="t", x=x, layout="NF", fingerprint=fingerprint([x, y], {}),
        labels=y if labelled else None, labels_are_anomalies=labelled,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("labelled", [True, False])
def test_search_keeps_the_best_candidate_by_the_validation_metric(
    tmp_path: Path, labelled: bool
) -> None:
    cfg = TrainConfig(epochs=2, batch_size=32)
    base = Candidate("dense", {"hidden": (16,), "latent": 2})
    result, table = search(_data(labelled), base, cfg, tmp_path / "run", budget_s=60)
    assert table.metric == ("auroc" if labelled else "val_mse_raw")
    values = [r["value"] for r in table.rows]
    best = max(values) if labelled else min(values)
    assert values[table.chosen] == best and values.index(best) == table.chosen
    assert len(table.rows) == len(candidates("NF", base))
    assert load_checkpoint(tmp_path / "run").arch == "dense"
    assert (tmp_path / "run" / "search.txt").read_text().count("<- chosen") == 1
    assert not (tmp_path / "run.search").exists() and result.run_dir == tmp_path / "run"


def test_search_refuses_a_bad_budget_and_an_existing_run(tmp_path: Path) -> None:
    base = Candidate("dense", {})
    with pytest.raises(ConfigError, match="budget"):
        search(_data(False), base, TrainConfig(), tmp_path / "r", budget_s=0)
    (tmp_path / "r").mkdir()
    with pytest.raises(ConfigError, match="force"):
        search(_data(False), base, TrainConfig(), tmp_path / "r", budget_s=5)
