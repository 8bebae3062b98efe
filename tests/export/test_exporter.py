"""export_autoencoder: parity with torch, the three files, manifests, fingerprints, the gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from edgeae_export import (
    ExportError,
    ExportResult,
    ParityError,
    check_onnx,
    export_autoencoder,
    load_onnx,
    model_fingerprint,
    read_manifest,
)
from edgeae_runtime import Manifest
from edgeae_runtime.manifest import MANIFEST_KEY

from .tiny_models import ARCHS, Skewed, examples, tiny

ROLES = ("autoencoder", "encoder", "decoder")


@pytest.fixture(scope="module", params=ARCHS)
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One export per arch, shared by the tests of this module."""
    model, info = tiny(request.param)
    out = tmp_path_factory.mktemp(request.param)
    result = export_autoencoder(model, out_dir=out, example_inputs=examples(info), info=info)
    return model, info, result


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_writes_three_checked_files(exported) -> None:
    _, _, result = exported
    names = sorted(f.path.name for f in result.files)
    assert names == ["decoder.onnx", "encoder.onnx", "model.onnx"]
    assert result.opset == 17
    for f in result.files:
        model = load_onnx(f.path)
        check_onnx(model, name=f.path.name)
        assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [17]
        assert model.ir_version == 8  # the oldest IR for opset 17: older runtimes load it
        assert f.size_bytes == f.path.stat().st_size > 0
    assert not [p for p in result.files[0].path.parent.iterdir() if p.suffix == ".tmp"]


def test_io_names_and_dynamic_batch(exported) -> None:
    _, info, result = exported
    io = {
        "autoencoder": (["input"], ["reconstruction", "latent"]),
        "encoder": (["input"], ["latent"]),
        "decoder": (["latent"], ["reconstruction"]),
    }
    for role in ROLES:
        sess = _session(result.file(role).path)
        assert [i.name for i in sess.get_inputs()] == io[role][0]
        assert [o.name for o in sess.get_outputs()] == io[role][1]
        assert isinstance(sess.get_inputs()[0].shape[0], str)  # symbolic batch axis
    latent = _session(result.file("encoder").path).get_outputs()[0].shape[1:]
    if info.layout == "NCHW":  # spatial axes (test_an_image_models_halves_take_any_size)
        latent = latent[:1] + list(info.latent_shape[1:])
    assert latent == list(info.latent_shape)


@pytest.mark.parametrize("batch", [1, 7])
def test_parity_with_torch_is_tight_at_any_batch(exported, batch: int) -> None:
    model, info, result = exported
    x = examples(info, n=batch, seed=42)
    with torch.no_grad():
        z_t = model.encode(torch.from_numpy(x))
        y_t = model.decode(z_t).numpy()
        z_t = z_t.numpy()
    y, z = _session(result.file("autoencoder").path).run(None, {"input": x})
    np.testing.assert_allclose(y, y_t, rtol=0, atol=1e-5)
    np.testing.assert_allclose(z, z_t, rtol=0, atol=1e-5)
    for f in result.files:
        assert f.parity.max_abs_error < 1e-5
        assert f.parity.tolerance == 1e-4
        assert f.parity.samples == 12


def test_encoder_then_decoder_equals_the_full_model(exported) -> None:
    _, info, result = exported
    x = examples(info, n=5, seed=3)
    y_full, z_full = _session(result.file("autoencoder").path).run(None, {"input": x})
    (z,) = _session(result.file("encoder").path).run(None, {"input": x})
    (y,) = _session(result.file("decoder").path).run(None, {"latent": z})
    np.testing.assert_allclose(z, z_full, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y, y_full, rtol=0, atol=1e-6)


def test_manifest_round_trips_through_onnxruntime(exported) -> None:
    _, info, result = exported
    for f in result.files:
        text = _session(f.path).get_modelmeta().custom_metadata_map[MANIFEST_KEY]
        manifest = Manifest.from_json(text)
        assert manifest == read_manifest(load_onnx(f.path))
        assert manifest.role == f.role
        assert manifest.arch == info.arch
        assert manifest.layout == info.layout
        assert manifest.item_shape == info.item_shape
        assert manifest.latent_shape == info.latent_shape
        assert manifest.preprocessing == info.preprocessing
        assert manifest.arch_config == json.loads(json.dumps(dict(info.arch_config)))
        assert manifest.provenance.data_fingerprint == "data-123"
        assert manifest.provenance.source == "tests"
        assert {"edgeae-export", "torch", "onnx", "onnxruntime"} <= set(
            manifest.provenance.versions
        )
        assert manifest.parity == f.parity
        assert manifest.codec == result.codec
        assert manifest.quantization.mode == "float32"
    assert result.manifest == read_manifest(load_onnx(result.file("autoencoder").path))


def test_codec_is_calibrated_per_latent_channel(exported) -> None:
    model, info, result = exported
    codec = result.codec
    assert codec.bits == 8
    assert len(codec.scale) == len(codec.zero_point) == info.latent_shape[0]
    with torch.no_grad():
        z = model.encode(torch.from_numpy(examples(info))).numpy()
    shape = (1, -1) + (1,) * (z.ndim - 2)
    scale = np.asarray(codec.scale).reshape(shape)
    codes = np.round(z / scale) + np.asarray(codec.zero_point).reshape(shape)
    assert codes.min() >= 0 and codes.max() <= 255  # the calibration data needs no clipping


def test_fingerprint_is_shared_and_file_fingerprints_are_own(exported) -> None:
    _, _, result = exported
    manifests = {f.role: read_manifest(load_onnx(f.path)) for f in result.files}
    assert {m.provenance.fingerprint for m in manifests.values()} == {result.fingerprint}
    assert len(result.fingerprint) == 64
    for f in result.files:
        model = load_onnx(f.path)
        assert manifests[f.role].provenance.file_fingerprint == model_fingerprint(model)
    assert result.fingerprint == manifests["autoencoder"].provenance.file_fingerprint
    assert len({m.provenance.file_fingerprint for m in manifests.values()}) == 3


@pytest.mark.slow
def test_reexport_is_stable_and_needs_force(tmp_path: Path) -> None:
    model, info = tiny("dense")
    first = export_autoencoder(model, out_dir=tmp_path, example_inputs=examples(info), info=info)
    before = first.file("autoencoder").path.read_bytes()
    with pytest.raises(ExportError, match=r"model\.onnx: already exists; use `force`"):
        export_autoencoder(model, out_dir=tmp_path, example_inputs=examples(info), info=info)
    assert first.file("autoencoder").path.read_bytes() == before
    again = export_autoencoder(
        model, out_dir=tmp_path, example_inputs=examples(info, seed=9), info=info, force=True
    )
    assert again.fingerprint == first.fingerprint
    assert [f.file_fingerprint for f in again.files] == [f.file_fingerprint for f in first.files]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "decoder.onnx",
        "encoder.onnx",
        "model.onnx",
    ]


def test_parity_gate_refuses_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ParityError) as caught:
        export_autoencoder(
            Skewed(0.01),
            out_dir=out,
            example_inputs=np.ones((6, 8), np.float32),
            info=_skewed_info(),
        )
    message = str(caught.value)
    assert "0.01" in message and "tolerance 0.0001" in message and "`tolerance`" in message
    assert "reconstruction" in message
    assert not out.exists() or list(out.iterdir()) == []


def test_parity_gate_accepts_a_looser_tolerance(tmp_path: Path) -> None:
    result = export_autoencoder(
        Skewed(0.01),
        out_dir=tmp_path,
        example_inputs=np.ones((6, 8), np.float32),
        info=_skewed_info(),
        tolerance=0.05,
    )
    parity = result.file("autoencoder").parity
    assert parity.max_abs_error == pytest.approx(0.01, rel=1e-3)
    assert parity.tolerance == 0.05


def _skewed_info():
    from edgeae_export import ExportInfo

    return ExportInfo(arch="skewed", layout="NF", item_shape=(8,), latent_shape=(4,))


def test_optimize_keeps_parity_and_io(tmp_path: Path) -> None:
    model, info = tiny("conv1d")
    result = export_autoencoder(
        model, out_dir=tmp_path, example_inputs=examples(info), info=info, optimize=True
    )
    assert all(f.parity.max_abs_error < 1e-5 for f in result.files)
    sess = _session(result.file("autoencoder").path)
    assert [o.name for o in sess.get_outputs()] == ["reconstruction", "latent"]


def test_opset_18_is_exported_natively(tmp_path: Path) -> None:
    model, info = tiny("dense")
    result = export_autoencoder(
        model, out_dir=tmp_path, example_inputs=examples(info), info=info, opset=18
    )
    assert result.opset == 18
    assert all(f.parity.max_abs_error < 1e-5 for f in result.files)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"example_inputs": np.zeros((4, 23), np.float32)}, r"example_inputs: expected .*\(24,\)"),
        ({"example_inputs": np.zeros((0, 24), np.float32)}, "at least one"),
        ({"example_inputs": np.full((2, 24), np.nan, np.float32)}, "finite"),
        ({"tolerance": 0.0}, "tolerance: must be positive"),
        ({"opset": 13}, "opset: 13: edgeae needs opset >= 14"),
    ],
)
def test_bad_arguments_are_refused_before_writing(tmp_path: Path, kwargs, match: str) -> None:
    model, info = tiny("dense")
    args = {"out_dir": tmp_path / "o", "example_inputs": examples(info), "info": info, **kwargs}
    with pytest.raises(ExportError, match=match):
        export_autoencoder(model, **args)
    assert not (tmp_path / "o").exists()


def test_wrong_latent_shape_in_info_is_refused(tmp_path: Path) -> None:
    model, info = tiny("dense")
    bad = type(info)(**{**info.__dict__, "latent_shape": (5,)})
    with pytest.raises(ExportError, match=r"latent_shape: .* \(4,\).* \(5,\)"):
        export_autoencoder(model, out_dir=tmp_path, example_inputs=examples(info), info=bad)


def test_module_without_encode_is_refused(tmp_path: Path) -> None:
    _, info = tiny("dense")
    with pytest.raises(ExportError, match=r"no encode\(\) method"):
        export_autoencoder(
            torch.nn.Linear(24, 24), out_dir=tmp_path, example_inputs=examples(info), info=info
        )


def test_out_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    model, info = tiny("dense")
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ExportError, match="not a directory"):
        export_autoencoder(model, out_dir=target, example_inputs=examples(info), info=info)


def test_missing_out_dir_is_created_and_one_item_is_enough(tmp_path: Path) -> None:
    model, info = tiny("dense")
    model.train()
    out = tmp_path / "a" / "b"
    result: ExportResult = export_autoencoder(
        model, out_dir=out, example_inputs=examples(info, n=1), info=info
    )
    assert result.file("decoder").path == out / "decoder.onnx"
    assert (out / "decoder.onnx").is_file()
    assert model.training is True  # the caller's mode is restored
    x = examples(info, n=4, seed=8)
    y, _ = _session(result.file("autoencoder").path).run(None, {"input": x})
    assert y.shape == x.shape


def test_an_image_models_halves_take_any_size(exported) -> None:
    """conv2d graphs are exported with spatial axes (a whole image is one latent map,
    docs/stream-format.md "Version 6"), equal to torch at another size; every other
    family keeps the item's size."""
    from edgeae_runtime import Model

    model, info, result = exported
    enc, dec = Model(result.file("encoder").path), Model(result.file("decoder").path)
    full = Model(result.file("autoencoder").path)
    assert enc.any_size == dec.any_size == full.any_size == (info.layout == "NCHW")
    if info.layout != "NCHW":
        return
    x = np.random.default_rng(0).random((1, 1, 48, 32)).astype(np.float32)
    z = enc.encode(x, any_size=True)
    with torch.no_grad():
        xt = torch.from_numpy((x - 0.5) / 2.0)  # the info's preprocessing
        zt = model.encode(xt)
    np.testing.assert_allclose(z, zt.numpy(), atol=1e-5)
    y = dec.decode(z, any_size=True)
    assert y.shape == x.shape


def test_an_image_model_that_pads_to_its_strides_keeps_its_size(tmp_path: Path) -> None:
    """10x10 items with two stride-2 levels are padded to 12 and cropped back inside the
    graph: twice the size is not two tiles side by side, so no spatial axes (whole images
    are then coded tile by tile)."""
    from edgeae.models import asdict as config_asdict
    from edgeae.models.conv2d import Conv2dAE, Conv2dConfig
    from edgeae_export import ExportInfo
    from edgeae_export.exporter import fully_convolutional
    from edgeae_runtime import Model, Preprocessing

    torch.manual_seed(0)
    config = Conv2dConfig(item_shape=(1, 10, 10), channels=(4, 4), latent_channels=2)
    model = Conv2dAE(config).eval()
    x = np.random.default_rng(0).random((4, 1, 10, 10)).astype(np.float32)
    assert not fully_convolutional(model, x)
    assert fully_convolutional(Conv2dAE(Conv2dConfig(item_shape=(1, 12, 12))).eval(),
                               np.zeros((2, 1, 12, 12), np.float32))  # fmt: skip
    info = ExportInfo(
        arch="conv2d", layout="NCHW", item_shape=(1, 10, 10),
        latent_shape=tuple(config.latent_shape), preprocessing=Preprocessing(),
        arch_config=config_asdict(config), data_fingerprint="d", source="tests",
    )  # fmt: skip
    result = export_autoencoder(model, out_dir=tmp_path, example_inputs=x, info=info)
    assert not Model(result.file("encoder").path).any_size
    assert not Model(result.file("decoder").path).any_size
