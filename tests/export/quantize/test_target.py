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
    with pytest.raises(QuantizationError, match="^target: must be one of arm64, x86"):
        target_cpu("riscv")
