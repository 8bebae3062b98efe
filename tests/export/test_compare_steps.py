"""The steps of compare_models alone: open, reconstruct, score, codec, per-node, model stats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae_export.compare import core
from edgeae_runtime.errors import InputError
from tests.export.compare_support import quantize_qdq
from tests.export.quantize.models import make_data
from tests.runtime.onnx_models import make_triplet


def _quiet(_msg: str) -> None:
    pass


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    d = tmp_path_factory.mktemp("steps")
    a = make_triplet(d, "qdense", anomaly=True)["autoencoder"]
    x = make_data("dense", 128)
    return a, quantize_qdq(a, d / "model.int8.onnx", x), x


def test_open_drops_single_class_labels_with_a_note(pair) -> None:
    a, b, x = pair
    notes: list[str] = []
    _, _, data = core._open(a, b, x, np.zeros(len(x)), 64, 1, notes)
    assert data.labels is None and data.x.shape[0] == 64 and "single class" in notes[0]
    with pytest.raises(InputError, match="shape"):
        core._open(a, b, x[:, :16], None, None, 1, [])


def test_reconstruct_and_score(pair) -> None:
    a, b, x = pair
    ma, mb, data = core._open(a, b, x, None, None, 1, [])
    rec = core._reconstruct(ma, mb, data, _quiet)
    assert rec.a.shape == x.shape and rec.quality_a.mse < rec.quality_b.mse
    assert rec.difference.mse > 0
    assert core._score_anomalies(ma, mb, data, [], _quiet) is None  # no labels: no scoring
    labels = (np.arange(len(x)) % 4 == 0).astype(np.int64)
    ma, mb, labeled = core._open(a, b, x, labels, None, 1, [])
    an = core._score_anomalies(ma, mb, labeled, [], _quiet)
    assert an is not None and an.scores_a.shape == (len(x),)
    assert 0 <= an.flags_agree <= len(x) and 0 <= an.stats_a.auroc <= 1


def test_codecs_note_what_they_skip_and_nodes_rank_the_qdq_model(pair) -> None:
    a, b, x = pair
    ma, mb, data = core._open(a, b, x, None, None, 1, [])
    notes: list[str] = []
    stats_a, stats_b = core._codecs(ma, mb, data, None, None, 1, notes, _quiet)
    assert stats_a is not None and stats_b is None  # B has no int8 codec pair beside it
    assert len(notes) == 1 and notes[0].startswith("codec B")
    nodes = core._node_errors(ma, mb, data, notes, _quiet)
    assert nodes and all(np.isfinite(n.sqnr_db) for n in nodes)


def test_model_stats_and_details(pair) -> None:
    a, b, x = pair
    ma, mb, data = core._open(a, b, x, None, None, 1, [])
    rec = core._reconstruct(ma, mb, data, _quiet)
    stats = core._model_stats(
        "B", mb, rec.quality_b, None, None, batches=(1, 4), latency_budget_s=0.01,
        measure_memory=False, threads=1, say=_quiet,
    )  # fmt: skip
    assert [lat.batch for lat in stats.latency] == [1, 4] and stats.peak_rss_mb is None
    assert stats.quantization.startswith("static") and stats.size_bytes == b.stat().st_size
    details = core._details(ma, data, rec, None)
    assert details.error_a.shape == (len(x),) and details.scores_a is None
    assert details.example_a.shape[0] == details.example_inputs.shape[0] > 0
