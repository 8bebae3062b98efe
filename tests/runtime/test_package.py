"""The installed distribution: its dependencies and the ``edgeae-rt`` executable in a real pipe."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeae_runtime import Model
from edgeae_runtime.stream import denoise_offline


def test_runtime_depends_only_on_numpy_onnxruntime_click() -> None:
    requires = importlib.metadata.requires("edgeae-runtime") or []
    names = {
        r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip()
        for r in requires
        if "extra ==" not in r
    }
    assert names == {"numpy", "onnxruntime", "click"}


def _edgeae_rt() -> str:
    exe = Path(sys.executable).parent / "edgeae-rt"
    if exe.exists():
        return str(exe)
    found = shutil.which("edgeae-rt")
    if found is None:
        pytest.skip("edgeae-rt is not installed in this environment")
    return found


def test_installed_cli_streams_stdin_to_stdout(model_dir: Path, conv: Model) -> None:
    x = np.random.default_rng(2).uniform(-0.5, 0.5, 4000).astype(np.float32)
    proc = subprocess.run(
        [
            _edgeae_rt(),
            "denoise",
            "-m",
            str(model_dir / "model.onnx"),
            "-",
            "-o",
            "-",
            "--format",
            "f32le",
            "--chunk-ms",
            "10",
        ],
        input=x.astype("<f4").tobytes(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    y = np.frombuffer(proc.stdout, "<f4")
    np.testing.assert_allclose(y, denoise_offline(conv, x)[0], atol=1e-5)


def test_installed_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_text("nope")
    proc = subprocess.run(
        [_edgeae_rt(), "info", "-m", str(tmp_path / "m.onnx")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3  # bad input model
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")


# The contract, spelled out: what a device program needs (docs/api.md), nothing else.
PUBLIC_API = {
    *("Model", "StreamDenoiser", "StreamScorer", "AnomalyScorer", "ClipScorer", "StreamEncoder"),
    *("StreamDecoder", "Manifest", "SignalSpec", "Preprocessing", "AnomalySpec", "CodecSpec"),
    *("EdgeAEError", "InputError", "ManifestError", "ModelError", "StreamError"),
    *("OutputError", "ParameterError", "__version__"),
}


def test_public_api_is_exactly_what_a_device_program_needs() -> None:
    import edgeae_runtime

    assert set(edgeae_runtime.__all__) == PUBLIC_API
    assert len(edgeae_runtime.__all__) == len(PUBLIC_API)  # no duplicates
    for name in edgeae_runtime.__all__:
        assert getattr(edgeae_runtime, name) is not None
    # the public names are documented, one section each
    api = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    for name in PUBLIC_API - {"__version__"}:
        assert f"`{name}`" in api, name


def test_model_helpers_for_siblings_are_private() -> None:
    for name in ("run_model_space", "errors_model_space", "score_model_space"):
        assert not hasattr(Model, name)
        assert hasattr(Model, f"_{name}")


def test_loading_a_model_imports_only_what_it_needs() -> None:
    """The package root is lazy: ``from edgeae_runtime import Model`` and a load do not pull
    in the codec, the anomaly scorer or the scoring laws (bench_runtime's footprint)."""
    code = (
        "import sys\n"
        "from edgeae_runtime import Model\n"
        "import edgeae_runtime\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('edgeae_runtime'))))\n"
        "edgeae_runtime.StreamEncoder, edgeae_runtime.AnomalyScorer\n"
        "print('codec' if 'edgeae_runtime.codec' in sys.modules else '-')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    loaded = set(out[0].split())
    assert "edgeae_runtime.model" in loaded
    for heavy in ("codec", "anomaly", "scores", "operating_point", "events", "audio", "stream"):
        assert f"edgeae_runtime.{heavy}" not in loaded, heavy
    assert out[1] == "codec"  # and a public name still resolves on first use
