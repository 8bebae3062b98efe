"""Golden files: a small stream in tests/expected/ must keep decoding to the stored samples.

The stream was made by a tiny conv1d model with fixed weights (built here with
onnx.helper) and a fixed CodecSpec. Regenerate only on purpose, after a
deliberate format change (and a FORMAT_VERSION bump):
``GENERATE_EXPECTED=1 pytest tests/runtime/codec/test_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgeae_runtime import CodecSpec
from edgeae_runtime.codec import compress, decompress
from edgeae_runtime.codec.format import parse_header
from edgeae_runtime.model import Model
from tests.runtime.onnx_models import make_triplet

EXPECTED = Path(__file__).resolve().parents[2] / "expected"
STREAM = EXPECTED / "codec_conv1d_v1.eae"
SAMPLES = EXPECTED / "codec_conv1d_v1.npy"
CODEC = CodecSpec(bits=8, scale=(0.02, 0.03, 0.01, 0.02), zero_point=(0, 0, 0, 0))


@pytest.fixture(scope="module")
def golden_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Model]:
    d = tmp_path_factory.mktemp("golden")
    _, enc, dec = make_triplet(
        d, kind="conv1d", window=32, hop=16, seed=7, codec=CODEC, fingerprint="sha256:golden-v1"
    )
    return Model(enc), Model(dec)


def golden_signal() -> np.ndarray:
    t = np.arange(200) / 16000
    return (0.4 * np.sin(2 * np.pi * 300 * t) + 0.2 * np.sin(2 * np.pi * 1100 * t))[None].astype(
        np.float32
    )


def test_golden_stream(golden_models) -> None:
    enc, dec = golden_models
    data = compress(enc, golden_signal(), entropy=False)
    if os.environ.get("GENERATE_EXPECTED") == "1":
        EXPECTED.mkdir(exist_ok=True)
        STREAM.write_bytes(data)
        np.save(SAMPLES, decompress(dec, data), allow_pickle=False)
        pytest.skip("golden files regenerated; review and commit them")
    if not STREAM.exists():
        pytest.fail(f"{STREAM} is missing; run with GENERATE_EXPECTED=1 once and commit it")
    golden = STREAM.read_bytes()
    np.testing.assert_allclose(decompress(dec, golden), np.load(SAMPLES), atol=1e-5)
    # The encoder still writes the same format: identical header, frame layout and length.
    header_len = parse_header(golden)[1]
    assert data[:header_len] == golden[:header_len]
    assert len(data) == len(golden)
    assert np.mean(np.frombuffer(data, np.uint8) != np.frombuffer(golden, np.uint8)) < 0.01
