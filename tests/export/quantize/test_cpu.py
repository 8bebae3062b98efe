"""CPU detection from /proc/cpuinfo text, and the int8 defaults it implies."""

from __future__ import annotations

from pathlib import Path

from edgeae_export.cpu import CpuInfo, default_quant_types, detect_cpu, parse_cpuinfo

EPYC_VNNI = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni
processor\t: 1
flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni
"""
HASWELL = """model name\t: Intel(R) Xeon(R) CPU E5-2680 v3
flags\t\t: fpu sse sse2 avx avx2 fma
"""
ALDER_LAKE = "model name : 12th Gen Intel Core\nflags : sse avx avx2 avx_vnni\n"
RPI4 = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
"""
GRAVITON = "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimddp\n"


def test_parses_x86_flags_and_model_name() -> None:
    cpu = parse_cpuinfo(EPYC_VNNI, "x86_64")
    assert cpu.model_name == "AMD EPYC 9R14 96-Core Processor"
    assert cpu.vnni and cpu.avx2 and cpu.avx512 and cpu.is_x86 and not cpu.is_arm
    assert "VNNI" in cpu.describe()


def test_vnni_gives_u8s8_full_range() -> None:
    # x86 onnxruntime runs QDQ as U8S8; int8 activations would be converted at load,
    # except a tensor with two consumers (the latent), which then stays float.
    d = default_quant_types(parse_cpuinfo(EPYC_VNNI, "x86_64"))
    assert (d.activation_type, d.weight_type, d.reduce_range) == ("QUInt8", "QInt8", False)
    d = default_quant_types(parse_cpuinfo(ALDER_LAKE, "x86_64"))
    assert (d.activation_type, d.reduce_range) == ("QUInt8", False)


def test_avx2_without_vnni_gives_u8s8_reduce_range() -> None:
    cpu = parse_cpuinfo(HASWELL, "x86_64")
    assert cpu.avx2 and not cpu.vnni
    d = default_quant_types(cpu)
    assert (d.activation_type, d.weight_type, d.reduce_range) == ("QUInt8", "QInt8", True)
    assert "reduce_range" in d.reason


def test_arm_features_line() -> None:
    pi = parse_cpuinfo(RPI4, "aarch64")
    assert pi.is_arm and not pi.arm_dotprod and "asimd" in pi.flags
    assert parse_cpuinfo(GRAVITON, "aarch64").arm_dotprod
    d = default_quant_types(pi)
    assert (d.activation_type, d.weight_type, d.reduce_range) == ("QInt8", "QInt8", False)


def test_unknown_cpu_and_missing_cpuinfo(tmp_path: Path) -> None:
    cpu = detect_cpu(tmp_path / "missing")
    assert cpu.flags == frozenset()
    d = default_quant_types(CpuInfo(machine="riscv64"))
    assert d.reduce_range  # the portable, saturation-safe choice
    assert parse_cpuinfo("garbage without colons", "x86_64").flags == frozenset()
