"""The speed gate, with injected timings (no clock): refusal, override, suggestions."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from edgeae_export import QuantizeRequest, SpeedGateError, quantize_model
from edgeae_export.speed import check_speed, suggestions_for

from .models import make_data


def _slow(which: str, model: bytes, batch: int) -> float:
    return 100.0 * batch if which == "float" else 150.0 * batch


def test_refuses_slower_model_and_writes_nothing(triplets, tmp_path: Path) -> None:
    out = tmp_path / "q.onnx"
    with pytest.raises(SpeedGateError, match=r"not faster.*batch 256.*`allow_slower`"):
        quantize_model(
            QuantizeRequest(
                triplets["dense"]["autoencoder"],
                out,
                mode="static",
                calibration=make_data("dense", 64),
                measure=_slow,
            )
        )
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_allow_slower_writes_and_warns(triplets, tmp_path: Path) -> None:
    r = quantize_model(
        QuantizeRequest(
            triplets["conv1d"]["autoencoder"],
            tmp_path / "q.onnx",
            mode="dynamic",
            measure=_slow,
            allow_slower=True,
        )
    )
    assert r.path.exists() and r.speed is not None and not r.speed.faster
    assert r.speed.speedup(256) == pytest.approx(100 / 150)
    assert any(w.startswith("SLOWER") for w in r.warnings)
    assert any("ConvInteger" in s for s in r.speed.suggestions)


def _static_dense(triplets, tmp_path: Path, measure) -> object:
    """Static-quantize the dense triplet's model with the injected timer ``measure``."""
    return quantize_model(
        QuantizeRequest(
            triplets["dense"]["autoencoder"],
            tmp_path / "q.onnx",
            mode="static",
            calibration=make_data("dense", 64),
            measure=measure,
        )
    )


def test_faster_model_passes(triplets, tmp_path: Path, no_timing) -> None:
    r = _static_dense(triplets, tmp_path, no_timing)
    assert r.speed is not None and r.speed.faster and r.speed.speedup(1) == pytest.approx(2.0)
    assert r.speed.suggestions == ()


def test_float_faster_at_batch_one_is_said(triplets, tmp_path: Path) -> None:
    def slow_small(which: str, _m: bytes, batch: int) -> float:
        return (20.0 if which == "float" else 30.0) if batch == 1 else (
            100.0 * batch if which == "float" else 50.0 * batch
        )

    r = _static_dense(triplets, tmp_path, slow_small)
    assert r.path.exists() and r.speed is not None and r.speed.faster
    assert r.speed.float_faster() == (1,) and r.speed.to_dict()["float_faster"] == [1]
    assert any(w.startswith("at batch 1 the float model is faster") for w in r.warnings)


def test_within_ten_percent_is_not_float_faster(triplets, tmp_path: Path) -> None:
    def close(which: str, _m: bytes, batch: int) -> float:
        return 100.0 * batch if which == "float" else (105.0 if batch == 1 else 50.0 * batch)

    r = _static_dense(triplets, tmp_path, close)
    assert r.speed is not None and r.speed.float_faster() == ()
    assert not any("float model is faster" in w for w in r.warnings)


def test_verdict_is_taken_at_the_largest_batch() -> None:
    model = onnx.ModelProto()

    def fast_small_slow_big(which: str, _m: bytes, batch: int) -> float:
        if which == "float":
            return 100.0 * batch
        return 10.0 if batch == 1 else 101.0 * batch

    with pytest.raises(SpeedGateError):
        check_speed(model, model, mode="static", batches=(1, 64), measure=fast_small_slow_big)
    r = check_speed(
        model, model, mode="static", batches=(64, 1), measure=fast_small_slow_big, allow_slower=True
    )
    assert r.batches == (1, 64) and not r.faster


def test_suggestions_name_convtranspose(triplets) -> None:
    model = onnx.load(str(triplets["conv2d"]["autoencoder"]))
    tips = suggestions_for(model, "static")
    assert "upsample" in tips[0]
