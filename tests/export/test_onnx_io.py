"""ONNX I/O: clear errors for bad files, manifests in metadata, atomic all-or-nothing writes."""

from __future__ import annotations

import os
from pathlib import Path

import onnx.helper as oh
import onnxruntime as ort
import pytest

from edgeae_export import (
    ExportError,
    check_onnx,
    load_onnx,
    read_manifest,
    require_manifest,
    write_onnx,
    write_onnx_files,
)
from edgeae_export.manifest_build import ExportInfo, build_manifest
from edgeae_export.onnx_io import with_manifest
from edgeae_runtime import Manifest, ManifestError
from edgeae_runtime.errors import OutputError
from edgeae_runtime.manifest import MANIFEST_KEY

from .tiny_models import gemm_model


def _manifest(role: str = "autoencoder") -> Manifest:
    info = ExportInfo(arch="dense", layout="NF", item_shape=(6,), latent_shape=(3,))
    return build_manifest(
        info, role=role, fingerprint="f" * 64, file_fingerprint="e" * 64, parity=None, codec=None
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"missing\.onnx: no such file"):
        load_onnx(tmp_path / "missing.onnx")


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is a directory"):
        load_onnx(tmp_path)


@pytest.mark.parametrize(
    "content", [b"", b"hello, this is text\n", bytes(range(256)) * 4, b"\x08\x07"]
)
def test_load_not_onnx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ExportError, match=r"bad\.onnx: not an ONNX model"):
        load_onnx(path)


def test_read_manifest_absent_and_present(tmp_path: Path) -> None:
    model = gemm_model()
    assert read_manifest(model) is None
    manifest = _manifest()
    assert read_manifest(with_manifest(model, manifest)) == manifest


def test_invalid_manifest_names_the_field_and_file() -> None:
    model = gemm_model()
    model.metadata_props.add(key=MANIFEST_KEY, value='{"schema_version": 1, "role": "x"}')
    with pytest.raises(ManifestError, match=r"m\.onnx: manifest"):
        read_manifest(model, where="m.onnx")


def test_require_manifest_asks_for_the_fields() -> None:
    with pytest.raises(ManifestError, match=r"m\.onnx: no edgeae manifest.*needs item_shape"):
        require_manifest(gemm_model(), where="m.onnx", needed="item_shape and layout")


def test_with_manifest_replaces_only_its_key() -> None:
    model = gemm_model()
    model.metadata_props.add(key="author", value="me")
    once = with_manifest(model, _manifest("encoder"))
    twice = with_manifest(once, _manifest("decoder"))
    keys = [p.key for p in twice.metadata_props]
    assert sorted(keys) == ["author", MANIFEST_KEY]
    text = next(p.value for p in twice.metadata_props if p.key == MANIFEST_KEY)
    assert Manifest.from_json(text).role == "decoder"
    with pytest.raises(ManifestError, match=r"manifest\.inputs\[0\]\.name is 'latent'"):
        read_manifest(twice)  # a decoder's manifest on this graph lies about its input
    assert not model.metadata_props[1:]  # the input model is left alone


def test_write_then_read_back_with_onnxruntime(tmp_path: Path) -> None:
    manifest = _manifest()  # built once: its provenance carries a creation time
    path = write_onnx(gemm_model(), tmp_path / "m.onnx", manifest)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map[MANIFEST_KEY]
    assert Manifest.from_json(meta) == manifest
    assert _leftovers(tmp_path) == []
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_existing_file_needs_force(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    with pytest.raises(ExportError, match=r"m\.onnx: already exists; use `force`"):
        write_onnx(gemm_model(), path, _manifest())
    assert path.read_bytes() == b"old"
    manifest = _manifest()
    write_onnx(gemm_model(), path, manifest, force=True)
    assert read_manifest(load_onnx(path)) == manifest


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"output directory .*nope does not exist"):
        write_onnx(gemm_model(), tmp_path / "nope" / "m.onnx", None)
    assert list(tmp_path.iterdir()) == []


def test_set_is_all_or_nothing_when_one_target_exists(tmp_path: Path) -> None:
    (tmp_path / "b.onnx").write_bytes(b"old")
    items = [(gemm_model(), tmp_path / n, _manifest()) for n in ("a.onnx", "b.onnx")]
    with pytest.raises(ExportError, match=r"b\.onnx: already exists"):
        write_onnx_files(items)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.onnx"]


def test_failed_rename_leaves_no_temp_file(tmp_path: Path, monkeypatch) -> None:
    calls = []
    real_replace = os.replace

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    items = [(gemm_model(), tmp_path / n, None) for n in ("a.onnx", "b.onnx")]
    with pytest.raises(OutputError, match=r"b\.onnx: cannot write \(No space left on device\)"):
        write_onnx_files(items)
    assert _leftovers(tmp_path) == []


def test_same_target_twice_is_refused(tmp_path: Path) -> None:
    items = [(gemm_model(), tmp_path / "a.onnx", None)] * 2
    with pytest.raises(ExportError, match="must differ"):
        write_onnx_files(items)


def test_check_onnx_refuses_a_broken_graph() -> None:
    model = gemm_model()
    model.graph.node.append(oh.make_node("Relu", ["nowhere"], ["x"], name="dangling"))
    with pytest.raises(ExportError, match=r"broken\.onnx: the ONNX checker refused"):
        check_onnx(model, name="broken.onnx")
    check_onnx(gemm_model(), name="fine.onnx")
