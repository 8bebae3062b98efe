"""`edgeae inspect`: text and JSON descriptions, and one clear line for a file that is not ONNX."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
from click.testing import CliRunner

from edgeae.cli import main
from edgeae_export import write_onnx
from edgeae_export.manifest_build import ExportInfo, build_manifest
from tests.export.tiny_models import gemm_model


def _with_manifest(tmp_path: Path) -> Path:
    manifest = build_manifest(
        ExportInfo(arch="dense", layout="NF", item_shape=(6,), latent_shape=(3,)),
        role="autoencoder",
        fingerprint="0" * 64,
        file_fingerprint="1" * 64,
        parity=None,
        codec=None,
    )
    return write_onnx(gemm_model(), tmp_path / "model.onnx", manifest)


def test_text(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", "-m", str(_with_manifest(tmp_path))])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "manifest: autoencoder of arch dense, layout NF" in out
    assert "reconstruction" in out and "[batch, 6]" in out
    assert "ops (3 nodes): Gemm 2, Relu 1" in out
    assert "parameters: 36" in out
    assert "quantization: float32" in out
    assert "float      Gemm             enc_gemm" in out


def test_no_nodes_flag(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["inspect", "-m", str(_with_manifest(tmp_path)), "--no-nodes"]
    )
    assert result.exit_code == 0
    assert "enc_gemm" not in result.stdout


def test_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", "-m", str(_with_manifest(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["manifest"]["arch"] == "dense"
    assert info["op_counts"] == {"Gemm": 2, "Relu": 1}
    assert info["quantization"]["summary"] == "float32"


def test_model_without_manifest(tmp_path: Path) -> None:
    path = tmp_path / "plain.onnx"
    onnx.save(gemm_model(), str(path))
    result = CliRunner().invoke(main, ["inspect", "-m", str(path)])
    assert result.exit_code == 0
    assert "no edgeae manifest" in result.stdout


def test_not_onnx(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("just text")
    result = CliRunner().invoke(main, ["inspect", "-m", str(path)])
    assert result.exit_code == 3
    assert (
        result.stderr.strip().splitlines()
        == [f"error: {path}: not an ONNX model (DecodeError: Error parsing message)"]
        or "not an ONNX model" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", "-m", str(tmp_path / "nope.onnx")])
    assert result.exit_code == 3
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.onnx'}: no such file"


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["inspect", "--help"])
    assert "edgeae inspect -m models/digits/model.onnx" in result.output
