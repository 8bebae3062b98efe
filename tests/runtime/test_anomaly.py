"""Anomaly scoring: batch flags, streaming window scores and merged events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae_runtime import AnomalyScorer, ManifestError, Model, StreamScorer
from edgeae_runtime.anomaly import AnomalyEvent
from tests.runtime.onnx_models import make_autoencoder


def _quiet_with_bursts(n: int, bursts: list[tuple[int, int]]) -> np.ndarray:
    x = 0.01 * np.random.default_rng(0).standard_normal((1, n)).astype(np.float32)
    for a, b in bursts:
        x[0, a:b] += 20.0
    return x


def test_batch_flags_use_the_manifest_threshold(conv: Model) -> None:
    x = np.zeros((4, 1, 32), np.float32)
    x[1] += 30.0
    scorer = AnomalyScorer(conv)
    assert scorer.threshold == 2.0
    scores, flags = scorer.flag(x)
    assert flags.tolist() == [False, True, False, False]
    np.testing.assert_allclose(scores, conv.score(x))
    assert AnomalyScorer(conv, threshold=1e9).flag(x)[1].sum() == 0


def test_threshold_required_without_anomaly_section(tmp_path: Path) -> None:
    m = Model(make_autoencoder(tmp_path / "m.onnx", kind="conv1d"))
    with pytest.raises(ManifestError, match=r"manifest\.anomaly is missing"):
        AnomalyScorer(m)
    with pytest.raises(ManifestError, match="threshold"):
        StreamScorer(m)
    assert StreamScorer(m, threshold=0.5).threshold == 0.5


def _run(scorer: StreamScorer, x: np.ndarray, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    starts, scores = [], []
    for i in range(0, x.shape[1], chunk):
        u = scorer.push(x[:, i : i + chunk])
        starts.append(u.starts)
        scores.append(u.scores)
    u = scorer.flush()
    return np.concatenate([*starts, u.starts]), np.concatenate([*scores, u.scores])


def test_stream_events_merge_adjacent_windows(conv: Model) -> None:
    x = _quiet_with_bursts(1000, [(200, 240), (700, 710)])
    scorer = StreamScorer(conv)
    starts, scores = _run(scorer, x, 37)
    assert starts.tolist() == list(range(0, 16 * len(starts), 16))
    assert len(starts) == 61  # the complete windows of 1000 samples: (1000 - 32) // 16 + 1
    events = scorer.events
    assert len(events) == 2
    first, second = events
    # every window touching the burst is flagged; the event spans them, merged
    assert first.start <= 200 and first.end >= 240 and first.start >= 200 - 32
    assert second.start <= 700 and second.end >= 710 and second.end <= 710 + 32
    assert first.windows > 1
    assert first.peak == pytest.approx(
        float(scores[(starts >= first.start) & (starts < first.end)].max())
    )


def test_stream_scores_do_not_depend_on_chunking(conv: Model) -> None:
    x = _quiet_with_bursts(700, [(100, 130)])
    a = StreamScorer(conv)
    b = StreamScorer(conv)
    sa, va = _run(a, x, 1)
    sb, vb = _run(b, x, 300)
    np.testing.assert_array_equal(sa, sb)
    np.testing.assert_allclose(va, vb, rtol=1e-5, atol=1e-7)
    assert a.events == b.events


def test_event_open_at_the_end_is_closed_by_flush_and_clipped(conv: Model) -> None:
    x = _quiet_with_bursts(496, [(480, 496)])
    scorer = StreamScorer(conv)
    _run(scorer, x, 100)
    assert len(scorer.events) == 1
    ev = scorer.events[0]
    assert isinstance(ev, AnomalyEvent)
    assert ev.end == 496
    assert ev.to_dict()["start"] == ev.start
    _run(scorer, x[:, 480:], 100)  # shorter than a window: its padded window, clipped
    assert scorer.events[-1].start == 0 and scorer.events[-1].end == 16


def test_clip_scorer_feeds_a_conv_log_mel_model_its_2d_patches(tmp_path: Path) -> None:
    """A conv1d log-mel model (items (n_mels, frames), odd sizes): the scorer's items are the
    front-end's NCW patches, the scores Model.score's, the same however the audio is chunked."""
    from edgeae_runtime import AnomalySpec
    from edgeae_runtime.anomaly import ClipScorer
    from edgeae_runtime.logmel import feature_items
    from edgeae_runtime.manifest import LogMelSpec

    spec = LogMelSpec(sample_rate=8000, n_fft=128, hop=64, n_mels=13, frames=6)
    path = make_autoencoder(
        tmp_path / "m.onnx", kind="conv1d", channels=13, window=6, logmel=spec,
        anomaly=AnomalySpec(threshold=50.0, percentile=99.0),
    )  # fmt: skip
    model = Model(path)
    assert model.manifest.layout == "NCW" and model.manifest.schema_version == 5
    y = np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    items = feature_items(y, spec, layout="NCW")
    assert items.shape[1:] == (13, 6)
    scorer = ClipScorer(model)
    scores, clip = scorer.score_clip(y)
    np.testing.assert_allclose(scores, model.score(items), rtol=1e-5)
    assert clip == pytest.approx(float(np.mean(scores)))
    scorer.reset()
    parts = [scorer.push(y[i : i + 333]).scores for i in range(0, y.size, 333)]
    parts.append(scorer.flush().scores)
    np.testing.assert_allclose(np.concatenate(parts), scores, rtol=1e-5)
    assert scorer.clip_anomalous == (clip > scorer.clip_threshold)


def test_clip_scorer_threshold_law(tmp_path: Path) -> None:
    """The clip threshold is the caller's, else the manifest's clip threshold (unless the
    caller overrode the item threshold, which then stands for the clips), else the item
    threshold: one rule, the one compare reports its clip verdicts at."""
    from edgeae_runtime import AnomalySpec
    from edgeae_runtime.anomaly import ClipScorer, clip_threshold_of
    from edgeae_runtime.manifest import LogMelSpec

    spec = LogMelSpec(sample_rate=8000, n_fft=128, hop=64, n_mels=13, frames=6)
    with_clip = AnomalySpec(threshold=50.0, percentile=99.0, clip_threshold=7.0)
    without = AnomalySpec(threshold=50.0, percentile=99.0)
    for name, anomaly, expected in (("c", with_clip, 7.0), ("i", without, 50.0)):
        path = make_autoencoder(
            tmp_path / f"{name}.onnx", kind="conv1d", channels=13, window=6, logmel=spec,
            anomaly=anomaly,
        )  # fmt: skip
        model = Model(path)
        assert ClipScorer(model).clip_threshold == expected
        assert ClipScorer(model, threshold=3.0).clip_threshold == 3.0
        assert ClipScorer(model, threshold=3.0, clip_threshold=4.0).clip_threshold == 4.0
    assert clip_threshold_of(with_clip, 50.0) == (7.0, "manifest clip threshold")
    assert clip_threshold_of(without, 50.0)[0] == 50.0
    assert clip_threshold_of(None, 2.5)[0] == 2.5


def test_flush_scores_no_window_past_the_end(conv: Model) -> None:
    """The zero-padded last window is not data (the calibration holds none): flush scores
    no window running past the stream's end, whatever the chunking; a stream shorter
    than one window still gets its one padded window scored."""
    x = 0.01 * np.random.default_rng(3).standard_normal((1, 1000)).astype(np.float32)
    for chunk in (1000, 7):
        scorer = StreamScorer(conv, threshold=1e-9)  # every scored window is flagged
        starts, scores = _run(scorer, x, chunk)
        assert starts[-1] == 960 and int(starts[-1]) + 32 <= 1000  # not 976: past the end
        assert len(scores) == len(starts) == 61
        assert scorer.events[-1].end == 992  # closed at flush, at the last scored window
    exact = StreamScorer(conv)
    starts, _ = _run(exact, x[:, :992], 100)  # (992 - 32) / 16 whole hops: no padding
    assert starts[-1] == 960
    short = StreamScorer(conv)
    u = short.push(x[:, :20])
    assert u.scores.size == 0
    last = short.flush()
    assert last.starts.tolist() == [0] and last.scores.shape == (1,)
