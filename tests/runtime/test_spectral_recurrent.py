"""A recurrent spectral model (``spectral.state``): the latent fed back as the next item's
state column, the chunking law, a state that restarts with the stream, manifest bounds."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime import Manifest, ManifestError, Model, SignalSpec
from edgeae_runtime.framing import frame_signal
from edgeae_runtime.manifest import MANIFEST_KEY, Provenance, SpectralSpec, TensorSpec
from edgeae_runtime.spectral import (
    SpectralDenoiser,
    compress,
    denoise_spectral_offline,
    run_recurrent,
    spectral_items,
    stft_frames,
)
from tests.runtime.chunks import stream_in_chunks

LAWS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WINDOW, HOP, H = 32, 16, 4
BINS = WINDOW // 2 + 1
RNG = np.random.default_rng(0)
W_IN = (RNG.standard_normal((H, BINS, 1)) * 0.3).astype(np.float32)
W_REC = (RNG.standard_normal((H, H, 1)) * 0.8).astype(np.float32)
W_OUT = (RNG.standard_normal((BINS, H, 1)) * 0.8).astype(np.float32)


def _manifest(**over) -> dict:
    m = Manifest(
        role="autoencoder",
        arch="spectral",
        layout="NCW",
        inputs=(TensorSpec("input", (None, BINS, 2)),),
        outputs=(TensorSpec("reconstruction", (None, BINS, 1)), TensorSpec("latent", (None, H, 1))),
        item_shape=(BINS, 2),
        latent_shape=(H, 1),
        provenance=Provenance(fingerprint="test"),
        signal=SignalSpec(sample_rate=16000, channels=1, window=WINDOW, hop=HOP),
        spectral=SpectralSpec(fft_size=WINDOW, context_frames=1, state=H),
    ).to_dict()
    m.update(over)
    return m


@pytest.fixture(scope="module")
def recurrent(tmp_path_factory: pytest.TempPathFactory) -> Model:
    """latent = tanh(W_in . frame + W_rec . state); mask = sigmoid(W_out . latent)."""
    c = [
        numpy_helper.from_array(np.array(v, np.int64), n)
        for n, v in [("s0", [0]), ("s1", [1]), ("sh", [H]), ("s2", [2]), ("ax1", [1]), ("ax2", [2])]
    ]
    inits = [
        *c,
        numpy_helper.from_array(W_IN, "w_in"),
        numpy_helper.from_array(W_REC, "w_rec"),
        numpy_helper.from_array(W_OUT, "w_out"),
    ]
    nodes = [
        helper.make_node("Slice", ["input", "s0", "s1", "ax2"], ["frame"]),
        helper.make_node("Slice", ["input", "s1", "s2", "ax2"], ["col"]),
        helper.make_node("Slice", ["col", "s0", "sh", "ax1"], ["state"]),
        helper.make_node("Conv", ["frame", "w_in"], ["a"]),
        helper.make_node("Conv", ["state", "w_rec"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["pre"]),
        helper.make_node("Tanh", ["pre"], ["latent"]),
        helper.make_node("Conv", ["latent", "w_out"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["reconstruction"]),
    ]
    graph = helper.make_graph(
        nodes,
        "recurrent",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, BINS, 2])],
        [
            helper.make_tensor_value_info("reconstruction", TensorProto.FLOAT, [None, BINS, 1]),
            helper.make_tensor_value_info("latent", TensorProto.FLOAT, [None, H, 1]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {MANIFEST_KEY: json.dumps(_manifest())})
    path = tmp_path_factory.mktemp("rec") / "model.onnx"
    onnx.save(model, str(path))
    return Model(path)


def test_masks_follow_the_recurrence(recurrent: Model) -> None:
    """Frame t's mask is the recurrence run in numpy over frames 0..t (state 0 at the start)."""
    x = np.random.default_rng(1).standard_normal(400).astype(np.float32)
    spec = recurrent.manifest.spectral
    frames = frame_signal(x[None], WINDOW, HOP)[:, 0, :]
    feats = compress(np.abs(stft_frames(frames, spec)), spec)
    h, want = np.zeros(H, np.float32), []
    for f in feats:
        h = np.tanh(W_IN[:, :, 0] @ f + W_REC[:, :, 0] @ h)
        want.append(1 / (1 + np.exp(-(W_OUT[:, :, 0] @ h))))
    _, items = spectral_items(recurrent, x)
    masks, fed, last = run_recurrent(recurrent, items, None)
    np.testing.assert_allclose(masks[:, :, 0], np.array(want), atol=1e-5)
    np.testing.assert_allclose(last[:, 0], h, atol=1e-5)
    assert not fed[0, :, -1].any() and not fed[:, H:, -1].any()  # zeros but the state rows
    np.testing.assert_allclose(fed[1:, :H, -1], recurrent.encode(fed)[:-1, :, 0], atol=1e-5)


@LAWS
@given(
    n=st.integers(1, 400),
    sizes=st.lists(st.integers(0, 70), min_size=1, max_size=6).filter(any),
    seed=st.integers(0, 2**16),
)
def test_stream_equals_offline_whatever_the_chunking(
    recurrent: Model, n: int, sizes: list[int], seed: int
) -> None:
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    ref = denoise_spectral_offline(recurrent, x)
    out = stream_in_chunks(SpectralDenoiser(recurrent), x, sizes)
    assert out.shape == (1, n)
    # the model runs the same frames in the same order; numpy's FFTs of a different number
    # of frames may round differently on some CPUs (seen on arm64: 6e-8)
    np.testing.assert_allclose(out, ref, atol=1e-6, rtol=0)


def test_the_state_restarts_with_the_stream(recurrent: Model) -> None:
    x = np.random.default_rng(2).standard_normal(300).astype(np.float32)
    den = SpectralDenoiser(recurrent)
    first = stream_in_chunks(den, x, [50])
    np.testing.assert_array_equal(stream_in_chunks(den, x, [50]), first)
    warm = stream_in_chunks(den, np.concatenate([x, x]), [50])[:, 300:]  # a warm state
    assert not np.allclose(warm[:, 100:200], first[:, 100:200])


@pytest.mark.parametrize(
    "over, message",
    [
        ({"latent_shape": [H + 1, 1]}, "latent_shape"),
        ({"item_shape": [BINS, 1]}, "item_shape"),
    ],
)
def test_manifest_ties_the_state_to_the_latent_and_item(over: dict, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        Manifest.from_dict(_manifest(**over))


def test_state_wider_than_the_bins_is_refused() -> None:
    data = _manifest()
    data["spectral"] = {**data["spectral"], "state": BINS + 1}
    with pytest.raises(ManifestError, match=r"spectral\.state"):
        Manifest.from_dict(data)


def test_a_recurrent_manifest_needs_schema_9_and_others_do_not_carry_the_field() -> None:
    m = Manifest.from_dict(_manifest())
    assert m.schema_version == 9
    plain = m.replace(
        spectral=SpectralSpec(fft_size=WINDOW, context_frames=1),
        latent_shape=(H, 1),
        item_shape=(BINS, 1),
        inputs=(TensorSpec("input", (None, BINS, 1)),),
    )
    assert plain.schema_version < 9 and "state" not in json.loads(plain.to_json())["spectral"]
