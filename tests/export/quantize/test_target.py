"""``--target arm64|x86``: the int8 types of the board, the host's own CPU by default."""

from __future__ import annotations

import pytest

from edgeae_export import cpu as cpu_mod
from edgeae_export.cpu import CpuInfo, default_quant_types, host_target, target_cpu
from edgeae_export.errors import QuantizationError

EPYC = CpuInfo("x86_64", "AMD EPYC", frozenset({"avx2", "avx512f", "avx512_vnni"}))
GRAVITON = CpuInfo("aarch64", "", frozenset({"asimd", "asimddp"}))


def test_host_target_names_the_architecture() -> None:
    assert host_target(EPYC) == "x86"
    assert host_target(GRAVITON) == "arm64"
    assert host_target(CpuInfo("armv7l")) is None  # 32-bit ARM: no aarch64 wheels
    assert host_target(CpuInfo("riscv64")) is None


@pytest.mark.parametrize("here", [EPYC, GRAVITON])
def test_a_foreign_target_gets_its_types_and_the_own_target_is_this_cpu(
    monkeypatch: pytest.MonkeyPatch, here: CpuInfo
) -> None:
    monkeypatch.setattr(cpu_mod, "detect_cpu", lambda *a, **k: here)
    assert target_cpu(None) is here
    assert target_cpu(host_target(here)) is here
    arm = default_quant_types(target_cpu("arm64"))
    x86 = default_quant_types(target_cpu("x86"))
    assert (arm.activation_type, arm.weight_type, arm.reduce_range) == ("QInt8", "QInt8", False)
    assert (x86.activation_type, x86.weight_type) == ("QUInt8", "QInt8")
    if here is GRAVITON:  # an x86 board of unknown features: reduce_range is the safe choice
        assert x86.reduce_range is True
    else:  # this EPYC has VNNI: full range
        assert x86.reduce_range is False


def test_an_unknown_target_is_refused_by_name() -> None:
    with pytest.raises(QuantizationError, match=r"^target: must be one of arm64, x86"):
        target_cpu("riscv")


FOREIGN = "arm64" if host_target() == "x86" else "x86"


def test_a_foreign_target_is_recorded_and_skips_the_speed_gate(triplets, tmp_path) -> None:
    from edgeae_export import QuantizeRequest, quantize_model
    from edgeae_export.onnx_io import load_onnx, read_manifest

    from .models import make_data

    src = triplets["dense"]["autoencoder"]
    lines: list[str] = []
    r = quantize_model(
        QuantizeRequest(
            src, tmp_path / "q.onnx", calibration=make_data("dense", 64), target=FOREIGN
        ),
        progress=lines.append,
    )
    m = read_manifest(load_onnx(r.path))
    assert m is not None and m.quantization.target == FOREIGN
    want = "QInt8" if FOREIGN == "arm64" else "QUInt8"
    assert m.quantization.activation_type == want
    assert r.speed is None
    assert any(w.startswith(f"speed gate skipped: the target is {FOREIGN}") for w in r.warnings)
    assert any("speed gate skipped" in line for line in lines)


def test_the_default_target_is_this_machine_and_keeps_the_gate(
    triplets, tmp_path, no_timing
) -> None:
    from edgeae_export import QuantizeRequest, quantize_model

    from .models import make_data

    src = triplets["dense"]["autoencoder"]
    req = QuantizeRequest(src, tmp_path / "q.onnx", calibration=make_data("dense", 64))
    r = quantize_model(req.replace(measure=no_timing))
    assert r.manifest.quantization.target == host_target()
    assert r.speed is not None and r.speed.faster
    assert not any("speed gate skipped" in w for w in r.warnings)


def test_cli_target_option(runner, triplets, tmp_path) -> None:
    import numpy as np

    from edgeae.cli import main

    from .models import make_data

    src = triplets["dense"]["autoencoder"]
    np.save(tmp_path / "cal.npy", make_data("dense", 64))
    out = tmp_path / "q.onnx"
    args = ["quantize", "-m", str(src), "-o", str(out), "--calibration", str(tmp_path / "cal.npy")]
    result = runner.invoke(main, [*args, "--target", FOREIGN])
    assert result.exit_code == 0, result.output
    assert f"(target {FOREIGN})" in result.stdout
    assert "warning: speed gate skipped" in result.stdout
    assert "latency (1 thread)" not in result.stdout
    bad = runner.invoke(main, [*args, "--force", "--target", "mips"])
    assert bad.exit_code == 2 and "--target" in bad.output
