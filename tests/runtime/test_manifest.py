"""The manifest schema: round trips, versioning, and errors that name the field."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime import (
    AnomalySpec,
    CodecSpec,
    Manifest,
    ManifestError,
    Preprocessing,
    SignalSpec,
)
from edgeae_runtime.manifest import Provenance, QuantizationSpec, TensorSpec
from edgeae_runtime.preprocess import denormalize, normalize


def make_manifest(**changes: object) -> Manifest:
    base = dict(
        role="autoencoder",
        arch="conv1d",
        layout="NCW",
        inputs=(TensorSpec("input", (None, 2, 64)),),
        outputs=(
            TensorSpec("reconstruction", (None, 2, 64)),
            TensorSpec("latent", (None, 8, 8)),
        ),
        item_shape=(2, 64),
        latent_shape=(8, 8),
        provenance=Provenance(fingerprint="sha256:00", versions={"torch": "2.13.0"}),
        preprocessing=Preprocessing(offset=(0.1, -0.2), scale=(2.0, 3.0)),
        signal=SignalSpec(sample_rate=16000, channels=2, window=64, hop=32),
        anomaly=AnomalySpec(threshold=0.25, percentile=99.0),
        quantization=QuantizationSpec(mode="static", excluded_nodes=("/dec/Conv",)),
        codec=CodecSpec(bits=8, scale=(0.5,) * 8, zero_point=(0,) * 8),
    )
    base.update(changes)
    return Manifest(**base)  # type: ignore[arg-type]


def test_json_round_trip_is_exact() -> None:
    m = make_manifest()
    assert Manifest.from_json(m.to_json()) == m
    assert json.loads(m.to_json())["schema_version"] == 1


def test_a_file_is_written_with_the_lowest_version_that_holds_it() -> None:
    """Version 2 only once ``execution`` is set, so older runtimes open everything else."""
    from edgeae_runtime.manifest import ExecutionAdvice

    plain = make_manifest()
    advice = ExecutionAdvice(provider="openvino", batch=256, threads=1, speedup=1.5)
    advised = plain.replace(execution=advice)
    assert json.loads(advised.to_json())["schema_version"] == 2
    assert Manifest.from_json(advised.to_json()).execution == advice
    assert json.loads(advised.replace(execution=None).to_json())["schema_version"] == 1
    data = advised.to_dict()
    data["schema_version"] = 1
    with pytest.raises(ManifestError, match="fields need version 2"):
        Manifest.from_dict(data)
    data["schema_version"], data["execution"]["speedup"] = 2, 0.0
    with pytest.raises(ManifestError, match=r"manifest\.execution"):
        Manifest.from_dict(data)
    data["execution"]["speedup"], data["execution"]["provider"] = 1.2, "cuda"
    with pytest.raises(ManifestError, match=r"manifest\.execution\.provider"):
        Manifest.from_dict(data)


def test_the_accuracy_threshold_method_needs_version_3() -> None:
    """A runtime reading 1..2 refuses an accuracy-optimal threshold by the file's version."""
    from edgeae_runtime import AnomalySpec

    m = make_manifest(anomaly=AnomalySpec(threshold=0.5, method="accuracy"))
    assert json.loads(m.to_json())["schema_version"] == 3
    assert Manifest.from_json(m.to_json()).anomaly.method == "accuracy"
    youden = m.replace(anomaly=AnomalySpec(threshold=0.5, method="youden"))
    assert json.loads(youden.to_json())["schema_version"] == 1
    data = m.to_dict()
    data["schema_version"] = 2
    with pytest.raises(ManifestError, match="fields need version 3"):
        Manifest.from_dict(data)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("signal", "hop"), 65, "manifest.signal.hop"),
        (("codec", "bits"), 3, "manifest.codec.bits"),
        (("layout",), "NHWC", "manifest.layout"),
        (("preprocessing", "scale"), [1.0, 0.0], "manifest.preprocessing.scale"),
        (("anomaly", "threshold"), "high", "manifest.anomaly.threshold"),
        (("anomaly", "tails"), "lower", "manifest.anomaly.tails"),
        (("anomaly", "center"), float("nan"), "manifest.anomaly.center"),
        (("item_shape",), [64], "manifest.item_shape"),
        (("schema_version",), 10, "schema_version"),
        (("schema_version",), True, "schema_version"),
        (("surprise",), 1, "unknown field"),
    ],
)
def test_invalid_fields_are_named(path: tuple[str, ...], value: object, message: str) -> None:
    data = make_manifest().to_dict()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ManifestError, match=message):
        Manifest.from_dict(data)


def test_two_sided_anomaly_round_trip() -> None:
    spec = AnomalySpec(threshold=0.7, percentile=99.5, tails="both", center=-3.25)
    m = make_manifest(anomaly=spec)
    back = Manifest.from_json(m.to_json())
    assert back.anomaly == spec
    assert json.loads(m.to_json())["anomaly"]["tails"] == "both"


def test_anomaly_without_tails_reads_as_upper() -> None:
    """Manifests written before ``tails``/``center`` existed stay valid (schema version 1)."""
    data = make_manifest().to_dict()
    del data["anomaly"]["tails"], data["anomaly"]["center"]
    anomaly = Manifest.from_dict(data).anomaly
    assert anomaly is not None and (anomaly.tails, anomaly.center) == ("upper", 0.0)


def test_missing_required_field_is_named() -> None:
    data = make_manifest().to_dict()
    del data["provenance"]["fingerprint"]
    with pytest.raises(ManifestError, match=r"manifest\.provenance\.fingerprint: required"):
        Manifest.from_dict(data)


def test_not_json() -> None:
    with pytest.raises(ManifestError, match="not valid JSON"):
        Manifest.from_json("{oops")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=2, max_size=2),
    st.lists(st.floats(0.1, 5), min_size=2, max_size=2),
    st.integers(0, 2**31 - 1),
)
def test_normalize_then_denormalize_is_identity(
    offset: list[float], scale: list[float], seed: int
) -> None:
    pre = Preprocessing(offset=tuple(offset), scale=tuple(scale))
    x = np.random.default_rng(seed).normal(size=(3, 2, 16)).astype(np.float32)
    np.testing.assert_allclose(denormalize(normalize(x, pre), pre), x, rtol=1e-5, atol=1e-5)


def test_per_channel_normalization_uses_channel_axis() -> None:
    pre = Preprocessing(offset=(1.0, 10.0), scale=(1.0, 2.0))
    x = np.stack([np.full((4,), 1.0), np.full((4,), 12.0)])[None]
    np.testing.assert_allclose(normalize(x, pre), np.stack([np.zeros(4), np.ones(4)])[None])


def test_denormalize_clips_to_manifest_range() -> None:
    pre = Preprocessing(offset=(0.0,), scale=(16.0,), clip=(0.0, 16.0))
    out = denormalize(np.array([[-0.5, 0.5, 1.5]]), pre)
    np.testing.assert_allclose(out, [[0.0, 8.0, 16.0]])


def test_a_sensor_log_law_needs_version_4_and_one_column_per_channel() -> None:
    from edgeae_runtime.manifest import SensorLogSpec

    law = SensorLogSpec(columns=("a", "b"), period=1.0, max_gap=2.0, hop=32)
    m = make_manifest(sensorlog=law)
    assert json.loads(m.to_json())["schema_version"] == 4
    assert Manifest.from_json(m.to_json()).sensorlog == law
    with pytest.raises(ManifestError, match=r"manifest\.sensorlog\.columns: 3 columns"):
        make_manifest(sensorlog=SensorLogSpec(columns=("a", "b", "c"), period=1.0, max_gap=2.0,
                                              hop=32))  # fmt: skip
    with pytest.raises(ManifestError, match=r"manifest\.sensorlog: needs period > 0"):
        make_manifest(sensorlog=SensorLogSpec(columns=("a", "b"), period=0.0, max_gap=2.0, hop=32))


def test_flat_signal_windows_need_version_6_and_items_they_make() -> None:
    """``windows`` says how items were cut from a signal when no signal section can (flat NF
    windows of a dense model, signals without a rate); older manifests load as before."""
    from edgeae_runtime.manifest import WindowSpec

    flat = make_manifest(
        arch="dense", layout="NF", inputs=(TensorSpec("input", (None, 128)),),
        outputs=(TensorSpec("reconstruction", (None, 128)), TensorSpec("latent", (None, 8))),
        item_shape=(128,), latent_shape=(8,), preprocessing=Preprocessing(), signal=None,
        codec=None,
    )  # fmt: skip
    old = flat.to_dict()
    # unset: no key, the file a runtime before version 6 (2, 4: execution, sensorlog) reads
    assert not {"windows", "execution", "sensorlog"} & set(old)
    assert Manifest.from_dict(old) == flat and flat.schema_version == 1
    m = flat.replace(windows=WindowSpec(window=64, hop=8))  # 2 channels x 64 samples
    assert json.loads(m.to_json())["schema_version"] == 6
    assert Manifest.from_json(m.to_json()).windows == WindowSpec(64, 8)
    data = m.to_dict()
    data["schema_version"] = 5
    with pytest.raises(ManifestError, match="fields need version 6"):
        Manifest.from_dict(data)
    with pytest.raises(ManifestError, match=r"manifest\.windows\.window: 48 samples"):
        flat.replace(windows=WindowSpec(window=48, hop=8))  # 128 is no whole number of 48
    with pytest.raises(ManifestError, match=r"manifest\.windows\.hop"):
        flat.replace(windows=WindowSpec(window=64, hop=65))
    with pytest.raises(ManifestError, match=r"manifest\.windows: the signal section"):
        make_manifest(windows=WindowSpec(window=64, hop=32))  # the signal says it already
    ncw = make_manifest(signal=None, codec=None, windows=WindowSpec(window=64, hop=16))
    assert ncw.schema_version == 6  # a signal without a sample rate
