"""Model: roles, validation errors, manifest-less models, batching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae_runtime import (
    InputError,
    Manifest,
    ManifestError,
    Model,
    ModelError,
    SignalSpec,
)
from tests.runtime.onnx_models import make_autoencoder, make_decoder, make_encoder, make_not_onnx


def _batch(model: Model, n: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *model.item_shape)).astype(np.float32)


def test_properties_come_from_the_manifest(conv: Model) -> None:
    assert conv.role == "autoencoder"
    assert conv.item_shape == (1, 32)
    assert conv.latent_shape == (4, 16)
    assert conv.fingerprint == "test-fingerprint-0001"
    assert conv.signal == SignalSpec(16000, 1, 32, 16, "hann")


def test_roles_agree_encode_then_decode_is_reconstruct(model_dir: Path, conv: Model) -> None:
    enc, dec = Model(model_dir / "encoder.onnx"), Model(model_dir / "decoder.onnx")
    x = _batch(conv)
    z = enc.encode(x)
    assert z.shape == (5, 4, 16)
    np.testing.assert_allclose(conv.encode(x), z, atol=1e-6)
    np.testing.assert_allclose(dec.decode(z), conv.reconstruct(x), atol=1e-5)


def test_preprocessing_is_applied_in_raw_units(tmp_path: Path) -> None:
    from edgeae_runtime import Preprocessing

    path = make_autoencoder(
        tmp_path / "m.onnx", kind="identity", preprocessing=Preprocessing((3.0,), (2.0,))
    )
    m = Model(path)
    x = _batch(m)
    np.testing.assert_allclose(m.reconstruct(x), x, atol=1e-6)  # identity in model space
    np.testing.assert_allclose(m.encode(x), 0.5 * (x - 3.0) / 2.0, atol=1e-6)


def test_score_is_model_space_mse(conv: Model) -> None:
    x = _batch(conv)
    pre = conv.manifest.preprocessing
    xn = (x - pre.offset[0]) / pre.scale[0]
    yn = (conv.reconstruct(x) - pre.offset[0]) / pre.scale[0]
    np.testing.assert_allclose(conv.score(x), ((xn - yn) ** 2).mean(axis=(1, 2)), rtol=1e-4)


@pytest.mark.parametrize(
    ("op", "needed"),
    [("reconstruct", "model.onnx"), ("score", "model.onnx"), ("decode", "decoder.onnx")],
)
def test_encoder_refuses_what_it_cannot_do(model_dir: Path, op: str, needed: str) -> None:
    enc = Model(model_dir / "encoder.onnx")
    with pytest.raises(ModelError, match=needed):
        getattr(enc, op)(np.zeros((1, 1, 32), np.float32))


def test_decoder_refuses_encode(model_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"encoder\.onnx"):
        Model(model_dir / "decoder.onnx").encode(np.zeros((1, 1, 32), np.float32))


def test_batching_equals_one_call(conv: Model) -> None:
    x = _batch(conv, n=37)
    np.testing.assert_allclose(conv.reconstruct(x, max_batch=4), conv.reconstruct(x), atol=1e-6)
    np.testing.assert_allclose(conv.score(x, max_batch=5), conv.score(x), rtol=1e-5)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.zeros((2, 1, 31)), r"expected a batch of shape \(N, 1, 32\)"),
        (np.zeros((1, 32)), r"add a batch axis"),
        (np.zeros((0, 1, 32)), "empty input"),
        (np.array([["a"] * 32]), "cannot be converted"),
    ],
)
def test_bad_inputs_are_named(conv: Model, x: np.ndarray, match: str) -> None:
    with pytest.raises(InputError, match=match):
        conv.reconstruct(x)


@pytest.mark.parametrize(("value", "kind"), [(np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "Inf")])
def test_non_finite_values_name_item_and_position(conv: Model, value: float, kind: str) -> None:
    x = np.zeros((4, 1, 32), np.float32)
    x[2, 0, 7] = value
    with pytest.raises(InputError, match=rf"item 2 holds {kind} at \(0, 7\)"):
        conv.score(x)


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_score_names_a_non_finite_input_item_whatever_the_preprocessing(
    tmp_path: Path, scale: float
) -> None:
    """score() finds a non-finite input from its errors when normalizing cannot overflow
    (scale >= 1) and up front otherwise: the same message either way."""
    from edgeae_runtime.manifest import Preprocessing
    from edgeae_runtime.preprocess import overflow_free

    pre = Preprocessing(offset=(0.5,), scale=(scale,))
    m = Model(make_autoencoder(tmp_path / "m.onnx", kind="dense", preprocessing=pre))
    assert overflow_free(m.manifest.preprocessing) == (scale >= 1.0)
    x = np.zeros((3, 16), np.float32)
    x[1, 5] = np.nan
    with pytest.raises(InputError, match=r"score input: item 1 holds NaN at \(5,\)"):
        m.score(x)
    assert np.isfinite(m.score(np.zeros((3, 16), np.float32))).all()


def test_integer_input_is_accepted(conv: Model) -> None:
    x = np.arange(64, dtype=np.int16).reshape(2, 1, 32)
    np.testing.assert_allclose(conv.reconstruct(x), conv.reconstruct(x.astype(np.float32)))


def test_non_onnx_file_is_a_model_error_naming_it(tmp_path: Path) -> None:
    path = make_not_onnx(tmp_path / "notes.onnx")
    with pytest.raises(ModelError, match=r"notes\.onnx: not a loadable ONNX model"):
        Model(path)
    with pytest.raises(ModelError, match="no such model file"):
        Model(tmp_path / "missing.onnx")


def test_model_without_manifest_infers_shapes(tmp_path: Path) -> None:
    path = make_autoencoder(tmp_path / "foreign.onnx", kind="dense", manifest=False)
    m = Model(path)
    assert (m.role, m.item_shape, m.latent_shape, m.manifest.layout) == (
        "autoencoder",
        (16,),
        (4,),
        "NF",
    )
    assert m.signal is None
    x = _batch(m)
    assert m.reconstruct(x).shape == x.shape
    assert len(m.fingerprint) == 16


def test_model_without_manifest_needs_fields_it_cannot_infer(tmp_path: Path) -> None:
    enc = make_encoder(tmp_path / "e.onnx", kind="conv1d", manifest=False, batch=None)
    dec = make_decoder(tmp_path / "d.onnx", kind="conv1d", manifest=False)
    assert Model(enc).role == "encoder"
    assert Model(dec).role == "decoder"
    # A graph with symbolic item dims cannot tell its item shape: the error names the field.
    import onnx

    model = onnx.load(enc)
    for dim in model.graph.input[0].type.tensor_type.shape.dim[1:]:
        dim.dim_param = "d"
    onnx.save(model, tmp_path / "sym.onnx")
    with pytest.raises(ManifestError, match="item_shape"):
        Model(tmp_path / "sym.onnx")
    m = Model(tmp_path / "sym.onnx", item_shape=(1, 32), latent_shape=(4, 16), layout="NCW")
    assert m.encode(np.zeros((2, 1, 32), np.float32)).shape == (2, 4, 16)


def test_supplied_manifest_and_overrides(tmp_path: Path, conv: Model) -> None:
    path = make_autoencoder(tmp_path / "bare.onnx", kind="conv1d", manifest=False)
    with pytest.raises(ManifestError, match=r"manifest\.signal"):
        Model(path).require_signal()
    m = Model(path, manifest=conv.manifest)
    assert isinstance(m.manifest, Manifest) and m.signal == conv.signal
    sig = SignalSpec(8000, 1, 32, 8, "rect")
    assert Model(path, signal=sig).signal == sig


def test_fixed_batch_graph_runs_in_slices(tmp_path: Path) -> None:
    m = Model(make_autoencoder(tmp_path / "b1.onnx", kind="dense", batch=1))
    x = _batch(m, n=3)
    assert m.reconstruct(x).shape == (3, 16)


def test_one_model_serves_independent_streams(conv: Model) -> None:
    from edgeae_runtime import StreamDenoiser
    from edgeae_runtime.stream import denoise_offline

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 200)).astype(np.float32)
    a, b = StreamDenoiser(conv), StreamDenoiser(conv)
    out_a, out_b = [], []
    for i in range(0, 200, 30):  # interleaved pushes on one model
        out_a.append(a.push(x[i : i + 30]))
        out_b.append(b.push(y[i : i + 30]))
    out_a.append(a.flush())
    out_b.append(b.flush())
    np.testing.assert_allclose(np.concatenate(out_a, 1), denoise_offline(conv, x), atol=1e-5)
    np.testing.assert_allclose(np.concatenate(out_b, 1), denoise_offline(conv, y), atol=1e-5)
