"""Every bad input: one clear error, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae_export import (
    CalibrationError,
    ExportError,
    QuantizationError,
    QuantizeRequest,
    quantize_model,
)
from edgeae_runtime.errors import EdgeAEError, ManifestError

from .models import make_data


def _no_files(d: Path) -> None:
    assert [p.name for p in d.iterdir()] == []


def test_not_onnx(tmp_path: Path) -> None:
    bad = tmp_path / "in" / "model.onnx"
    bad.parent.mkdir()
    bad.write_bytes(b"this is not a protobuf \x00\xff" * 10)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="not an ONNX model"):
        quantize_model(QuantizeRequest(bad, out / "q.onnx", mode="dynamic"))
    _no_files(out)


def test_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such file"):
        quantize_model(QuantizeRequest(tmp_path / "nope.onnx", tmp_path / "q.onnx", mode="dynamic"))


def test_no_manifest_names_missing_fields(triplets, tmp_path: Path) -> None:
    import onnx

    model = onnx.load(str(triplets["dense"]["autoencoder"]))
    del model.metadata_props[:]
    src = tmp_path / "bare.onnx"
    onnx.save(model, src)
    with pytest.raises(ManifestError, match=r"no edgeae manifest.*item_shape"):
        quantize_model(QuantizeRequest(src, tmp_path / "q.onnx", mode="dynamic"))
    assert not (tmp_path / "q.onnx").exists()


def test_wrong_calibration_shape(triplets, tmp_path: Path, no_timing) -> None:
    with pytest.raises(CalibrationError, match=r"cal\.npy: items have shape \(16,\).*\(32,\)"):
        quantize_model(
            QuantizeRequest(
                triplets["dense"]["autoencoder"],
                tmp_path / "q.onnx",
                calibration=np.zeros((10, 16), np.float32),
                calibration_name="cal.npy",
                measure=no_timing,
            )
        )
    _no_files(tmp_path)


def test_static_without_calibration(triplets, tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match=r"^calibration: ") as caught:
        quantize_model(
            QuantizeRequest(triplets["dense"]["autoencoder"], tmp_path / "q.onnx", mode="static")
        )
    assert caught.value.param == "calibration" and "--" not in str(caught.value)


def test_output_in_missing_directory(triplets, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "q.onnx"
    with pytest.raises(ExportError, match="does not exist"):
        quantize_model(QuantizeRequest(triplets["dense"]["autoencoder"], out, mode="dynamic"))
    assert not out.parent.exists()


def test_existing_output_needs_force(triplets, tmp_path: Path, no_timing) -> None:
    out = tmp_path / "q.onnx"
    out.write_bytes(b"keep me")
    with pytest.raises(ExportError, match="use `force` to overwrite"):
        quantize_model(
            QuantizeRequest(
                triplets["dense"]["autoencoder"], out, mode="dynamic", measure=no_timing
            )
        )
    assert out.read_bytes() == b"keep me"
    r = quantize_model(
        QuantizeRequest(
            triplets["dense"]["autoencoder"], out, mode="dynamic", measure=no_timing, force=True
        )
    )
    assert r.path == out and out.read_bytes() != b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.onnx"]  # no temp file left


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mode": "int4"}, "^mode: must be one of"),
        ({"method": "kl"}, "^method: must be one of"),
        ({"exclude": ("no_such_node",)}, "^exclude: no_such_node: no node"),
        ({"activation_type": "QInt4"}, "activation_type"),
        ({"calibration_size": 0}, "calibration size"),
    ],
)
def test_bad_options(triplets, tmp_path: Path, kwargs, match) -> None:
    with pytest.raises(EdgeAEError, match=match):
        quantize_model(
            QuantizeRequest(
                triplets["dense"]["autoencoder"],
                tmp_path / "q.onnx",
                calibration=make_data("dense", 16),
                **{"mode": "static", **kwargs},
            )
        )
    _no_files(tmp_path)


def test_budget_on_decoder_is_refused(triplets, tmp_path: Path, no_timing) -> None:
    from edgeae_export import Validation

    z = np.zeros((8, 6), np.float32)
    with pytest.raises(QuantizationError, match="full autoencoder"):
        quantize_model(
            QuantizeRequest(
                triplets["dense"]["decoder"],
                tmp_path / "q.onnx",
                calibration=z,
                max_drop=0.1,
                validation=Validation(make_data("dense", 8)),
                measure=no_timing,
            )
        )
