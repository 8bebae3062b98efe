"""The demo's report and terminal summary, built from the steps' typed results after they ran.

:func:`write_demo_report` writes ``report.md`` and ``index.html`` (a summary of
every stage with its time, then one section per step, with plots when
matplotlib is installed); :func:`summary_lines` is what ``edgeae demo`` prints
at the end. Neither imports :mod:`edgeae.demo` at run time (the demo calls them).
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING

from . import plots
from .compare_report import comparison_sections
from .document import Audio, Code, Document, Image, Paragraph, Section, Table

if TYPE_CHECKING:
    from edgeae.demo.results import (
        AnomalyStep,
        CodecStep,
        DemoResult,
        ModelSteps,
        SpeechStep,
        StreamStep,
    )

__all__ = ["summary_lines", "write_demo_report"]

_NO_PLOTS = "No plots: matplotlib is not installed (pip install 'edgeae[report]')."


def write_demo_report(directory: str | Path, result: DemoResult) -> tuple[Path, Path]:
    """Write ``report.md`` and ``index.html`` (and the plots) for a demo run into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    sections = [_head(result)]
    for model in result.models:
        sections += _model_sections(model, out)
    if result.stream is not None:
        sections.append(_stream_section(result.stream, out))
    if result.speech is not None:
        sections.append(_speech_section(result.speech, out))
    if result.codec is not None:
        sections.append(_codec_section(result.codec))
    if result.anomaly is not None:
        sections.append(_anomaly_section(result.anomaly, out))
    doc = Document("edgeae demo", sections, lead=f"Run directory: {result.out_dir}")
    return doc.write(out)


def summary_lines(result: DemoResult) -> list[str]:
    """The demo's closing summary: one line per model and per signal step, then the report."""
    lines = [f"edgeae demo finished in {result.seconds:.1f} s"]
    for m in result.models:
        v, c = m.compare.comparison.verdict, m.compare
        lines.append(
            f"  {m.spec.name:7s} {v.metric} float {v.value_a:.4g} -> int8 {v.value_b:.4g} "
            f"(drop {v.drop:.3g}, {'within' if v.passed else 'OVER'} budget), "
            f"size {100 * c.size_ratio:.0f}%, b{c.batch} speed-up {c.speedup:.2f}x"
        )
    if (s := result.stream) is not None:
        lines.append(
            f"  stream  SNR {s.snr_in_db:.1f} -> {s.snr_out_db:.1f} dB on held-out "
            f"{s.source}, RTF {s.rtf:.4f}, latency {s.latency_ms:.1f} ms"
        )
    if (sp := result.speech) is not None:
        lines.append(f"  speech  {sp.summary}")
    if (k := result.codec) is not None:
        lines.append(
            f"  codec   held-out sensor stream {k.bytes_per_s:.0f} B/s ({k.ratio_vs_pcm16:.1f}x "
            f"smaller than PCM16), SNR after decoding {k.snr_db:.1f} dB (quality {k.quality})"
        )
    if (a := result.anomaly) is not None:
        lines.append(
            f"  anomaly {a.detected}/{len(a.truth)} segments detected, "
            f"{a.false_events} false events"
        )
    lines.append(f"report: {result.report_html} (and {result.report_md.name})")
    return lines


def _head(result: DemoResult) -> Section:
    rows = tuple(
        (s.name, f"{s.seconds:.1f}", "-" if s.peak_rss_mb is None else f"{s.peak_rss_mb:.0f}",
         s.summary)
        for s in result.stages
    )  # fmt: skip
    quick = result.quick
    head = Section(
        "What ran",
        [
            Paragraph(
                "Every stage of edgeae on built-in data: train, export (parity-checked against "
                "torch), quantize to int8 within a budget, compare float vs int8, stream-denoise "
                "audio, compress a stream, score anomalies."
                + (" Quick mode: tiny data and one epoch, numbers are not meaningful." if quick
                   else "")
            ),
            Table(("stage", "seconds", "peak RSS so far (MB)", "result"), rows),
            Paragraph(
                f"Total {result.seconds:.1f} s on {platform.machine()} "
                f"({platform.python_version()})."
            ),
            Code(f"edgeae demo --out {result.out_dir}{' --quick' if quick else ''}"),
        ],
    )  # fmt: skip
    if not plots.matplotlib_available():
        head.blocks.append(Paragraph(_NO_PLOTS))
    return head


def _model_sections(model: ModelSteps, out: Path) -> list[Section]:
    """Float vs int8 of one model (compare's own report sections) and the speed gate's word."""
    spec = model.spec
    sections = comparison_sections(
        model.compare.comparison,
        out,
        prefix=f"{spec.name}-",
        title=f"{spec.name}: float vs int8 ({spec.role})",
    )
    refusal = model.quantize.gate_refusal
    if refusal:
        sections[0].blocks.append(Paragraph(f"Speed gate: {refusal}"))
    return sections


def _stream_section(s: StreamStep, out: Path) -> Section:
    section = Section("Streaming denoiser (tones, int8, held-out recording)")
    section.blocks += [
        Paragraph(
            f"{s.seconds:.1f} s of noisy 16 kHz audio ({s.source}: a recording the model was not "
            f"trained on) pushed in {s.chunk_s * 1000:.0f} ms chunks through StreamDenoiser "
            f"with {s.model}."
        ),
        Table(
            ("SNR in (dB)", "SNR out (dB)", "gain (dB)", "real-time factor", "latency (ms)"),
            ((f"{s.snr_in_db:.2f}", f"{s.snr_out_db:.2f}", f"{s.snr_out_db - s.snr_in_db:.2f}",
              f"{s.rtf:.4f}", f"{s.latency_ms:.1f}"),),
        ),
    ]  # fmt: skip
    if plots.matplotlib_available():
        p = plots.signal_plot(s.clip, out / "stream.png", sample_rate=s.sample_rate)
        section.blocks.append(Image(p.name, "50 ms of the stream: clean, noisy, denoised"))
    return section


_METRIC_NAMES = {"snr": "SNR (dB)", "sisnr": "SI-SNR (dB)", "pesq": "PESQ-wb", "stoi": "STOI"}


def _speech_section(s: SpeechStep, out: Path) -> Section:
    from edgeae_runtime.audio import write_wav

    section = Section("Speech denoiser (pretrained, int8, real speech and real noise)")
    section.blocks.append(
        Paragraph(
            f"Held-out LJSpeech clips mixed with held-out Speech Commands noise (builtin:speech's "
            f"held-out files, never trained on) streamed in {s.chunk_ms} ms chunks through "
            f"{s.model}, the model shipped in the runtime package (Model.default("
            f'"speech-denoiser")): real-time factor {s.rtf:.4f}, algorithmic latency '
            f"{s.latency_ms:.1f} ms. Listen below."
        )
    )
    rows = []
    for ex in s.examples:
        for label, scores in (("noisy", ex.scores_in), ("denoised", ex.scores_out)):
            rows.append((ex.name, label, *(f"{scores[m]:.3g}" for m in s.metrics)))
    section.blocks.append(
        Table(("clip", "signal", *(_METRIC_NAMES.get(m, m) for m in s.metrics)), tuple(rows))
    )
    for i, ex in enumerate(s.examples):
        signals = {"noisy": ex.noisy, "denoised": ex.denoised, "clean": ex.clean}
        for label, x in signals.items():
            name = f"speech{i}-{label}.wav"
            write_wav(out / name, x, s.sample_rate)
            section.blocks.append(Audio(name, f"{ex.name}: {label}"))
        if plots.matplotlib_available():
            p = plots.spectrogram_plot(signals, out / f"speech{i}.png", sample_rate=s.sample_rate)
            section.blocks.append(Image(p.name, f"{ex.name}: spectrograms before/after"))
    return section


def _codec_section(k: CodecStep) -> Section:
    section = Section("Stream codec (sensor)")
    section.blocks += [
        Paragraph(
            f"A rate-distortion codec (`edgeae train --quality {k.quality}`, conv1d, trained "
            f"in {k.train_seconds:.0f} s on the first {k.train_share:.0%} of the recording, "
            f"anomalies included) codes the last {k.seconds:.0f} s of {k.channels}-channel "
            f"{k.sample_rate} Hz vibration, which it never saw, with {k.encoder} "
            f"(entropy-coded latents) in 1 s chunks; {k.decoder} decodes it from 256-byte "
            "pieces."
        ),
        Table(
            ("bytes/s", "vs 16-bit PCM", "SNR after decoding (dB)", "encode RTF", "decode RTF"),
            ((f"{k.bytes_per_s:.0f}", f"{k.ratio_vs_pcm16:.1f}x smaller", f"{k.snr_db:.2f}",
              f"{k.encode_rtf:.5f}", f"{k.decode_rtf:.5f}"),),
        ),
    ]  # fmt: skip
    return section


def _anomaly_section(a: AnomalyStep, out: Path) -> Section:
    rate = a.sample_rate
    section = Section("Anomaly scoring (sensor, int8, streamed)")
    section.blocks += [
        Paragraph(
            f"{a.seconds:.0f} s of 3-axis vibration pushed in 1 s chunks through "
            f"StreamScorer; threshold {a.threshold:.4g} from the quantized model's manifest."
        ),
        Table(
            ("true anomaly segments", "detected", "events raised", "false events"),
            ((str(len(a.truth)), str(a.detected), str(len(a.events)), str(a.false_events)),),
        ),
        Table(
            ("event", "start (s)", "end (s)", "peak score", "windows"),
            tuple((str(i + 1), f"{e.start / rate:.2f}", f"{e.end / rate:.2f}", f"{e.peak:.4g}",
                   str(e.windows)) for i, e in enumerate(a.events[:20])),
        ),
    ]  # fmt: skip
    if plots.matplotlib_available():
        p = plots.signal_plot(
            {"channel 0": a.signal, "score": a.score_trace},
            out / "anomaly.png",
            sample_rate=rate,
            spans=list(a.truth),
            threshold=a.threshold,
        )
        section.blocks.append(
            Image(p.name, "Signal and window scores; shaded: true anomalies; dashed: threshold")
        )
    return section
