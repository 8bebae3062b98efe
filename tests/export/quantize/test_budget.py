"""The accuracy budget: exclusions until the drop fits, an impossible budget, anomaly threshold."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeae_export import QuantizationError, QuantizeRequest, Validation, quantize_model
from edgeae_export.budget import CANDIDATES, evaluate, fit_budget, metric_drop
from edgeae_export.node_error import node_errors
from edgeae_export.onnx_io import load_onnx, read_manifest

from .models import make_data


def test_budget_forces_exclusions_and_is_met(triplets, tmp_path, no_timing) -> None:
    x = make_data("dense", 256)
    val = Validation(x[:128], name="val")
    free = quantize_model(
        QuantizeRequest(
            triplets["dense"]["autoencoder"],
            tmp_path / "free.onnx",
            calibration=x,
            max_drop=100.0,
            validation=val,
            measure=no_timing,
        )
    )
    assert free.budget is not None and free.budget.kept_float == ()
    initial = free.budget.measured_drop
    assert initial > 0.2  # the exact-PCA model loses measurable PSNR under int8
    budget = initial / 2
    r = quantize_model(
        QuantizeRequest(
            triplets["dense"]["autoencoder"],
            tmp_path / "q.onnx",
            calibration=x,
            max_drop=budget,
            validation=val,
            measure=no_timing,
        )
    )
    b = r.budget
    assert b is not None and b.kept_float and b.measured_drop <= budget
    ranked = [e.name for e in b.ranking]  # each step tries the CANDIDATES most harmful left
    assert b.kept_float[0] in ranked[:CANDIDATES] and set(b.kept_float) <= set(ranked)
    assert len(b.steps) == len(b.kept_float) + 1
    q = read_manifest(load_onnx(r.path)).quantization
    assert q.mode == "mixed" and q.metric == "psnr" and q.max_drop == budget
    assert set(b.kept_float) <= set(q.excluded_nodes)
    assert q.measured_drop == pytest.approx(b.measured_drop)
    # the file really is that good
    m = read_manifest(load_onnx(triplets["dense"]["autoencoder"]))
    drop = metric_drop("psnr", b.float_value, evaluate(load_onnx(r.path), m, "psnr", val))
    assert drop == pytest.approx(b.measured_drop, abs=1e-6)


def test_impossible_budget_raises_with_best_drop(triplets) -> None:
    path = triplets["dense"]["autoencoder"]
    model = load_onnx(path)
    manifest = read_manifest(model)
    x = make_data("dense", 64)

    def bad_build(kept: tuple[str, ...]) -> onnx.ModelProto:
        broken = onnx.ModelProto()
        broken.CopyFrom(model)
        for init in broken.graph.initializer:
            if init.name == "b4":  # shift every output: nothing kept float can fix it
                arr = onnx.numpy_helper.to_array(init) + 1.0
                init.CopyFrom(onnx.numpy_helper.from_array(arr.astype(np.float32), "b4"))
        return broken

    with pytest.raises(QuantizationError, match=r"cannot be met: the best drop was \d"):
        fit_budget(
            bad_build,
            float_model=model,
            rank_model=model,
            manifest=manifest,
            metric="psnr",
            max_drop=0.1,
            validation=Validation(x),
        )


def test_auroc_budget_and_threshold_recalibration(triplets, tmp_path, no_timing) -> None:
    x = make_data("dense", 200)
    labels = np.zeros(200, dtype=np.int64)
    x[150:] += np.random.default_rng(1).normal(0, 1.0, size=(50, 32)).astype(np.float32)
    labels[150:] = 1
    val = Validation(x, labels, name="val")
    r = quantize_model(
        QuantizeRequest(
            triplets["anomaly"]["autoencoder"],
            tmp_path / "q.onnx",
            calibration=x[:150],
            max_drop=0.005,
            metric="auroc",
            validation=val,
            measure=no_timing,
        )
    )
    assert r.budget is not None and r.budget.measured_drop <= 0.005
    assert r.budget.float_value > 0.9
    a = read_manifest(load_onnx(r.path)).anomaly
    assert a is not None and a.threshold != 1.0 and "quantized model" in a.calibrated_on
    from edgeae_runtime.model import Model

    scores = Model(r.path).score(x[:150])
    assert np.mean(scores <= a.threshold) == pytest.approx(0.95, abs=0.02)


def test_auroc_needs_labels(triplets, tmp_path, no_timing) -> None:
    x = make_data("dense", 64)
    with pytest.raises(QuantizationError, match="anomaly labels"):
        quantize_model(
            QuantizeRequest(
                triplets["dense"]["autoencoder"],
                tmp_path / "q.onnx",
                calibration=x,
                max_drop=0.01,
                metric="auroc",
                validation=Validation(x),
                measure=no_timing,
            )
        )
    assert not (tmp_path / "q.onnx").exists()


def test_node_errors_rank_quantized_nodes(triplets, tmp_path, no_timing) -> None:
    x = make_data("dense", 64)
    r = quantize_model(
        QuantizeRequest(
            triplets["dense"]["autoencoder"], tmp_path / "q.onnx", calibration=x, measure=no_timing
        )
    )
    float_model = load_onnx(triplets["dense"]["autoencoder"])
    m = read_manifest(float_model)
    errs = node_errors(float_model, load_onnx(r.path), Validation(x).feeds(m))
    assert {e.name for e in errs} == {"enc_fc1", "enc_fc2", "dec_fc1", "dec_fc2"}
    assert all(e.harm_db >= 0 for e in errs)
    assert errs == sorted(errs, key=lambda e: -e.harm_db)
    assert all(np.isfinite(e.sqnr_db) and e.sqnr_db > 10 for e in errs)


@given(st.floats(-100, 100), st.floats(-100, 100))
def test_drop_is_antisymmetric_for_psnr_and_auroc(a: float, b: float) -> None:
    for metric in ("psnr", "auroc"):
        assert metric_drop(metric, a, b) == pytest.approx(-metric_drop(metric, b, a))
        assert metric_drop(metric, a, a) == 0


@given(st.floats(1e-6, 1e3), st.floats(1e-6, 1e3))
def test_mse_drop_is_relative_increase(f: float, q: float) -> None:
    assert metric_drop("mse", f, q) == pytest.approx(q / f - 1)
    assert (metric_drop("mse", f, q) > 0) == (q > f)


def test_recalibration_keeps_the_two_sided_law(triplets) -> None:
    """Center and threshold come from the quantized model's own errors, tails unchanged."""
    from edgeae_export.budget import recalibrate_threshold
    from edgeae_runtime import AnomalySpec, Model
    from edgeae_runtime.scores import calibrate_anomaly

    path = triplets["anomaly"]["autoencoder"]
    proto = load_onnx(path)
    manifest = read_manifest(proto).replace(
        anomaly=AnomalySpec(threshold=1.0, percentile=90.0, tails="both", center=0.0)
    )
    x = make_data("dense", 120)
    labels = np.zeros(120, dtype=np.int64)
    labels[100:] = 1
    spec = recalibrate_threshold(proto, manifest, Validation(x, labels, name="val"))
    expected = calibrate_anomaly(Model(path).errors(x[:100]), 90.0, "both")
    assert spec is not None and (spec.tails, spec.percentile) == ("both", 90.0)
    assert spec.center == pytest.approx(expected.center)
    assert spec.threshold == pytest.approx(expected.threshold)
    assert spec.calibrated_on == "quantized model, val, 100 normal items"


def test_quality_is_measured_against_clean_targets_when_given(triplets) -> None:
    """Paired denoising data: the metric compares with the clean target, not the noisy input."""
    from edgeae_runtime import Model
    from edgeae_runtime.metrics import psnr

    path = triplets["dense"]["autoencoder"]
    proto = load_onnx(path)
    manifest = read_manifest(proto)
    clean = make_data("dense", 64)
    noisy = clean + np.random.default_rng(0).normal(scale=0.5, size=clean.shape).astype(np.float32)
    recon = Model(path).reconstruct(noisy)
    vr = manifest.preprocessing.value_range
    span = None if vr is None else vr[1] - vr[0]
    against_clean = evaluate(proto, manifest, "psnr", Validation(noisy, target=clean))
    against_noisy = evaluate(proto, manifest, "psnr", Validation(noisy))
    assert against_clean == pytest.approx(psnr(clean, recon, span))
    assert against_noisy == pytest.approx(psnr(noisy, recon, span))
    assert against_clean != pytest.approx(against_noisy)


def test_budget_keeps_the_cheapest_node_that_meets_it(triplets, monkeypatch) -> None:
    """Leave-one-out over the most harmful nodes: of those that meet the budget, the one
    holding the fewest weights stays float, even when it is not the most harmful."""
    import edgeae_export.budget as budget
    from edgeae_export.node_error import NodeError

    model = load_onnx(triplets["dense"]["autoencoder"])
    manifest = read_manifest(model)
    sizes = budget._weights_per_node(model)
    big, small = sorted((n for n in sizes if sizes[n]), key=lambda n: -sizes[n])[:2]
    ranking = [NodeError(n, "Gemm", n, 30.0, 40.0, 10.0 - i) for i, n in enumerate((big, small))]
    monkeypatch.setattr(budget, "node_errors", lambda *_a, **_k: ranking)
    drops = {(): 1.0, (big,): 0.1, (small,): 0.2}  # both fix it; the big one fixes it more
    monkeypatch.setattr(  # the float model scores 10; a "quantized" one 10 - its drop
        budget, "evaluate", lambda p, *_a: 10.0 - drops[p] if isinstance(p, tuple) else 10.0
    )
    _, report = fit_budget(
        lambda kept: kept,  # the "model" is the kept tuple, read back by evaluate
        float_model=model,
        rank_model=model,
        manifest=manifest,
        metric="psnr",
        max_drop=0.5,
        validation=Validation(make_data("dense", 8)),
        start=(),
    )
    assert report.kept_float == (small,) and report.measured_drop == pytest.approx(0.2)
