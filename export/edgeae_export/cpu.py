"""CPU feature detection and the int8 defaults that run fastest on this CPU.

onnxruntime's int8 kernels differ by instruction set. On x86 its CPU provider
runs QDQ graphs as U8S8 (unsigned activations, signed weights): it converts
int8 activations to uint8 at load, but only for a quantize node with a single
consumer, so an int8 tensor that feeds two nodes (an autoencoder's latent: a
graph output and the decoder's first layer) stays int8 and the layers on both
sides of it run in float. So on x86 the activations are quantized as uint8 from
the start. With VNNI (AVX-512 VNNI or AVX-VNNI) U8S8 needs no reduced range; on
x86 with AVX2/AVX-512 but no VNNI it can saturate in the 16-bit intermediate
sums, which ``reduce_range`` (7-bit weights) avoids. On ARM64 int8 activations
run natively and S8S8 (the documented QDQ default) is used. Picking the wrong
pair is the most common reason an int8 model is slower than float, so the
choice is made here, once, and recorded in the manifest.

A model for a board is often built on a laptop: ``target_cpu("arm64")`` stands for a
64-bit ARM board (S8S8) and ``target_cpu("x86")`` for an x86 machine of unknown
features (U8S8 with ``reduce_range``, safe with or without VNNI); ``target_cpu(None)``
or the host's own target is this CPU, detected.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

from .errors import QuantizationParameterError

__all__ = [
    "TARGETS",
    "CpuInfo",
    "QuantDefaults",
    "default_quant_types",
    "detect_cpu",
    "host_target",
    "parse_cpuinfo",
    "target_cpu",
]

_X86 = ("x86_64", "amd64", "i386", "i686", "x86")
_ARM = ("aarch64", "arm64", "armv7l", "armv8l", "arm")
#: What ``target`` accepts: the int8 types of that kind of CPU.
TARGETS = ("arm64", "x86")


@dataclass(frozen=True)
class CpuInfo:
    """What the quantizer needs to know about a CPU: architecture, model name and flags."""

    machine: str
    model_name: str = ""
    flags: frozenset[str] = frozenset()

    @property
    def is_x86(self) -> bool:
        return self.machine.lower() in _X86

    @property
    def is_arm(self) -> bool:
        m = self.machine.lower()
        return m in _ARM or m.startswith("arm")

    @property
    def vnni(self) -> bool:
        """x86 VNNI int8 dot products (AVX-512 VNNI or AVX-VNNI)."""
        return bool(self.flags & {"avx512_vnni", "avx_vnni", "avx512vnni", "avxvnni"})

    @property
    def avx2(self) -> bool:
        return "avx2" in self.flags

    @property
    def avx512(self) -> bool:
        return "avx512f" in self.flags

    @property
    def arm_dotprod(self) -> bool:
        """ARM int8 dot-product instructions (``asimddp``)."""
        return "asimddp" in self.flags

    def describe(self) -> str:
        """A short human description, e.g. ``x86_64 AVX-512 VNNI``."""
        if self.is_x86:
            isa = "AVX-512" if self.avx512 else "AVX2" if self.avx2 else "SSE"
            return f"{self.machine} {isa}{' VNNI' if self.vnni else ' (no VNNI)'}"
        if self.is_arm:
            return f"{self.machine}{' dotprod' if self.arm_dotprod else ''}"
        return self.machine


@dataclass(frozen=True)
class QuantDefaults:
    """int8 types and range for a CPU, with the reason (shown by ``edgeae quantize``)."""

    activation_type: str  # "QInt8" or "QUInt8"
    weight_type: str
    reduce_range: bool
    reason: str


def parse_cpuinfo(text: str, machine: str) -> CpuInfo:
    """A :class:`CpuInfo` from ``/proc/cpuinfo`` text (x86 ``flags`` or ARM ``Features``)."""
    flags: set[str] = set()
    model = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key in ("flags", "features") and not flags:
            flags = set(value.split())
        elif key in ("model name", "cpu model", "hardware") and not model:
            model = value.strip()
    return CpuInfo(machine=machine, model_name=model, flags=frozenset(f.lower() for f in flags))


def detect_cpu(cpuinfo_path: str | Path = "/proc/cpuinfo") -> CpuInfo:
    """The CPU this process runs on; without ``/proc/cpuinfo`` only the architecture is known."""
    machine = platform.machine() or "unknown"
    try:
        text = Path(cpuinfo_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return CpuInfo(machine=machine)
    return parse_cpuinfo(text, machine)


def default_quant_types(cpu: CpuInfo | None = None) -> QuantDefaults:
    """The activation/weight types and reduce_range onnxruntime runs fastest and safest here."""
    cpu = detect_cpu() if cpu is None else cpu
    if cpu.is_x86 and cpu.vnni:
        return QuantDefaults(
            "QUInt8", "QInt8", False, f"{cpu.describe()}: U8S8 (what x86 runs), full range"
        )
    if cpu.is_x86 and (cpu.avx2 or cpu.avx512):
        return QuantDefaults(
            "QUInt8",
            "QInt8",
            True,
            f"{cpu.describe()}: U8S8 with reduce_range (avoids saturation without VNNI)",
        )
    if cpu.is_arm:
        return QuantDefaults("QInt8", "QInt8", False, f"{cpu.describe()}: S8S8 (QDQ default)")
    return QuantDefaults(
        "QUInt8", "QInt8", True, f"{cpu.describe()}: U8S8 with reduce_range (portable choice)"
    )


def host_target(cpu: CpuInfo | None = None) -> str | None:
    """The :data:`TARGETS` name of this CPU (``None`` on any other architecture)."""
    cpu = detect_cpu() if cpu is None else cpu
    m = cpu.machine.lower()
    if m in ("aarch64", "arm64"):
        return "arm64"
    return "x86" if cpu.is_x86 else None


def target_cpu(target: str | None) -> CpuInfo:
    """The CPU the int8 types are chosen for: this one (``None`` or its own target) or a board.

    A foreign target's features are unknown, so it stands for the generic CPU of that
    architecture: ``arm64`` -> S8S8, ``x86`` -> U8S8 with ``reduce_range``.
    """
    if target is not None and target not in TARGETS:
        raise QuantizationParameterError(
            f"must be one of {', '.join(TARGETS)}, got {target!r}", param="target"
        )
    here = detect_cpu()
    if target is None or target == host_target(here):
        return here
    return CpuInfo(machine="aarch64" if target == "arm64" else "x86_64")
