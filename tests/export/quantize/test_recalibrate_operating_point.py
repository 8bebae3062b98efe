"""The int8 recalibration re-applies the float manifest's threshold law, parameters and events."""

from __future__ import annotations

import numpy as np
import pytest

from edgeae_export import QuantizationError, Validation
from edgeae_export.budget import recalibrate_threshold
from edgeae_export.onnx_io import load_onnx, read_manifest
from edgeae_runtime import AnomalySpec, Model
from edgeae_runtime.operating_point import LABELLED_METHODS
from edgeae_runtime.scores import calibrate_anomaly

from .models import make_data


@pytest.mark.parametrize("method", ["mean_std", "far", "f1", "youden", "accuracy"])
def test_recalibration_uses_the_same_law(triplets, method: str) -> None:
    path = triplets["anomaly"]["autoencoder"]
    proto = load_onnx(path)
    float_spec = AnomalySpec(
        threshold=1.0, method=method, k=2.0, target_far=0.05, vote_k=2, vote_n=3, min_windows=2
    )
    manifest = read_manifest(proto).replace(anomaly=float_spec)
    rng = np.random.default_rng(0)
    x = make_data("dense", 120)
    x[100:] += rng.normal(scale=3.0, size=x[100:].shape).astype(np.float32)
    labels = np.zeros(120, dtype=np.int64)
    labels[100:] = 1
    spec = recalibrate_threshold(proto, manifest, Validation(x, labels, name="val"))
    errors = Model(path).errors(x)
    expected = calibrate_anomaly(
        errors[:100], anomaly_errors=errors[100:] if method in LABELLED_METHODS else None,
        template=float_spec,
    )  # fmt: skip
    assert spec is not None and spec.method == method
    assert spec.threshold == pytest.approx(expected.threshold, rel=1e-5)
    assert (spec.k, spec.target_far, spec.vote_k, spec.vote_n, spec.min_windows) == (
        2.0, 0.05, 2, 3, 2,
    )  # fmt: skip
    assert spec.val_fpr == pytest.approx(expected.val_fpr)
    if method in LABELLED_METHODS:
        assert spec.val_tpr is not None and spec.val_anomalies == 20


def test_labelled_law_without_labelled_anomalies_is_refused(triplets) -> None:
    path = triplets["anomaly"]["autoencoder"]
    proto = load_onnx(path)
    manifest = read_manifest(proto).replace(anomaly=AnomalySpec(threshold=1.0, method="f1"))
    with pytest.raises(QuantizationError, match="f1 threshold needs labelled anomalies"):
        recalibrate_threshold(proto, manifest, Validation(make_data("dense", 50), name="val"))


def test_recalibration_counts_the_manifests_overlapping_windows(triplets) -> None:
    """The int8 false-alarm threshold counts the windows the manifest's framing makes
    independent (hop / window), as the trainer's calibration and the stream do."""
    from edgeae_runtime.manifest import SignalSpec, WindowSpec
    from edgeae_runtime.scores import item_independence

    path = triplets["anomaly"]["autoencoder"]
    proto = load_onnx(path)
    float_spec = AnomalySpec(threshold=1.0, method="far", target_far=0.001)
    x = make_data("dense", 80)
    errors = Model(path).errors(x)
    plain = read_manifest(proto).replace(anomaly=float_spec)
    width = int(np.prod(plain.item_shape))
    signal = SignalSpec(sample_rate=1000, channels=1, window=width, hop=width // 4)
    framed = plain.replace(signal=signal)
    flat = plain.replace(windows=WindowSpec(window=width, hop=width // 4))  # no signal section
    assert item_independence(plain) == 1.0 and item_independence(framed) == 0.25
    got = []
    for m, share in ((plain, 1.0), (framed, 0.25), (flat, 0.25)):
        spec = recalibrate_threshold(proto, m, Validation(x, name="val"))
        want = calibrate_anomaly(errors, template=float_spec, independent=share)
        assert spec is not None and spec.threshold == pytest.approx(want.threshold, rel=1e-5)
        got.append(spec.threshold)
    assert got[1] > got[0] and got[2] == got[1]
