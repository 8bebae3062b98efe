"""compare_models on tiny float and QDQ int8 models: every number, the verdict, the bad inputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeae_export.compare import (
    HIGHER_IS_BETTER,
    Comparison,
    ModelStats,
    QualityStats,
    compare_models,
    make_verdict,
)
from edgeae_runtime.errors import InputError, ModelError
from tests.export.compare_support import break_activation, copy_codec, labeled_data, quantize_qdq
from tests.export.quantize.models import make_data
from tests.runtime.onnx_models import make_triplet

FAST = {"measure_memory": False, "batches": (1, 8), "latency_budget_s": 0.01}


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    d = tmp_path_factory.mktemp("dense")
    a = make_triplet(d, "qdense", anomaly=True)["autoencoder"]
    x = make_data("dense", 256)
    return a, quantize_qdq(a, d / "model.int8.onnx", x), x


@pytest.fixture(scope="module")
def conv2d(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    d = tmp_path_factory.mktemp("conv2d")
    a = make_triplet(d, "qconv2d")["autoencoder"]
    x = make_data("conv2d", 128)
    b = quantize_qdq(a, d / "model.int8.onnx", x)
    copy_codec(d, "int8")
    return a, b, x


def test_float_vs_int8_numbers(dense: tuple[Path, Path, np.ndarray]) -> None:
    a, b, x = dense
    c = compare_models(a, b, x, **FAST)
    assert c.task == "reconstruction" and c.items == 256
    assert c.a.quantization == "float32" and c.b.quantization.startswith("static")
    assert c.a.quality.psnr > 40  # the PCA-initialised model reconstructs well
    assert 0 < c.a.quality.mse < c.b.quality.mse  # int8 costs a little
    assert c.a.quality.ssim is None and c.a.quality.snr_db is None  # 32 features: no image
    assert c.output_difference.mse > 0
    assert c.b.size_bytes < c.a.size_bytes
    assert [lat.batch for lat in c.a.latency] == [1, 8]
    assert all(lat.p99_us >= lat.median_us > 0 for lat in c.a.latency + c.b.latency)
    assert c.verdict.metric == "psnr" and c.verdict.max_drop is None and c.passed
    assert any("codec" in n for n in c.notes)
    assert c.nodes and all(n.op_type == "Gemm" for n in c.nodes)
    assert c.details is not None and c.details.error_a.shape == (256,)
    data = json.loads(json.dumps(c.to_dict()))
    assert data["verdict"]["line"].startswith("NO BUDGET")
    assert data["a"]["latency"][0]["items_per_s"] > 0
    assert "details" not in data


def test_verdict_gates_on_the_budget(dense: tuple[Path, Path, np.ndarray]) -> None:
    a, b, x = dense
    loose = compare_models(a, b, x, max_drop=50.0, per_node=False, **FAST)
    drop = loose.verdict.drop
    assert loose.passed and loose.verdict.line.startswith("PASS")
    assert drop == pytest.approx(loose.a.quality.psnr - loose.b.quality.psnr)
    tight = compare_models(a, b, x, max_drop=drop / 2, per_node=False, **FAST)
    assert not tight.passed and tight.verdict.line.startswith("FAIL")
    mse = compare_models(a, b, x, metric="mse", max_drop=0.0, per_node=False, **FAST)
    assert mse.verdict.drop == pytest.approx(mse.b.quality.mse - mse.a.quality.mse)
    assert not mse.passed


def _stats(value: float) -> ModelStats:
    q = QualityStats(mse=value, mae=value, psnr=value, snr_db=value, ssim=value)
    return ModelStats(path="m.onnx", size_bytes=1, quantization="float32", quality=q)


@given(
    st.sampled_from(["psnr", "ssim", "snr_db", "mse", "mae"]),
    st.floats(-100, 100),
    st.floats(-100, 100),
    st.floats(0, 50),
)
def test_verdict_law(metric: str, va: float, vb: float, budget: float) -> None:
    """A drop is "how much worse B is": positive when B is worse, whatever the metric's sense."""
    v = make_verdict(_stats(va), _stats(vb), metric, budget)
    worse = (vb < va) if HIGHER_IS_BETTER.get(metric, False) else (vb > va)
    assert (v.drop > 0) == worse
    assert math.isclose(abs(v.drop), abs(va - vb), abs_tol=1e-9)
    assert v.passed == (v.drop <= budget)


def test_labeled_anomaly_metrics(dense: tuple[Path, Path, np.ndarray]) -> None:
    a, b, x = dense
    xl, labels = labeled_data(x)
    c = compare_models(a, b, xl, labels=labels, per_node=False, **FAST)
    assert c.task == "anomaly" and c.verdict.metric == "auroc"
    for s in (c.a.anomaly, c.b.anomaly):
        assert s is not None
        assert s.auroc > 0.9  # spiky items reconstruct badly
        assert s.threshold == 1.0 and s.threshold_source == "manifest"
        assert 0 <= s.precision <= 1 and 0 <= s.recall <= 1 and 0 <= s.f1 <= 1
    assert c.flags_agree is not None and c.flags_agree > 0.9 * c.items
    assert c.details is not None and c.details.scores_a is not None
    single = compare_models(a, b, x, labels=np.zeros(len(x)), per_node=False, **FAST)
    assert single.task == "reconstruction" and any("single class" in n for n in single.notes)


def test_broken_node_is_reported_first(
    dense: tuple[Path, Path, np.ndarray], tmp_path: Path
) -> None:
    """Coarsen one activation's quantization scale: the per-node report must name it first."""
    a, b, x = dense
    clean = compare_models(a, b, x, **FAST).nodes
    victim = clean[-1]  # the node that hurt least
    broken = tmp_path / "model.int8.onnx"
    broken.write_bytes(b.read_bytes())
    break_activation(broken, victim.output, factor=64.0)
    nodes = compare_models(a, broken, x, **FAST).nodes
    assert nodes[0].name == victim.name
    assert nodes[0].harm_db > clean[0].harm_db + 10


def test_codec_and_ssim_for_images(conv2d: tuple[Path, Path, np.ndarray]) -> None:
    a, b, x = conv2d
    c = compare_models(a, b, x, per_node=False, **FAST)
    assert c.a.quality.ssim is not None and -1 <= c.a.quality.ssim <= 1
    for codec in (c.a.codec, c.b.codec):
        assert codec is not None and codec.bytes_per_item is not None
        assert 0 < codec.bytes_per_item < x[0].nbytes  # smaller than float32 pixels
        assert codec.psnr is not None and np.isfinite(codec.psnr)
    assert c.b.codec is not None and c.b.codec.encoder == "encoder.int8.onnx"


def test_peak_memory_is_measured_in_a_subprocess(dense: tuple[Path, Path, np.ndarray]) -> None:
    a, b, x = dense
    c = compare_models(a, b, x[:16], per_node=False, batches=(1,), latency_budget_s=0.01)
    for s in (c.a, c.b):
        assert s.peak_rss_mb is not None and 10 < s.peak_rss_mb < 4096
        assert s.load_s is not None and s.load_s > 0


def test_not_qdq_skips_per_node_with_a_note(dense: tuple[Path, Path, np.ndarray]) -> None:
    a, _, x = dense
    c = compare_models(a, a, x, **FAST)
    assert c.nodes == () and any("no QDQ nodes" in n for n in c.notes)
    assert c.output_difference.mse == 0.0 and c.verdict.drop == 0.0


def test_bad_inputs(
    dense: tuple[Path, Path, np.ndarray], conv2d: tuple[Path, Path, np.ndarray], tmp_path: Path
) -> None:
    a, b, x = dense
    with pytest.raises(InputError, match="different inputs"):
        compare_models(a, conv2d[0], x, **FAST)
    with pytest.raises(InputError, match="items of shape"):
        compare_models(a, b, x[:, :16], **FAST)
    with pytest.raises(InputError, match="labels for"):
        compare_models(a, b, x, labels=np.zeros(3), **FAST)
    junk = tmp_path / "junk.onnx"
    junk.write_text("not a model")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        compare_models(a, junk, x, **FAST)
    with pytest.raises(ModelError, match="no such file"):
        compare_models(tmp_path / "missing.onnx", b, x, **FAST)
    with pytest.raises(ModelError, match="is the encoder"):
        compare_models(a.with_name("encoder.onnx"), b, x, **FAST)
    with pytest.raises(InputError, match="needs labeled data"):
        compare_models(a, b, x, metric="auroc", **FAST)


def test_comparison_is_a_plain_result(dense: tuple[Path, Path, np.ndarray]) -> None:
    a, b, x = dense
    c = compare_models(a, b, x[:32], max_items=16, per_node=False, **FAST)
    assert isinstance(c, Comparison) and c.items == 16


def test_codec_on_a_continuous_signal(tmp_path: Path) -> None:
    """Signal data (windows plus the signal they came from): bytes per second and SNR."""
    from types import SimpleNamespace

    model, _, _ = make_triplet(tmp_path, kind="conv1d", window=32, hop=16)
    rng = np.random.default_rng(0)
    signal = np.sin(np.linspace(0, 200, 16000))[None].astype(np.float32)
    signal += 0.01 * rng.standard_normal(signal.shape).astype(np.float32)
    windows = np.stack([signal[:, i : i + 32] for i in range(0, 16000 - 32, 16)])
    data = SimpleNamespace(x=windows, layout="NCW", signal=signal, sample_rate=16000, name="sine")
    c = compare_models(model, model, data, per_node=False, **FAST)
    assert c.a.quality.snr_db is not None and c.data == "sine"
    assert c.a.codec is not None and c.a.codec.bytes_per_second is not None
    assert 0 < c.a.codec.bytes_per_second < 16000 * 4  # less than float32 samples
    assert c.a.codec.snr_db is not None and np.isfinite(c.a.codec.snr_db)


def test_item_labels_are_not_anomaly_labels(dense: tuple[Path, Path, np.ndarray]) -> None:
    """A Dataset's class labels (digits) are ignored; its anomaly labels are used."""
    from types import SimpleNamespace

    a, b, x = dense
    xl, labels = labeled_data(x)
    classes = SimpleNamespace(x=xl, labels=labels, anomaly_labels=None, layout="NF", name="d")
    assert compare_models(a, b, classes, per_node=False, **FAST).task == "reconstruction"
    signal = SimpleNamespace(x=xl, labels=labels, anomaly_labels=labels, layout="NF", name="s")
    assert compare_models(a, b, signal, per_node=False, **FAST).task == "anomaly"
