"""Fixtures for the quantizer tests: tiny float models (built once per session) and their data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime.onnx_models import make_triplet


@pytest.fixture(scope="session")
def triplets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """model/encoder/decoder files for dense, conv1d (upsample) and conv2d (ConvTranspose)."""
    out = {}
    for kind, decoder in (("dense", "upsample"), ("conv1d", "upsample"), ("conv2d", "transpose")):
        d = tmp_path_factory.mktemp(kind)
        out[kind] = make_triplet(d, f"q{kind}", decoder=decoder, width=32)
    d = tmp_path_factory.mktemp("anomaly")
    out["anomaly"] = make_triplet(d, "qdense", anomaly=True)
    return out


@pytest.fixture
def no_timing() -> object:
    """A speed-gate timer that says the quantized model is twice as fast (no clock involved)."""

    def measure(which: str, model: bytes, batch: int) -> float:
        return 100.0 * batch if which == "float" else 50.0 * batch

    return measure
