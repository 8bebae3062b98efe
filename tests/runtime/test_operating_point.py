"""Threshold laws (operating_point) and the stream event law (events): properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from edgeae_runtime import AnomalySpec, InputError, ManifestError
from edgeae_runtime.events import EventDetector, EventRule, detect_events
from edgeae_runtime.manifest import Manifest
from edgeae_runtime.operating_point import (
    FAR_FITS,
    choose_threshold,
    describe_operating_point,
    gpd_pwm,
    rates,
)
from edgeae_runtime.scores import calibrate_anomaly

scores = st.lists(st.floats(0, 1e3), min_size=5, max_size=200).map(np.array)


@settings(max_examples=60, deadline=None)
@given(scores, st.floats(0.001, 0.5), st.sampled_from(FAR_FITS))
@example(np.array([0.0] * 6 + [1.0] * 3), 1 / 3, "empirical")  # 9 * (1 - 1/3) rounds above 6
def test_far_per_item_realises_at_most_its_target_on_its_calibration_data(
    normal: np.ndarray, target: float, fit: str
) -> None:
    t = choose_threshold(normal, "far", target_far=target, far_fit=fit)
    assert float(np.mean(normal > t)) <= target + 1e-12
    if fit == "empirical":  # the plug-in law: the smallest such observed score
        lower = normal[normal < t]
        if lower.size:
            assert np.mean(normal > lower.max()) > target


def test_far_conformal_is_within_one_item_of_target_on_many_scores() -> None:
    normal = np.random.default_rng(0).lognormal(size=2000)
    for target in (0.01, 0.05, 0.2):  # target * n >= 10: auto is the conformal quantile
        t = choose_threshold(normal, "far", target_far=target)
        assert t == choose_threshold(normal, "far", target_far=target, far_fit="conformal")
        realised = rates(normal, None, t).fpr
        assert target - 2 / 2000 <= realised <= target


# exchangeable normal scores: families with light to heavy tails (numpy draws, no scipy)
FAMILIES = {
    "halfnormal": lambda r, n: np.abs(r.standard_normal(n)),
    "exponential": lambda r, n: r.exponential(size=n),
    "lognormal": lambda r, n: r.lognormal(sigma=0.5, size=n),
    "gamma": lambda r, n: r.gamma(2.0, size=n),
    "chi2": lambda r, n: r.chisquare(8, size=n),
}


@settings(max_examples=12, deadline=None)
@given(
    st.sampled_from(sorted(FAMILIES)),
    st.integers(74, 600),
    st.sampled_from([0.05, 0.01]),
    st.integers(0, 2**31 - 1),
)
def test_far_auto_holds_its_target_on_average_for_exchangeable_scores(
    family: str, n: int, target: float, seed: int
) -> None:
    """Calibrate on n scores, measure on fresh ones from the same law: the mean over
    repeats of the realised false-alarm rate is within 1.5x of the target, while the
    plug-in law (max of 74 scores at 1 %) is not held to that."""
    rng = np.random.default_rng(seed)
    draw = FAMILIES[family]
    fresh = draw(rng, 200_000)
    realised = [
        float(np.mean(fresh > choose_threshold(draw(rng, n), "far", target_far=target)))
        for _ in range(60)
    ]
    # 60 repeats: the mean's Monte-Carlo spread is ~ target * 0.15 at these sizes
    assert np.mean(realised) <= 1.5 * target


@settings(max_examples=10, deadline=None)
@given(
    st.sampled_from(sorted(FAMILIES)),
    st.integers(20, 400),
    st.sampled_from([0.2, 0.1, 0.05]),
    st.integers(0, 2**31 - 1),
)
def test_far_conformal_never_exceeds_its_target_on_average(
    family: str, n: int, target: float, seed: int
) -> None:
    """The conformal quantile's finite-sample guarantee: for exchangeable scores the
    expected false-alarm rate on a new score is <= target (Monte-Carlo: mean of 300
    calibrations, each judged on 20 000 fresh scores, within 3 standard errors)."""
    rng = np.random.default_rng(seed)
    draw = FAMILIES[family]
    fresh = draw(rng, 20_000)
    realised = np.array([
        np.mean(fresh > choose_threshold(draw(rng, n), "far", target_far=target,
                                         far_fit="conformal"))
        for _ in range(300)
    ])  # fmt: skip
    assert realised.mean() <= target + 3 * realised.std() / np.sqrt(realised.size) + 2e-3


def test_far_tail_extrapolates_beyond_the_max_and_beats_the_plug_in_law() -> None:
    """With 74 calibration scores the plug-in 1 % / 0.1 % quantile is the max, whose
    expected false-alarm rate is 1/75; the tail fit goes past it and gets closer."""
    rng = np.random.default_rng(1)
    fresh = rng.exponential(size=400_000)
    for target in (0.01, 0.001):
        tail, plug = [], []
        for _ in range(300):
            x = rng.exponential(size=74)
            t = choose_threshold(x, "far", target_far=target)
            assert t >= x.max()
            tail.append(np.mean(fresh > t))
            plug.append(
                np.mean(fresh > choose_threshold(x, "far", target_far=target, far_fit="empirical"))
            )
        assert abs(np.mean(tail) - target) < abs(np.mean(plug) - target)
        assert np.mean(plug) > 1.2 * target  # the plug-in law misses its target here


def test_gpd_pwm_recovers_known_tails() -> None:
    rng = np.random.default_rng(2)
    u = rng.random(20_000)
    for xi, sigma in ((0.0, 2.0), (0.25, 1.0), (-0.2, 3.0)):
        y = -sigma * np.log(u) if xi == 0 else sigma / xi * (u ** (-xi) - 1.0)
        got_xi, got_sigma = gpd_pwm(y)
        assert abs(got_xi - xi) < 0.03 and abs(got_sigma / sigma - 1) < 0.05


@settings(max_examples=40, deadline=None)
@given(scores, st.floats(0.01, 100), st.floats(-100, 100))
def test_every_law_is_equivariant_under_affine_maps_of_the_score(
    normal: np.ndarray, a: float, b: float
) -> None:
    """Thresholds move with the scores: t(a s + b) = a t(s) + b for a > 0."""
    mapped = a * normal + b
    scale = max(1.0, float(np.abs(mapped).max()))
    for method, kw in (
        ("percentile", {"percentile": 97.0}),
        ("mean_std", {"k": 2.0}),
        ("far", {"target_far": 0.01}),
        ("far", {"target_far": 0.2}),
    ):
        t0 = choose_threshold(normal, method, **kw)
        t1 = choose_threshold(mapped, method, **kw)
        assert abs(t1 - (a * t0 + b)) <= 1e-6 * scale


@settings(max_examples=40, deadline=None)
@given(scores)
def test_thresholds_are_monotone_in_their_parameter(normal: np.ndarray) -> None:
    p = [choose_threshold(normal, "percentile", percentile=q) for q in (50, 90, 99, 100)]
    k = [choose_threshold(normal, "mean_std", k=v) for v in (0, 1, 3, 6)]
    f = [choose_threshold(normal, "far", target_far=r) for r in (0.5, 0.1, 0.01, 0.001)]
    f2 = [
        choose_threshold(normal, "far", target_far=r, far_fit="tail")
        for r in (0.3, 0.1, 0.01, 0.001)
    ]
    for seq in (p, k, f, f2):
        assert all(a <= b + 1e-9 for a, b in itertools.pairwise(seq))


def _f1(n: np.ndarray, a: np.ndarray, t: float) -> float:
    tp, fp, fn = np.sum(a > t), np.sum(n > t), np.sum(a <= t)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


@settings(max_examples=40, deadline=None)
@example(np.full(5, 5e-324), np.array([5e-324] * 4 + [1e-323]))  # neighbouring floats
@given(scores, scores)
def test_f1_and_youden_are_optimal_over_every_threshold(n: np.ndarray, a: np.ndarray) -> None:
    grid = np.concatenate([[-1.0], np.unique(np.concatenate([n, a]))])
    t_f1 = choose_threshold(n, "f1", anomalous=a)
    assert _f1(n, a, t_f1) >= max(_f1(n, a, g) for g in grid) - 1e-12
    t_j = choose_threshold(n, "youden", anomalous=a)

    def j(t: float) -> float:
        return float(np.mean(a > t) - np.mean(n > t))

    assert j(t_j) >= max(j(g) for g in grid) - 1e-12
    t_acc = choose_threshold(n, "accuracy", anomalous=a)

    def correct(t: float) -> int:
        return int(np.sum(a > t) + np.sum(n <= t))

    assert correct(t_acc) == max(correct(g) for g in grid)


def test_accuracy_optimal_flags_nothing_when_anomalies_overlap_normal_and_are_rare() -> None:
    """With 2 % anomalies scoring like normal items, the most accurate point flags
    (almost) nothing, where Youden trades many false alarms for detections."""
    rng = np.random.default_rng(3)
    n, a = rng.normal(0, 1, 2000), rng.normal(0.5, 1, 40)
    t = choose_threshold(n, "accuracy", anomalous=a)
    assert np.mean(n > t) < 0.01
    assert np.mean(n > choose_threshold(n, "youden", anomalous=a)) > 0.05
    for method in ("f1", "youden"):
        other = choose_threshold(n, method, anomalous=a)
        assert np.sum(a > t) + np.sum(n <= t) >= np.sum(a > other) + np.sum(n <= other)


def test_every_method_is_a_manifest_method_and_back() -> None:
    """One list: the manifest schema's ThresholdMethod is what choose_threshold takes."""
    from typing import get_args, get_type_hints

    from edgeae_runtime.operating_point import LABELLED_METHODS, METHODS

    assert get_args(get_type_hints(AnomalySpec)["method"]) == METHODS
    assert set(LABELLED_METHODS) <= set(METHODS)


def test_labelled_methods_need_anomalies_and_say_so() -> None:
    with pytest.raises(InputError, match=r"f1.*labelled anomalies"):
        choose_threshold(np.ones(10), "f1")
    with pytest.raises(InputError, match="threshold method"):
        choose_threshold(np.ones(10), "best")
    with pytest.raises(InputError, match="target_far"):
        choose_threshold(np.ones(10), "far", target_far=1.5)
    with pytest.raises(InputError, match="per hour"):
        choose_threshold(np.ones(10), "far", far_per="hour", target_far=1.0)
    with pytest.raises(InputError, match="far_fit"):
        choose_threshold(np.ones(10), "far", far_fit="gumbel")


def test_calibration_records_method_and_validation_rates() -> None:
    rng = np.random.default_rng(1)
    normal, anomalous = rng.lognormal(-2, 0.3, 1000), rng.lognormal(-1, 0.3, 100)
    acc = calibrate_anomaly(normal, method="accuracy", anomaly_errors=anomalous)
    assert acc.method == "accuracy" and acc.val_tpr is not None
    assert "accuracy-optimal" in describe_operating_point(acc)
    spec = calibrate_anomaly(normal, method="youden", anomaly_errors=anomalous)
    assert spec.method == "youden" and spec.val_normal == 1000 and spec.val_anomalies == 100
    assert spec.val_tpr == pytest.approx(np.mean(anomalous > spec.threshold))
    assert spec.val_fpr == pytest.approx(np.mean(normal > spec.threshold))
    # recalibrating with the float spec as template keeps the law and its parameters
    again = calibrate_anomaly(normal * 1.1, anomaly_errors=anomalous * 1.1, template=spec)
    assert again.method == "youden" and again.threshold == pytest.approx(spec.threshold * 1.1)
    plain = calibrate_anomaly(normal)
    assert plain.val_tpr is None and plain.val_fpr == pytest.approx(0.01)


def test_far_per_hour_realises_its_target_in_events_on_the_calibration_stream() -> None:
    rng = np.random.default_rng(2)
    errors = rng.lognormal(-2, 0.4, 7200)  # one window per second: 2 hours
    base = AnomalySpec(hysteresis=0.2, vote_k=2, vote_n=3, min_windows=2)
    for target in (2.0, 10.0, 40.0):
        spec = calibrate_anomaly(
            errors,
            method="far",
            far_per="hour",
            target_far=target,
            events=base,
            window_hours=1 / 3600,
        )
        events = detect_events(errors, EventRule.from_spec(spec))[1]
        hours = errors.size / 3600
        assert len(events) / hours <= target
        assert len(events) / hours >= 0.5 * target  # not needlessly strict
        assert spec.vote_k == 2 and spec.hysteresis == 0.2


def test_event_law_hysteresis_vote_and_min_duration() -> None:
    s = np.array([0, 5, 3, 5, 0, 0, 5, 0, 0, 5, 5, 5, 0], dtype=float)
    plain = detect_events(s, EventRule(threshold=4))[1]
    assert [(e.start, e.end) for e in plain] == [(1, 2), (3, 4), (6, 7), (9, 12)]
    hyst = detect_events(s, EventRule(threshold=4, hysteresis=0.5))[1]  # release at 2
    assert [(e.start, e.end) for e in hyst] == [(1, 4), (6, 7), (9, 12)]
    vote = detect_events(s, EventRule(threshold=4, vote_k=2, vote_n=3))[1]
    assert [(e.start, e.end) for e in vote] == [(3, 4), (10, 13)]
    longer = detect_events(s, EventRule(threshold=4, min_windows=2))[1]
    assert [(e.start, e.end, e.windows) for e in longer] == [(9, 12, 3)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 10), min_size=1, max_size=80), st.integers(1, 9))
def test_streaming_events_equal_offline_however_chunked(values: list, chunk: int) -> None:
    s = np.array(values)
    rule = EventRule(threshold=5, hysteresis=0.3, vote_k=2, vote_n=3, min_windows=2)
    offline = detect_events(s, rule, hop=4, window=8)[1]
    det, streamed = EventDetector(rule, 8), []
    for i in range(0, s.size, chunk):
        part = s[i : i + chunk]
        streamed += det.update(np.arange(i, i + part.size) * 4, part)[1]
    streamed += det.finish()
    assert streamed == offline


def test_manifest_bounds_the_operating_point_fields() -> None:
    good = AnomalySpec(
        threshold=1.0,
        method="far",
        target_far=3.0,
        far_per="hour",
        vote_k=2,
        vote_n=3,
        val_tpr=0.9,
        val_fpr=0.01,
    )
    base = _manifest()
    m = base.replace(anomaly=good)
    assert Manifest.from_json(m.to_json()).anomaly == good
    for bad in (
        {"vote_k": 4, "vote_n": 3},
        {"hysteresis": 1.0},
        {"val_fpr": 1.5},
        {"target_far": 2.0},
        {"min_windows": 0},
        {"k": -1.0},
    ):
        with pytest.raises(ManifestError, match=r"manifest\.anomaly"):
            base.replace(anomaly=AnomalySpec(threshold=1.0, **bad))
    with pytest.raises(ManifestError, match="method"):
        data = m.to_dict()
        data["anomaly"]["method"] = "magic"
        Manifest.from_dict(data)


def _manifest() -> Manifest:
    from edgeae_runtime.manifest import Provenance, TensorSpec

    return Manifest(
        role="autoencoder",
        arch="dense",
        layout="NF",
        inputs=(TensorSpec("input", (None, 4)),),
        outputs=(TensorSpec("reconstruction", (None, 4)),),
        item_shape=(4,),
        latent_shape=(2,),
        provenance=Provenance(fingerprint="x"),
    )


def test_stream_scorer_applies_the_manifest_event_law(tmp_path) -> None:
    """StreamScorer's events are detect_events over its window scores, with the manifest's rule."""
    from edgeae_runtime import Model, StreamScorer
    from tests.runtime.onnx_models import make_autoencoder

    raw = Model(make_autoencoder(tmp_path / "raw.onnx", kind="conv1d", window=32, hop=16))
    rng = np.random.default_rng(0)
    errors = raw.errors(rng.standard_normal((200, 1, 32)).astype(np.float32))
    signal = rng.standard_normal((1, 3200)).astype(np.float32)
    signal[:, 800:960] *= 4  # a loud burst
    signal[:, 2000:2040] *= 4  # a short one
    rule = AnomalySpec(hysteresis=0.3, vote_k=2, vote_n=3, min_windows=4)
    results = {}
    for name, events in (("plain", None), ("rule", rule)):
        spec = calibrate_anomaly(errors, 95.0, events=events)
        model = Model(
            make_autoencoder(tmp_path / f"{name}.onnx", kind="conv1d", window=32, hop=16,
                             anomaly=spec)
        )  # fmt: skip
        scorer = StreamScorer(model)
        ups = [scorer.push(signal[:, i : i + 300]) for i in range(0, 3200, 300)]
        ups.append(scorer.flush())
        scores = np.concatenate([u.scores for u in ups])
        expected = detect_events(scores, EventRule.from_spec(spec), hop=16, window=32, samples=3200)
        assert scorer.events == expected[1]
        np.testing.assert_array_equal(np.concatenate([u.flags for u in ups]), expected[0])
        results[name] = scorer.events
    assert len(results["rule"]) < len(results["plain"])
    assert any(e.start <= 800 and e.end >= 960 for e in results["rule"])


@settings(max_examples=40, deadline=None)
@given(scores, st.sampled_from([0.01, 0.001]), st.sampled_from([0.5, 0.125, 0.02]))
def test_fewer_independent_scores_never_lower_the_tail_threshold(
    normal: np.ndarray, target: float, independent: float
) -> None:
    """``independent=1`` is the calibrated law itself; overlapping windows (fewer
    independent scores) only raise the tail fit's threshold (its predictive quantile)."""
    from edgeae_runtime.operating_point import far_threshold_sorted

    s = np.sort(normal)
    t1 = far_threshold_sorted(s, target)
    assert t1 == choose_threshold(normal, "far", target_far=target)
    if target * s.size < 10:  # the tail branch at both settings
        assert far_threshold_sorted(s, target, independent=independent) >= t1
    with pytest.raises(InputError, match="independent"):
        far_threshold_sorted(s, target, independent=0.0)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 4096), st.integers(1, 4096))
def test_independent_share_is_hop_over_span_capped_at_one(span: int, hop: int) -> None:
    """Non-overlapping items (hop >= span) are all independent; overlapping ones count
    hop / span each, so the effective count of n items is n * hop / span."""
    from edgeae_runtime.operating_point import independent_share

    share = independent_share(span, hop)
    assert 0 < share <= 1
    if hop >= span:
        assert share == 1.0
    else:
        assert share == pytest.approx(hop / span)
        assert independent_share(span, 2 * hop) == pytest.approx(min(1.0, 2 * share))


@pytest.mark.parametrize("span, hop", [(0, 1), (4, 0), (4.5, 2), (4, -1)])
def test_independent_share_refuses_bad_framing_by_name(span: object, hop: object) -> None:
    from edgeae_runtime.operating_point import independent_share

    with pytest.raises(InputError, match="span" if span in (0, 4.5) else "hop"):
        independent_share(span, hop)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 1e3), min_size=20, max_size=300).map(np.array),
    st.sampled_from([1.0, 0.5, 0.125]),
)
def test_far_threshold_is_monotone_in_the_target(normal: np.ndarray, independent: float) -> None:
    """A smaller false-alarm target never gives a lower threshold, at any independence."""
    targets = [0.2, 0.1, 0.05, 0.01, 0.005, 0.001, 0.0001]
    ts = [choose_threshold(normal, "far", target_far=t, independent=independent) for t in targets]
    assert all(b >= a - 1e-9 * max(1.0, abs(a)) for a, b in itertools.pairwise(ts))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.01, 0.001]))
def test_overlapping_calibration_raises_the_threshold_it_fits(seed: int, target: float) -> None:
    """calibrate_anomaly counts independent items: windows overlapping by half get a
    threshold at least the independent one; non-overlapping (1) is the old law exactly."""
    e = np.random.default_rng(seed).exponential(1.0, 74)
    plain = calibrate_anomaly(e, method="far", target_far=target)
    assert calibrate_anomaly(e, method="far", target_far=target, independent=1.0) == plain
    half = calibrate_anomaly(e, method="far", target_far=target, independent=0.5)
    assert half.threshold >= plain.threshold
    assert half.val_fpr <= plain.val_fpr
    pct = calibrate_anomaly(e, independent=0.5)  # other laws do not count independence
    assert pct.threshold == calibrate_anomaly(e).threshold
