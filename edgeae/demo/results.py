"""What each step of the demo produced: typed results, read by the report and the CLI summary.

A step returns one of these; its ``summary`` is the step's progress line. The
report (:mod:`edgeae.report.demo_report`) is built from them after every step
has run, so no step writes report sections or shares state through a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .spec import DemoModel

__all__ = [
    "AnomalyStep",
    "CodecStep",
    "CompareStep",
    "DemoResult",
    "ExportStep",
    "ModelFiles",
    "ModelSteps",
    "QuantizeStep",
    "SpeechExample",
    "SpeechStep",
    "StageTime",
    "StepResult",
    "StreamStep",
    "TrainStep",
]


class StepResult(Protocol):
    """Anything a step returns: it can say in one line what happened."""

    @property
    def summary(self) -> str: ...


@dataclass(frozen=True)
class StageTime:
    """One stage of the demo, how long it took, and the process's peak RSS after it (MB)."""

    name: str
    seconds: float
    summary: str
    peak_rss_mb: float | None = None


@dataclass(frozen=True)
class TrainStep:
    """A trained run directory and the data it was trained on (reused by later steps)."""

    spec: DemoModel
    run_dir: Path
    dataset: Any  # edgeae.data.Dataset
    source: str
    arch: str
    epochs_run: int
    best_val: float
    val_psnr_db: float | None = None

    @property
    def summary(self) -> str:
        extra = f", val PSNR {self.val_psnr_db:.2f} dB" if self.val_psnr_db is not None else ""
        return (
            f"{self.arch} on {self.source} ({len(self.dataset)} items), {self.epochs_run} epochs, "
            f"val loss {self.best_val:.4g}{extra}"
        )


@dataclass(frozen=True)
class ModelFiles:
    """The three float ONNX files of one model."""

    autoencoder: Path
    encoder: Path
    decoder: Path


@dataclass(frozen=True)
class ExportStep:
    """The exported float files, their sizes and the worst parity error against torch."""

    files: ModelFiles
    sizes: tuple[tuple[str, int], ...]
    parity_error: float

    @property
    def summary(self) -> str:
        sizes = ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in self.sizes)
        return f"{sizes}; parity vs torch {self.parity_error:.1e}"


@dataclass(frozen=True)
class QuantizeStep:
    """The int8 model, its budget, and what the speed gate said."""

    path: Path
    quantized_bytes: int
    size_ratio: float
    metric: str | None = None
    measured_drop: float | None = None
    max_drop: float | None = None
    kept_float: tuple[str, ...] = ()
    gate_refusal: str | None = None  # the speed gate's message when it refused (written anyway)

    @property
    def summary(self) -> str:
        budget = (
            f", {self.metric} drop {self.measured_drop:.4g} (budget {self.max_drop:g})"
            if self.measured_drop is not None
            else ""
        )
        kept = f", kept float: {', '.join(self.kept_float)}" if self.kept_float else ""
        gate = ""
        if self.gate_refusal is not None:
            first = self.gate_refusal.split(";")[0]
            gate = f" (speed gate: {first}; written anyway for the demo)"
        return (
            f"{self.path.name} {self.quantized_bytes / 1024:.0f} KiB "
            f"({100 * self.size_ratio:.0f}% of float){budget}{kept}{gate}"
        )


@dataclass(frozen=True)
class CompareStep:
    """Float vs int8 on the task's data (the full Comparison rides along for the report)."""

    comparison: Any  # edgeae_export.compare.Comparison
    batch: int  # the batch the speed-up is quoted at (the first > 1)
    float_p50_us: float
    int8_p50_us: float

    @property
    def speedup(self) -> float:
        """int8 speed-up over float at ``batch`` (median latency ratio)."""
        return self.float_p50_us / max(self.int8_p50_us, 1e-9)

    @property
    def size_ratio(self) -> float:
        """int8 file size / float file size."""
        c = self.comparison
        return c.b.size_bytes / max(c.a.size_bytes, 1)

    @property
    def summary(self) -> str:
        c = self.comparison
        return (
            f"{c.verdict.line}; size {c.a.size_bytes / 1024:.0f} -> {c.b.size_bytes / 1024:.0f} "
            f"KiB, batch {self.batch} {self.float_p50_us:.0f} -> {self.int8_p50_us:.0f} µs"
        )


@dataclass(frozen=True)
class ModelSteps:
    """The four per-model steps of one demo model."""

    spec: DemoModel
    train: TrainStep
    export: ExportStep
    quantize: QuantizeStep
    compare: CompareStep


@dataclass(frozen=True)
class StreamStep:
    """A held-out noisy recording through the int8 StreamDenoiser in chunks."""

    source: str
    model: str
    seconds: float
    chunk_s: float
    sample_rate: int
    snr_in_db: float
    snr_out_db: float
    rtf: float
    latency_ms: float
    clip: dict[str, np.ndarray]  # 50 ms where the clean signal is loudest: clean, noisy, denoised

    @property
    def summary(self) -> str:
        return (
            f"held-out {self.source}: SNR {self.snr_in_db:.1f} dB -> {self.snr_out_db:.1f} dB, "
            f"RTF {self.rtf:.4f} in {self.chunk_s * 1000:.0f} ms chunks, algorithmic latency "
            f"{self.latency_ms:.1f} ms"
        )


@dataclass(frozen=True)
class SpeechExample:
    """One held-out noisy speech clip, its denoised output and clean reference, with scores."""

    name: str
    noisy: np.ndarray
    denoised: np.ndarray
    clean: np.ndarray
    scores_in: dict[str, float]
    scores_out: dict[str, float]


@dataclass(frozen=True)
class SpeechStep:
    """Real speech in real noise through the pretrained speech denoiser (int8, streamed)."""

    model: str
    sample_rate: int
    chunk_ms: int
    latency_ms: float
    rtf: float
    metrics: tuple[str, ...]
    examples: tuple[SpeechExample, ...]

    @property
    def summary(self) -> str:
        gains = [
            f"{m} {np.mean([e.scores_in[m] for e in self.examples]):.2f} -> "
            f"{np.mean([e.scores_out[m] for e in self.examples]):.2f}"
            for m in self.metrics
            if m in ("sisnr", "pesq")
        ]
        return (
            f"pretrained speech denoiser on {len(self.examples)} held-out clip(s): "
            f"{', '.join(gains)}, RTF {self.rtf:.4f}, latency {self.latency_ms:.1f} ms"
        )


@dataclass(frozen=True)
class CodecStep:
    """A stretch of the sensor recording the codec never trained on, coded in chunks."""

    encoder: str
    decoder: str
    seconds: float
    channels: int
    sample_rate: int
    total_bytes: int
    snr_db: float
    encode_rtf: float
    decode_rtf: float
    quality: int  # edgeae train --quality of the codec model
    train_seconds: float
    train_share: float  # the leading share of the recording the codec trained on

    @property
    def bytes_per_s(self) -> float:
        return self.total_bytes / self.seconds

    @property
    def ratio_vs_pcm16(self) -> float:
        """How many times smaller than 16-bit PCM of the same signal."""
        return 2 * self.sample_rate * self.channels / self.bytes_per_s

    @property
    def summary(self) -> str:
        return (
            f"quality {self.quality} codec trained in {self.train_seconds:.0f} s on the first "
            f"{self.train_share:.0%}; the last {self.seconds:.0f} s: {self.total_bytes} bytes "
            f"({self.bytes_per_s:.0f} B/s, {self.ratio_vs_pcm16:.1f}x smaller than 16-bit PCM) "
            f"with {self.encoder}, SNR after decoding {self.snr_db:.1f} dB"
        )


@dataclass(frozen=True)
class AnomalyStep:
    """The sensor recording through the int8 StreamScorer: events vs the true segments."""

    seconds: float
    sample_rate: int
    threshold: float
    truth: tuple[tuple[int, int], ...]  # [start, end) samples of the true anomalies
    events: tuple[Any, ...]  # edgeae_runtime.anomaly events (start, end, peak, windows)
    detected: int
    false_events: int
    signal: np.ndarray  # channel 0 of the recording
    score_trace: np.ndarray  # each window's score repeated over its hop

    @property
    def summary(self) -> str:
        return (
            f"{len(self.events)} events, {self.detected}/{len(self.truth)} true anomaly segments "
            f"detected, {self.false_events} false events"
        )


@dataclass
class DemoResult:
    """Where everything went, each stage's time and every step's typed result."""

    out_dir: Path
    report_md: Path
    report_html: Path
    quick: bool = False
    stages: list[StageTime] = field(default_factory=list)
    models: list[ModelSteps] = field(default_factory=list)
    stream: StreamStep | None = None
    speech: SpeechStep | None = None
    codec: CodecStep | None = None
    anomaly: AnomalyStep | None = None

    @property
    def seconds(self) -> float:
        """Total wall time of all stages."""
        return sum(s.seconds for s in self.stages)
