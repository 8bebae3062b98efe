"""The optional OpenVINO path: same outputs as onnxruntime on the same file, a clear error
without the extra. Skips the OpenVINO runs when the ``openvino`` package is absent."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from edgeae_runtime.errors import ParameterError
from edgeae_runtime.model import Model
from tests.runtime.onnx_models import make_autoencoder, make_data, make_triplet


def _have_openvino() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


needs_ov = pytest.mark.skipif(not _have_openvino(), reason="openvino extra not installed")


@needs_ov
@pytest.mark.parametrize("kind", ["dense", "conv1d"])
def test_openvino_reconstructs_like_onnxruntime(kind: str, tmp_path: Path) -> None:
    path = make_autoencoder(tmp_path / "model.onnx", kind=kind)
    ort_model, ov_model = Model(path), Model(path, providers=["openvino"])
    assert ov_model.session.get_providers() == ["openvino"]
    x = np.random.default_rng(0).normal(size=(5, *ort_model.manifest.item_shape))
    x = x.astype(np.float32)
    np.testing.assert_allclose(ov_model.reconstruct(x), ort_model.reconstruct(x), atol=1e-4)
    np.testing.assert_allclose(ov_model.encode(x), ort_model.encode(x), atol=1e-4)
    # a second batch size compiles a second shape; the first is reused
    y = ov_model.reconstruct(x[:2])
    np.testing.assert_allclose(y, ort_model.reconstruct(x[:2]), atol=1e-4)


@needs_ov
def test_openvino_runs_edgeae_int8_qdq_file(tmp_path: Path) -> None:
    from edgeae_export.quantize import QuantizeRequest, quantize_model

    tri = make_triplet(tmp_path, "qconv1d", width=16)
    out = tmp_path / "model.int8.onnx"
    data = make_data("conv1d", 128)
    quantize_model(QuantizeRequest(tri.autoencoder, out, mode="static", calibration=data,
                                   speed_gate=False, force=True))
    a, b = Model(out), Model(out, providers=["openvino"])
    x = make_data("conv1d", 16, seed=3)
    ya, yb = a.reconstruct(x), b.reconstruct(x)
    # both run int8 kernels with their own rounding: close, not identical
    assert np.abs(ya - yb).max() < 0.05 * np.abs(ya).max()


def test_without_the_extra_the_error_names_it(tmp_path: Path, monkeypatch) -> None:
    path = make_autoencoder(tmp_path / "model.onnx", kind="dense")
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino -> ImportError
    with pytest.raises(ParameterError, match=r"edgeae-runtime\[openvino\]") as info:
        Model(path, providers=["openvino"])
    assert info.value.param == "providers"


@needs_ov
def test_rt_bench_openvino_flag_recommends_by_the_median_round(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from edgeae_runtime.cli import main

    path = make_autoencoder(tmp_path / "model.onnx", kind="dense")
    result = CliRunner().invoke(
        main,
        ["bench", "-m", str(path), "--openvino", "--json", "--no-memory", "--seconds", "0",
         "--budget", "0.03", "--batch", "1,4", "--threads", "1"],
    )
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)[0]["providers"]
    assert [(r["batch"], r["threads"]) for r in rows] == [(1, 1), (4, 1)]
    for r in rows:
        assert r["onnxruntime_us"] > 0 and r["openvino_us"] > 0
        assert r["recommended"] == ("openvino" if r["openvino_speedup"] > 1.1 else "onnxruntime")


def test_compare_providers_without_the_extra_names_it(tmp_path: Path, monkeypatch) -> None:
    from edgeae_runtime.ov_backend import compare_providers

    path = make_autoencoder(tmp_path / "model.onnx", kind="dense")
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(ParameterError, match=r"edgeae-runtime\[openvino\]") as info:
        compare_providers(path, [1])
    assert info.value.param == "openvino"


def _advised(tmp_path: Path, provider: str) -> Path:
    """A model file whose manifest recommends ``provider`` (as ``edgeae bench --record``)."""
    import onnx  # not edgeae_export: these tests run on the ARM check's runtime-only venv

    from edgeae_runtime.manifest import MANIFEST_KEY, ExecutionAdvice

    path = make_autoencoder(tmp_path / f"{provider}.onnx", kind="dense")
    advice = ExecutionAdvice(provider=provider, batch=8, threads=1, speedup=1.3)
    manifest = Model(path).manifest.replace(execution=advice)
    proto = onnx.load(str(path))
    for prop in proto.metadata_props:
        if prop.key == MANIFEST_KEY:
            prop.value = manifest.to_json()
    onnx.save(proto, str(path))
    return path


@needs_ov
def test_recommended_providers_follow_the_manifest(tmp_path: Path) -> None:
    ov = Model(_advised(tmp_path, "openvino"), providers="recommended")
    assert ov.session.get_providers() == ["openvino"]
    cpu = Model(_advised(tmp_path, "onnxruntime"), providers="recommended")
    assert cpu.session.get_providers() == ["CPUExecutionProvider"]
    x = np.random.default_rng(0).normal(size=(4, *ov.manifest.item_shape)).astype(np.float32)
    np.testing.assert_allclose(ov.reconstruct(x), cpu.reconstruct(x), atol=1e-4)


def test_recommendation_without_the_extra_falls_back_to_the_cpu(
    tmp_path: Path, monkeypatch
) -> None:
    path = _advised(tmp_path, "openvino")
    monkeypatch.setitem(sys.modules, "openvino", None)
    model = Model(path, providers="recommended")
    assert model.session.get_providers() == ["CPUExecutionProvider"]
    assert model.manifest.execution is not None and model.manifest.execution.provider == "openvino"


def test_providers_as_a_bare_string_is_refused(tmp_path: Path) -> None:
    path = make_autoencoder(tmp_path / "model.onnx", kind="dense")
    with pytest.raises(ParameterError, match="providers"):
        Model(path, providers="openvino")  # type: ignore[arg-type]


def test_info_shows_the_recommendation(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from edgeae_runtime.cli import main

    result = CliRunner().invoke(main, ["info", "-m", str(_advised(tmp_path, "openvino"))])
    assert result.exit_code == 0, result.output
    assert "openvino recommended at batch 8, 1 thread(s) (openvino 1.30x" in result.output
