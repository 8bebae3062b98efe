"""The anomaly score law and its calibration, alone and through Model and the scorers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime import AnomalyScorer, AnomalySpec, InputError, Model, StreamScorer
from edgeae_runtime.cli import main as cli_main
from edgeae_runtime.operating_point import choose_threshold
from edgeae_runtime.scores import LOG_EPS, anomaly_scores, calibrate_anomaly
from tests.runtime.onnx_models import make_autoencoder

positive_errors = st.lists(st.floats(1e-6, 1e3), min_size=5, max_size=60).map(np.array)


@settings(max_examples=50, deadline=None)
@given(positive_errors)
def test_upper_tail_score_is_the_error_itself(errors: np.ndarray) -> None:
    spec = AnomalySpec(threshold=1.0)
    np.testing.assert_array_equal(anomaly_scores(errors, spec), errors.astype(np.float32))


@settings(max_examples=50, deadline=None)
@given(st.floats(-10, 5), st.floats(0.1, 8))
def test_both_tails_score_is_symmetric_in_log_error(center: float, distance: float) -> None:
    spec = AnomalySpec(tails="both", center=center)
    above, below = np.exp(center + distance), np.exp(center - distance)
    scores = anomaly_scores(np.array([above, below, np.exp(center)]), spec)
    np.testing.assert_allclose(scores[:2], distance, rtol=1e-4, atol=1e-4)
    assert scores[2] == pytest.approx(0.0, abs=1e-4)


def test_error_far_below_normal_flags_with_both_tails_only() -> None:
    normal = np.random.default_rng(0).lognormal(mean=-2.0, sigma=0.2, size=500)
    dead, broken = 1e-6, 10.0
    both = calibrate_anomaly(normal, 99.0, "both")
    upper = calibrate_anomaly(normal, 99.0, "upper")
    s_both = anomaly_scores(np.array([dead, broken]), both)
    s_upper = anomaly_scores(np.array([dead, broken]), upper)
    assert (s_both > both.threshold).tolist() == [True, True]
    assert (s_upper > upper.threshold).tolist() == [False, True]


@settings(max_examples=50, deadline=None)
@given(
    positive_errors, st.sampled_from([50.0, 90.0, 99.0, 100.0]), st.sampled_from(["upper", "both"])
)
def test_calibration_center_and_threshold(errors: np.ndarray, pct: float, tails: str) -> None:
    spec = calibrate_anomaly(errors, pct, tails, "mae", calibrated_on="toy")
    assert (spec.percentile, spec.tails, spec.score, spec.calibrated_on) == (
        pct,
        tails,
        "mae",
        "toy",
    )
    expected_center = float(np.median(np.log(errors + LOG_EPS))) if tails == "both" else 0.0
    assert spec.center == pytest.approx(expected_center)
    scores = anomaly_scores(errors, spec)
    assert spec.threshold == pytest.approx(float(np.percentile(scores, pct)))
    # about (100 - pct) % of the calibration items lie above the threshold (interpolation: +1)
    assert np.sum(scores > spec.threshold) <= (100.0 - pct) / 100.0 * len(scores) + 1


@settings(max_examples=30, deadline=None)
@given(positive_errors, st.floats(1e-3, 1e3))
def test_two_sided_scores_ignore_the_error_scale(errors: np.ndarray, k: float) -> None:
    """Rescaling every error (another unit, a louder machine) moves only the center."""
    errors = errors + 1e-3  # keep LOG_EPS negligible
    a, b = calibrate_anomaly(errors, 95.0, "both"), calibrate_anomaly(k * errors, 95.0, "both")
    np.testing.assert_allclose(
        anomaly_scores(errors, a), anomaly_scores(k * errors, b), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize(
    ("errors", "kwargs", "message"),
    [
        ([1.0, -0.5], {}, "item 1 is negative"),
        ([1.0, np.nan], {}, "item 1 is not finite"),
        ([[1.0, 2.0]], {}, "1-D"),
        ([], {}, "no normal items"),
        ([1.0], {"tails": "lower"}, "tails"),
        ([1.0], {"score": "rmse"}, "score"),
        ([1.0], {"percentile": 0.0}, "percentile"),
    ],
)
def test_calibration_refuses_bad_input(errors: list, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        calibrate_anomaly(errors, **kwargs)


def test_zero_error_scores_finitely() -> None:
    score = anomaly_scores(np.zeros(1), AnomalySpec(tails="both", center=-3.0))
    assert np.isfinite(score).all() and score[0] == pytest.approx(-np.log(LOG_EPS) - 3.0)


# -- through the runtime's Model and scorers ------------------------------------------


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model, np.ndarray]:
    """The same conv1d model twice: upper- and two-sided-calibrated on noise windows."""
    d = tmp_path_factory.mktemp("tails")
    raw = Model(make_autoencoder(d / "raw.onnx", kind="conv1d", window=32, hop=16))
    normal = np.random.default_rng(0).standard_normal((200, 1, 32)).astype(np.float32)
    errors = raw.errors(normal)
    models = [
        Model(
            make_autoencoder(
                d / f"{tails}.onnx",
                kind="conv1d",
                window=32,
                hop=16,
                anomaly=calibrate_anomaly(errors, 99.0, tails),
            )
        )
        for tails in ("upper", "both")
    ]
    return models[0], models[1], normal


def test_model_score_applies_the_manifest_law(calibrated: tuple[Model, Model, np.ndarray]) -> None:
    upper, both, normal = calibrated
    x = np.concatenate([normal[:8], np.zeros((2, 1, 32), np.float32)])
    errors = upper.errors(x)
    np.testing.assert_array_equal(both.errors(x), errors)
    np.testing.assert_array_equal(upper.score(x), errors)
    spec = both.manifest.anomaly
    assert spec is not None and spec.tails == "both"
    expected = np.abs(np.log(errors.astype(np.float64) + LOG_EPS) - spec.center)
    np.testing.assert_allclose(both.score(x), expected, rtol=1e-6)
    _, flags_upper = AnomalyScorer(upper).flag(x)
    _, flags_both = AnomalyScorer(both).flag(x)
    assert not flags_upper[8:].any()  # dead windows reconstruct too well for one tail
    assert flags_both[8:].all()


def test_stream_scorer_flags_a_dead_segment_with_both_tails(
    calibrated: tuple[Model, Model, np.ndarray],
) -> None:
    upper, both, _ = calibrated
    signal = np.random.default_rng(1).standard_normal((1, 1600)).astype(np.float32)
    signal[:, 800:1120] = 0.0  # the sensor goes dead for 320 samples
    windows = np.stack([signal[:, s : s + 32] for s in range(0, 1600 - 16, 16)])
    inside = (np.arange(len(windows)) * 16 >= 800) & (np.arange(len(windows)) * 16 + 32 <= 1120)
    flags, events = {}, {}
    for name, model in (("upper", upper), ("both", both)):
        scorer = StreamScorer(model)
        updates = [scorer.push(signal[:, i : i + 100]) for i in range(0, 1600, 100)]
        updates.append(scorer.flush())
        scores = np.concatenate([u.scores for u in updates])
        np.testing.assert_allclose(scores, model.score(windows), rtol=1e-5, atol=1e-6)
        flags[name] = np.concatenate([u.flags for u in updates])
        events[name] = scorer.events
    assert not flags["upper"][inside].any()
    assert flags["both"][inside].all()
    assert any(e.start <= 800 and e.end >= 1120 for e in events["both"])


def test_model_without_anomaly_section_scores_the_error(tmp_path: Path) -> None:
    m = Model(make_autoencoder(tmp_path / "m.onnx", kind="dense"))
    x = np.random.default_rng(2).standard_normal((5, 16)).astype(np.float32)
    assert m.anomaly_spec == AnomalySpec()
    np.testing.assert_array_equal(m.score(x), m.errors(x))


def test_cli_shows_and_uses_the_two_sided_law(
    calibrated: tuple[Model, Model, np.ndarray], tmp_path: Path
) -> None:
    _, both, normal = calibrated
    runner = CliRunner()
    info = runner.invoke(cli_main, ["info", "-m", str(both.path)])
    assert info.exit_code == 0 and "|ln mse - (" in info.output
    items = np.concatenate([normal[:3], np.zeros((1, 1, 32), np.float32)])
    np.save(tmp_path / "items.npy", items)
    result = runner.invoke(
        cli_main, ["score", "-m", str(both.path), str(tmp_path / "items.npy"), "--json"]
    )
    data = json.loads(result.output)
    assert data["tails"] == "both" and data["flags"][3] is True
    np.testing.assert_allclose(data["scores"], both.score(items), rtol=1e-6)


# -- the opt-in running baseline (drift) ---------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(0, 100), min_size=1, max_size=120),
    st.integers(1, 50),
    st.floats(0.1, 10),
    st.floats(-50, 50),
)
def test_baseline_is_causal_chunk_free_and_affine_invariant(
    values: list, chunk: int, a: float, b: float
) -> None:
    from edgeae_runtime.scores import ScoreBaseline

    x = np.array(values, dtype=np.float32)
    whole = ScoreBaseline(16).update(x)
    base = ScoreBaseline(16)
    parts = np.concatenate([base.update(x[i : i + chunk]) for i in range(0, x.size, chunk)])
    np.testing.assert_allclose(parts, whole, rtol=1e-6, atol=1e-6)
    # causal: a window's value depends only on it and the ones before it
    if x.size > 2:
        changed = x.copy()
        changed[-1] += 1000
        np.testing.assert_array_equal(ScoreBaseline(16).update(changed)[:-1], whole[:-1])
    # once warmed up (8 past windows) the result ignores an affine map of the scores,
    # unless the past is constant (MAD 0: the scale falls back to the std, then 1e-6)
    mapped = ScoreBaseline(16).update(a * x + b)
    for i in range(8, x.size):
        past = x[max(0, i - 16) : i].astype(np.float64)
        if np.median(np.abs(past - np.median(past))) > 1e-2:
            assert mapped[i] == pytest.approx(whole[i], rel=1e-3, abs=1e-3)


def test_baseline_holds_the_false_alarm_rate_under_drift_and_keeps_anomalies() -> None:
    """Scores whose level and spread drift 4x over the stream: a fixed threshold flags
    most of the end; the baseline keeps the rate near its stationary value, and a short
    burst still stands out."""
    from edgeae_runtime.scores import baseline_scores

    rng = np.random.default_rng(0)
    n = 4000
    drift = np.linspace(1.0, 4.0, n)
    raw = drift * (1.0 + rng.exponential(size=n))
    raw[3000:3010] += 40.0  # a burst of 10 windows
    errors = 1.0 + rng.exponential(size=500)  # calibration: the stationary start
    spec = calibrate_anomaly(errors, 99.0, events=AnomalySpec(baseline_windows=400))
    assert spec.baseline_windows == 400
    assert spec.baseline_center == pytest.approx(np.median(errors), rel=1e-5)
    static = anomaly_scores(raw, spec)
    rolling = baseline_scores(static, spec)
    normal = np.ones(n, bool)
    normal[3000:3010] = False
    assert np.mean(static[normal][-1000:] > spec.threshold) > 0.5
    assert np.mean(rolling[normal] > spec.threshold) < 0.03
    assert (rolling[3000:3010] > spec.threshold).all()


def test_stream_scorer_applies_the_baseline_and_items_are_standardized(tmp_path: Path) -> None:
    from edgeae_runtime.scores import baseline_scores

    raw = Model(make_autoencoder(tmp_path / "raw.onnx", kind="conv1d", window=32, hop=16))
    rng = np.random.default_rng(0)
    errors = raw.errors(rng.standard_normal((200, 1, 32)).astype(np.float32))
    spec = calibrate_anomaly(errors, 95.0, events=AnomalySpec(baseline_windows=40))
    assert spec.threshold == pytest.approx(
        (np.percentile(errors, 95.0) - spec.baseline_center) / spec.baseline_scale, rel=1e-5
    )
    model = Model(make_autoencoder(tmp_path / "b.onnx", kind="conv1d", window=32, hop=16,
                                   anomaly=spec))  # fmt: skip
    items = rng.standard_normal((5, 1, 32)).astype(np.float32)
    np.testing.assert_allclose(
        model.score(items),
        (raw.errors(items) - spec.baseline_center) / spec.baseline_scale,
        rtol=1e-5,
        atol=1e-5,
    )
    signal = rng.standard_normal((1, 3200)).astype(np.float32) * np.linspace(1, 3, 3200)
    scorer = StreamScorer(model)
    ups = [scorer.push(signal[:, i : i + 250]) for i in range(0, 3200, 250)]
    ups.append(scorer.flush())
    got = np.concatenate([u.scores for u in ups])
    plain = StreamScorer(raw, threshold=0.0)  # the raw errors of the same windows
    raw_scores = np.concatenate([plain.push(signal).scores, plain.flush().scores])
    static = (raw_scores - spec.baseline_center) / spec.baseline_scale
    np.testing.assert_allclose(got, baseline_scores(static, spec), rtol=1e-5, atol=1e-5)
    assert not np.allclose(got[20:], static[20:])


def test_recalibration_with_a_template_keeps_the_baseline_and_refits_it() -> None:
    rng = np.random.default_rng(3)
    errors = rng.exponential(size=300)
    spec = calibrate_anomaly(errors, events=AnomalySpec(baseline_windows=64, vote_n=2))
    again = calibrate_anomaly(errors * 2.0, template=spec)  # e.g. the int8 model's errors
    assert again.baseline_windows == 64 and again.vote_n == 2
    assert again.baseline_center == pytest.approx(2 * spec.baseline_center, rel=1e-5)
    assert again.baseline_scale == pytest.approx(2 * spec.baseline_scale, rel=1e-5)
    assert again.threshold == pytest.approx(spec.threshold, rel=1e-5)  # standardized units


def test_clip_threshold_is_the_item_law_on_clip_scores() -> None:
    from edgeae_runtime.scores import calibrate_clips, clip_scores

    rng = np.random.default_rng(4)
    ids = np.repeat(np.arange(40), 25)  # 40 held-out clips of 25 items
    errors = rng.exponential(size=ids.size) * np.repeat(rng.uniform(0.5, 1.5, 40), 25)
    spec = calibrate_anomaly(errors, 90.0)
    clipped = calibrate_clips(spec, errors, ids, "mean")
    per_clip = clip_scores(errors, ids, "mean")
    assert per_clip.shape == (40,)
    np.testing.assert_allclose(per_clip[3], errors[ids == 3].mean())
    assert clipped.clip_threshold == pytest.approx(np.percentile(per_clip, 90.0))
    assert clipped.clip_normal == 40 and clipped.threshold == spec.threshold
    # the mean of 25 items spreads far less than one item: the item threshold is too high
    assert clipped.clip_threshold < spec.threshold
    # labelled: Youden on clips; kept through an int8-style recalibration with a template
    bad = rng.exponential(size=250) * 3.0
    bad_ids = np.repeat(np.arange(100, 110), 25)
    y = calibrate_clips(calibrate_anomaly(errors, method="youden", anomaly_errors=bad), errors,
                        ids, "mean", anomaly_errors=bad, anomaly_clip_ids=bad_ids)  # fmt: skip
    assert y.clip_anomalies == 10
    assert (clip_scores(bad, bad_ids) > y.clip_threshold).all()
    again = calibrate_anomaly(errors * 1.01, template=y, anomaly_errors=bad)
    assert again.clip_threshold == y.clip_threshold
    with pytest.raises(InputError, match="clip ids"):
        clip_scores(errors, ids[:-1])
    # under 6 held-out clips no clip threshold: verdicts fall back to the item threshold
    few = calibrate_clips(spec, errors[ids < 5], ids[ids < 5], "mean")
    assert few.clip_threshold is None and few.clip_normal == 5


def test_far_baseline_reapplies_the_law_to_the_recent_past_under_drift() -> None:
    """``method: far`` with a baseline: a window is flagged when above the law's threshold
    on the windows before it, so the realised rate tracks the target through a drift."""
    from edgeae_runtime.scores import baseline_for, baseline_scores

    rng = np.random.default_rng(5)
    n = 6000
    raw = np.linspace(1.0, 5.0, n) * (1.0 + rng.exponential(size=n))
    errors = 1.0 + rng.exponential(size=400)
    spec = calibrate_anomaly(
        errors, method="far", target_far=0.02, events=AnomalySpec(baseline_windows=500)
    )
    assert baseline_for(spec).law is not None
    static = anomaly_scores(raw, spec)
    z = baseline_scores(static, spec)
    assert np.mean(static > spec.threshold) > 0.4  # the fixed threshold flags much of it
    assert np.mean(z[500:] > spec.threshold) < 1.5 * 0.02
    # exactly: above the threshold iff above the law's threshold on the 500 before
    i = 3000
    past = static[i - 500 : i].astype(np.float64)
    t = choose_threshold(past, "far", target_far=0.02)
    assert (z[i] > spec.threshold) == (static[i] > t)


def _reference_center_scale(past: np.ndarray) -> tuple[float, float]:
    """The documented standardization, computed from scratch (numpy's median/quantile)."""
    center = float(np.median(past))
    scale = (float(np.quantile(past, 0.9)) - center) / 1.2816
    if not scale > 0:
        scale = 1.4826 * float(np.median(np.abs(past - center)))
    if not scale > 0:
        scale = float(np.std(past))
    if not scale > 0:
        scale = max(abs(center), 1.0) * 1e-6
    return center, scale


def _reference_baseline(x: np.ndarray, spec: AnomalySpec) -> np.ndarray:
    """What the running baseline means, window by window: sort the whole past each time."""
    from edgeae_runtime.scores import baseline_for

    base = baseline_for(spec)
    assert base is not None
    out = []
    for i, v in enumerate(x.astype(np.float64)):
        past = x[max(0, i - base.windows) : i].astype(np.float64)
        if past.size < base.min_windows:
            out.append(v)
            continue
        center, scale = _reference_center_scale(past)
        if spec.method == "far":
            t = spec.threshold
            limit = choose_threshold(past, "far", target_far=spec.target_far)
            if t > 0 and limit > center:
                scale = (limit - center) / t
            else:
                center = limit - t * scale
        out.append((v - center) / scale)
    return np.array(out, dtype=np.float32)


@settings(max_examples=80, deadline=None)
@given(
    # scores on a 0.01 grid: ties are common (a spread near 1e-38 would overflow float32
    # in either computation)
    st.lists(st.integers(-5000, 5000).map(lambda k: k / 100), min_size=1, max_size=160),
    st.integers(1, 60),
    st.sampled_from([None, 0.01, 0.05, 0.3]),
    st.sampled_from([-1.0, 0.0, 0.5, 3.0]),
    st.integers(0, 80),
    st.integers(1, 40),
)
def test_incremental_baseline_equals_the_reference_computation(
    values: list, windows: int, target: float | None, threshold: float, val_normal: int,
    chunk: int,
) -> None:  # fmt: skip
    """The sorted-window ScoreBaseline gives bit for bit what re-sorting the whole past
    for every window gives: median/q90 standardization, and the false-alarm law
    re-applied (ties, a calibrated threshold <= 0, a law at the median included),
    however the stream is chunked."""
    from edgeae_runtime.scores import baseline_for

    x = np.array(values, dtype=np.float32)
    spec = AnomalySpec(
        baseline_windows=windows,
        threshold=threshold,
        method="far" if target else "percentile",
        target_far=target or 0.01,
        val_normal=val_normal,
    )
    base = baseline_for(spec)
    got = np.concatenate([base.update(x[i : i + chunk]) for i in range(0, x.size, chunk)])
    np.testing.assert_array_equal(got, _reference_baseline(x, spec))


def test_far_baseline_keeps_its_law_when_the_calibration_was_tied() -> None:
    """NAB's ec2_disk_write_bytes_1ef3de trains on a flat stretch: every calibration
    score is equal, the calibrated threshold is (about) 0 in baseline units. The stream still
    flags a window only above the law's threshold on its past (before: the law was
    dropped and half the windows, those above the past's median, were flagged)."""
    from edgeae_runtime.scores import baseline_for, baseline_scores

    spec = calibrate_anomaly(
        np.full(60, 3e-4), method="far", target_far=0.01, events=AnomalySpec(baseline_windows=288)
    )
    assert spec.threshold <= 1e-4  # 0 up to the float32 rounding of the scores
    assert baseline_for(spec).law is not None
    rng = np.random.default_rng(7)
    stream = anomaly_scores(np.concatenate([np.full(60, 3e-4), 3e-4 + rng.exponential(1e-5, 3000)]),
                            spec)  # fmt: skip
    z = baseline_scores(stream, spec)
    assert np.mean(z[400:] > spec.threshold) < 1.5 * 0.01


def test_far_baseline_on_overlapping_windows_counts_independent_ones() -> None:
    """Windows of 8 samples every sample (independent share 1/8): the stream's law told so
    is more conservative than one treating every window as independent, and both keep
    the realised rate within 1.5x of the target on a stationary stream."""
    from edgeae_runtime.scores import baseline_scores

    rng = np.random.default_rng(0)
    w = np.convolve(rng.exponential(size=20_007), np.ones(8) / 8, mode="valid")
    spec = calibrate_anomaly(
        w[:300], method="far", target_far=0.01, events=AnomalySpec(baseline_windows=288)
    )
    s = anomaly_scores(w, spec)
    rates = {
        ind: float(np.mean(baseline_scores(s, spec, independent=ind)[1000:] > spec.threshold))
        for ind in (1.0, 1 / 8)
    }
    assert rates[1 / 8] <= rates[1.0] <= 1.5 * 0.01
    assert rates[1 / 8] > 0  # still a false-alarm law, not "never flag"


def test_item_independence_follows_the_manifest_framing() -> None:
    """One share for everyone: signal windows hop/window, sensor logs their hop over the
    item length, stacked log-mel items hop / (n_fft + (frames - 1) hop), else 1."""
    from types import SimpleNamespace

    from edgeae_runtime.manifest import LogMelSpec, SensorLogSpec, SignalSpec
    from edgeae_runtime.scores import item_independence

    sig = SignalSpec(sample_rate=1000, channels=1, window=256, hop=64)
    assert item_independence(SimpleNamespace(signal=sig)) == 0.25
    mel = LogMelSpec(sample_rate=16000, n_fft=1024, hop=512, frames=5)
    assert item_independence(SimpleNamespace(features=mel, signal=None)) == 512 / 3072
    log = SensorLogSpec(columns=("a", "b"), period=1.0, max_gap=2.0, hop=16)
    assert item_independence(SimpleNamespace(sensorlog=log, item_shape=(2, 64), signal=sig)) == 0.25
    # no framing recorded (flat NF windows, images; a raw array is not a SignalSpec): 1
    assert item_independence(SimpleNamespace(signal=np.zeros((1, 10)), window=32, hop=4)) == 1.0
    assert item_independence(SimpleNamespace(signal=None, item_shape=(784,))) == 1.0


def test_item_independence_counts_flat_signal_windows_from_manifest_windows() -> None:
    """A dense model's flat windows (2 channels x 32 samples every 4) are as overlapping as
    a conv model's: ``manifest.windows`` gives them hop / window, what signal windows get."""
    from edgeae_runtime.manifest import Manifest, Provenance, TensorSpec, WindowSpec
    from edgeae_runtime.scores import item_independence

    m = Manifest(
        role="autoencoder", arch="dense", layout="NF", inputs=(TensorSpec("input", (None, 64)),),
        outputs=(TensorSpec("reconstruction", (None, 64)),), item_shape=(64,),
        latent_shape=(4,), provenance=Provenance(fingerprint="x"),
    )  # fmt: skip
    assert item_independence(m) == 1.0  # no framing recorded: independent items
    assert item_independence(m.replace(windows=WindowSpec(window=32, hop=4))) == 0.125
    assert item_independence(m.replace(windows=WindowSpec(window=32, hop=32))) == 1.0
