"""The stages of ``edgeae demo``, each a library call of the stage's own package.

Every function takes the demo's shared ``context`` (data, files, report sections,
headline numbers) and returns ``(value, one-line summary)``. They call what the
CLI commands call: ``edgeae.train.train``, ``edgeae_export.export_autoencoder``,
``edgeae_export.quantize_model``, ``edgeae_export.compare.compare_models`` and the
runtime's StreamDenoiser, codec and StreamScorer.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from .demo import HELD_OUT_TONES, QUICK_HELD_OUT_TONES, DemoModel, Say, spread

__all__ = [
    "codec_round_trip",
    "compare",
    "export",
    "quantize",
    "score_anomalies",
    "stream_denoise",
    "train",
]

CHUNK_S = 0.1  # streaming chunk: 100 ms


def train(spec: DemoModel, ctx: dict[str, Any], say: Say) -> tuple[Path, str]:
    """The built-in's recipe, as ``edgeae train`` trains it, for ``spec.epochs`` (quick: 1)."""
    import torch

    from edgeae.data import load_source
    from edgeae.train import TrainConfig, recipe_arch, recipe_for
    from edgeae.train import train as run_training

    quick = ctx["quick"]
    source = spec.quick_source if quick else spec.source
    ds = load_source(source, limit=spec.quick_limit if quick else None)
    ctx.setdefault("data", {})[spec.name] = ds
    arch = recipe_arch(spec.source)
    overrides, train_recipe = recipe_for(spec.source, arch)
    recipe_config = TrainConfig(**train_recipe)
    epochs = 1 if quick else (spec.epochs or recipe_config.epochs)
    config = dataclasses.replace(recipe_config, epochs=epochs)
    run_dir = ctx["out"] / "runs" / spec.name

    def epoch_line(st: Any) -> None:
        if not quick:
            say(
                f"        epoch {st.epoch:2d}/{epochs}  train {st.train_loss:.4g}  "
                f"val {st.val_loss:.4g}  ({st.seconds:.1f} s)"
            )

    # One torch thread: these models are small, and two threads fighting over two busy
    # cores ran 20-50x slower (digits, 20 epochs: 2.5 s on one thread, 52 s on two).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_training(
            ds, arch, overrides, config, run_dir, progress=False,
            data_source=source, on_epoch_end=epoch_line,
        )  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    m = result.metrics
    quality = m.get("quality", m)
    extra = f", val PSNR {quality['val_psnr_db']:.2f} dB" if "val_psnr_db" in quality else ""
    arch = m.get("arch", arch or "default")
    return run_dir, (
        f"{arch} on {source} ({len(ds)} items), {result.epochs_run} epochs, "
        f"val loss {result.best_val:.4g}{extra}"
    )


def export(spec: DemoModel, run_dir: Path, out: Path) -> tuple[dict[str, Path], str]:
    """The run -> model/encoder/decoder ONNX with manifests, parity-checked against torch."""
    from edgeae.train import load_checkpoint
    from edgeae_export import export_autoencoder
    from edgeae_runtime.preprocess import normalize

    ckpt = load_checkpoint(run_dir)
    raw = _items(ckpt)
    info = ckpt.export_info()
    result = export_autoencoder(
        ckpt.model,
        out_dir=out / "models" / spec.name,
        example_inputs=normalize(raw, ckpt.preprocessing),
        info=info,
    )
    files = {f.role: f.path for f in result.files}
    worst = max(f.parity.max_abs_error for f in result.files)
    sizes = ", ".join(f"{f.path.name} {f.size_bytes / 1024:.0f} KiB" for f in result.files)
    return files, f"{sizes}; parity vs torch {worst:.1e}"


def _items(ckpt: Any) -> np.ndarray:
    """Parity items spread over the run's data, loaded with the model's own layout.

    (``edgeae export`` reloads the data without the run's layout override, so a
    dense model of digits is exported here from items loaded as the run saw them.)
    """
    from edgeae.data import load_source

    kwargs: dict[str, Any] = {"layout": ckpt.layout}
    if ckpt.signal is not None:
        kwargs.update(window=ckpt.signal.window, hop=ckpt.signal.hop)
    ds = load_source(ckpt.data_source, **kwargs)
    return np.asarray(ds.x[spread(len(ds), 256)], dtype=np.float32)


def quantize(
    spec: DemoModel, files: dict[str, Path], ctx: dict[str, Any], say: Say
) -> tuple[Path, str]:
    """Static int8 with the task's budget; the speed gate's refusal is reported, not hidden."""
    import onnx

    from edgeae_export import SpeedGateError, Validation, quantize_model

    ds = ctx["data"][spec.name]
    idx = spread(len(ds), 256 if ctx["quick"] else 512)
    x = np.asarray(ds.x[idx], dtype=np.float32)
    labels = ds.anomaly_labels
    target = None if ds.target is None else np.asarray(ds.target[idx], dtype=np.float32)
    validation = Validation(x, None if labels is None else labels[idx], spec.source, target=target)
    out = files["autoencoder"].with_name("model.int8.onnx")
    kwargs: dict[str, Any] = {
        "mode": "static",
        "calibration": x,
        "calibration_name": spec.source,
        "max_drop": spec.max_drop,
        "metric": spec.metric,
        "validation": validation,
        "force": True,
        "speed_gate": not ctx["quick"],  # a smoke run need not time float vs int8
    }
    gate = ""
    try:
        result = quantize_model(files["autoencoder"], out, **kwargs)
    except SpeedGateError as exc:
        gate = f" (speed gate: {exc.format_message().split(';')[0]}; written anyway for the demo)"
        say(f"        speed gate refused int8: {exc.format_message()}")
        ctx.setdefault("gate_notes", {})[spec.name] = exc.format_message()
        result = quantize_model(files["autoencoder"], out, allow_slower=True, **kwargs)
    if spec.codec:
        gate += _quantize_codec(files, x, ctx, say)
    b = result.budget
    budget = f", {b.metric} drop {b.measured_drop:.4g} (budget {b.max_drop:g})" if b else ""
    q = result.manifest.quantization
    present = {n.op_type for n in onnx.load(str(files["autoencoder"])).graph.node}
    kept = (*(op for op in q.excluded_op_types if op in present), *q.excluded_nodes)
    kept_text = f", kept float: {', '.join(kept)}" if kept else ""
    return out, (
        f"{out.name} {result.quantized_bytes / 1024:.0f} KiB ({100 * result.size_ratio:.0f}% of "
        f"float){budget}{kept_text}{gate}"
    )


def _quantize_codec(files: dict[str, Path], x: np.ndarray, ctx: dict[str, Any], say: Say) -> str:
    """Static int8 encoder and decoder (the decoder calibrated on the float encoder's latents).

    A speed-gate refusal keeps the float file for that half and says so.
    """
    from edgeae_export import SpeedGateError, quantize_model

    kept = []
    for role in ("encoder", "decoder"):
        src = files[role]
        out = src.with_name(f"{role}.int8.onnx")
        kwargs: dict[str, Any] = {"mode": "static", "calibration": x, "force": True}
        if role == "decoder":
            kwargs["encoder"] = files["encoder"]
        kwargs["speed_gate"] = not ctx["quick"]
        try:
            quantize_model(src, out, **kwargs)
        except SpeedGateError as exc:
            say(f"        speed gate kept {src.name} float: {exc.format_message()}")
            shutil.copyfile(src, out)
            kept.append(role)
        files[f"{role}.int8"] = out
    return f"; codec {'int8' if not kept else 'int8 except ' + ', '.join(kept)}"


def compare(spec: DemoModel, files: dict[str, Path], qpath: Path, ctx: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Float vs int8 on the task's data, with plots, into the report's sections."""
    from edgeae.report import comparison_sections
    from edgeae.report.document import Paragraph
    from edgeae_export.compare import compare_models

    quick = ctx["quick"]
    ds = ctx["data"][spec.name]
    c = compare_models(
        files["autoencoder"],
        qpath,
        ds,
        labels=ds.anomaly_labels,
        metric=spec.metric,
        max_drop=spec.max_drop,
        max_items=256 if quick else 2048,
        batches=(1, 8) if quick else (1, 256),
        measure_memory=not quick,
        latency_budget_s=0.01 if quick else 0.3,
    )
    report_dir = ctx["out"] / "report"
    sections = comparison_sections(
        c, report_dir, prefix=f"{spec.name}-", title=f"{spec.name}: float vs int8 ({spec.role})"
    )
    gate = ctx.get("gate_notes", {}).get(spec.name)
    if gate:
        sections[0].blocks.append(Paragraph(f"Speed gate: {gate}"))
    ctx["sections"].extend(sections)
    ctx.setdefault("comparisons", {})[spec.name] = c
    lat_a = next((lat for lat in c.a.latency if lat.batch > 1), c.a.latency[0])
    lat_b = next((lat for lat in c.b.latency if lat.batch > 1), c.b.latency[0])
    ctx["numbers"][spec.name] = {
        "metric": spec.metric,
        "float": c.verdict.value_a,
        "int8": c.verdict.value_b,
        "drop": c.verdict.drop,
        "passed": c.passed,
        "size_ratio": c.b.size_bytes / max(c.a.size_bytes, 1),
        f"speedup_b{lat_a.batch}": lat_a.p50_us / max(lat_b.p50_us, 1e-9),
    }
    return c, (
        f"{c.verdict.line}; size {c.a.size_bytes / 1024:.0f} -> {c.b.size_bytes / 1024:.0f} KiB, "
        f"batch {lat_a.batch} {lat_a.p50_us:.0f} -> {lat_b.p50_us:.0f} µs"
    )


def stream_denoise(ctx: dict[str, Any]) -> tuple[None, str]:
    """A held-out noisy tones recording (another seed, never trained on) through the int8
    model's StreamDenoiser in 100 ms chunks."""
    from edgeae.data import load_source
    from edgeae.report import plots
    from edgeae.report.document import Image, Paragraph, Section, Table
    from edgeae_runtime import metrics
    from edgeae_runtime.model import Model
    from edgeae_runtime.stream import StreamDenoiser

    source = QUICK_HELD_OUT_TONES if ctx["quick"] else HELD_OUT_TONES
    ds = load_source(source)
    qpath = ctx["out"] / "models" / "tones" / "model.int8.onnx"
    noisy, clean, rate = ds.signal, ds.clean_signal, int(ds.sample_rate)
    den = StreamDenoiser(Model(qpath))
    chunk = int(CHUNK_S * rate)
    t0 = time.perf_counter()
    parts = [den.push(noisy[:, i : i + chunk]) for i in range(0, noisy.shape[1], chunk)]
    latency_ms = den.latency_ms
    parts.append(den.flush())
    elapsed = time.perf_counter() - t0
    out = np.concatenate(parts, axis=1)
    seconds = noisy.shape[1] / rate
    snr_in, snr_out = metrics.snr_db(clean, noisy), metrics.snr_db(clean, out)
    rtf = elapsed / seconds
    ctx["numbers"]["stream"] = {
        "source": source, "snr_in_db": snr_in, "snr_out_db": snr_out, "rtf": rtf,
        "latency_ms": latency_ms,
    }  # fmt: skip
    section = Section("Streaming denoiser (tones, int8, held-out recording)")
    section.blocks += [
        Paragraph(
            f"{seconds:.1f} s of noisy 16 kHz audio ({source}: a recording the model was not "
            f"trained on) pushed in {CHUNK_S * 1000:.0f} ms chunks through StreamDenoiser "
            f"with {qpath.name}."
        ),
        Table(
            ("SNR in (dB)", "SNR out (dB)", "gain (dB)", "real-time factor", "latency (ms)"),
            ((f"{snr_in:.2f}", f"{snr_out:.2f}", f"{snr_out - snr_in:.2f}", f"{rtf:.4f}",
              f"{latency_ms:.1f}"),),
        ),
    ]  # fmt: skip
    if plots.matplotlib_available():
        span = min(rate // 20, clean.shape[1])  # 50 ms, where the clean signal is loudest
        energy = np.convolve(clean[0] ** 2, np.ones(span), mode="valid")
        a = int(np.argmax(energy))
        b = a + span
        traces = {"clean": clean[0, a:b], "noisy": noisy[0, a:b], "denoised": out[0, a:b]}
        p = plots.signal_plot(traces, ctx["out"] / "report" / "stream.png", sample_rate=rate)
        section.blocks.append(Image(p.name, "50 ms of the stream: clean, noisy, denoised"))
    ctx["sections"].append(section)
    summary = (
        f"held-out {source}: SNR {snr_in:.1f} dB -> {snr_out:.1f} dB, RTF {rtf:.4f} in "
        f"100 ms chunks, algorithmic latency {latency_ms:.1f} ms"
    )
    return None, summary


def codec_round_trip(ctx: dict[str, Any]) -> tuple[None, str]:
    """Compress the sensor recording with the int8 encoder, decompress it, both chunked.

    The stream is what a device would send over a slow link: 1 s chunks in,
    bytes out; the decoder is fed 256-byte pieces as they would arrive.
    """
    from edgeae.report.document import Paragraph, Section, Table
    from edgeae_runtime import metrics
    from edgeae_runtime.codec import StreamDecoder, StreamEncoder
    from edgeae_runtime.model import Model

    ds = ctx["data"]["sensor"]
    d = ctx["out"] / "models" / "sensor"
    signal, rate = ds.signal, int(ds.sample_rate)
    tag = "int8." if (d / "decoder.int8.onnx").is_file() else ""
    enc_path, dec_path = d / f"encoder.{tag}onnx", d / f"decoder.{tag}onnx"
    enc = StreamEncoder(Model(enc_path))
    dec = StreamDecoder(Model(dec_path))
    t0 = time.perf_counter()
    blob = b"".join(enc.push(signal[:, i : i + rate]) for i in range(0, signal.shape[1], rate))
    blob += enc.flush()
    t1 = time.perf_counter()
    pieces = [dec.push(blob[i : i + 256]) for i in range(0, len(blob), 256)]
    out = np.concatenate([*pieces, dec.flush()], axis=1)[:, : signal.shape[1]]
    t2 = time.perf_counter()
    seconds = signal.shape[1] / rate
    bps = len(blob) / seconds
    pcm = 2 * rate * signal.shape[0]
    snr = metrics.snr_db(signal, out)
    ctx["numbers"]["codec"] = {"bytes_per_s": bps, "ratio_vs_pcm16": pcm / bps, "snr_db": snr}
    section = Section("Stream codec (sensor)")
    section.blocks += [
        Paragraph(
            f"{seconds:.0f} s of {signal.shape[0]}-channel {rate} Hz vibration coded by "
            f"{enc_path.name} (8-bit latent codes, deflated when smaller) in 1 s chunks, and "
            f"decoded by {dec_path.name} from 256-byte pieces."
        ),
        Table(
            ("bytes/s", "vs 16-bit PCM", "SNR after decoding (dB)", "encode RTF", "decode RTF"),
            ((f"{bps:.0f}", f"{pcm / bps:.1f}x smaller", f"{snr:.2f}",
              f"{(t1 - t0) / seconds:.5f}", f"{(t2 - t1) / seconds:.5f}"),),
        ),
    ]  # fmt: skip
    ctx["sections"].append(section)
    return None, (
        f"{len(blob)} bytes for {seconds:.0f} s ({bps:.0f} B/s, {pcm / bps:.1f}x smaller than "
        f"16-bit PCM) with {enc_path.name}, SNR after decoding {snr:.1f} dB"
    )


def _segments(sample_labels: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` runs of anomalous samples (label > 0)."""
    bad = np.r_[False, np.asarray(sample_labels) > 0, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(bad))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def score_anomalies(ctx: dict[str, Any]) -> tuple[None, str]:
    """The sensor recording through the int8 model's StreamScorer: events vs the true segments."""
    from edgeae.report import plots
    from edgeae.report.document import Image, Paragraph, Section, Table
    from edgeae_runtime.anomaly import StreamScorer
    from edgeae_runtime.model import Model

    ds = ctx["data"]["sensor"]
    signal, rate = ds.signal, int(ds.sample_rate)
    scorer = StreamScorer(Model(ctx["out"] / "models" / "sensor" / "model.int8.onnx"))
    updates = [scorer.push(signal[:, i : i + rate]) for i in range(0, signal.shape[1], rate)]
    updates.append(scorer.flush())
    scores = np.concatenate([u.scores for u in updates])
    events = scorer.events
    truth = _segments(ds.sample_labels)
    hit = [any(e.start < t1 and e.end > t0 for e in events) for t0, t1 in truth]
    false_events = [e for e in events if not any(e.start < t1 and e.end > t0 for t0, t1 in truth)]
    ctx["numbers"]["anomaly"] = {
        "segments": len(truth), "detected": int(sum(hit)), "events": len(events),
        "false_events": len(false_events), "threshold": scorer.threshold,
    }  # fmt: skip
    section = Section("Anomaly scoring (sensor, int8, streamed)")
    section.blocks += [
        Paragraph(
            f"{signal.shape[1] / rate:.0f} s of 3-axis vibration pushed in 1 s chunks through "
            f"StreamScorer; threshold {scorer.threshold:.4g} from the quantized model's manifest."
        ),
        Table(
            ("true anomaly segments", "detected", "events raised", "false events"),
            ((str(len(truth)), str(sum(hit)), str(len(events)), str(len(false_events))),),
        ),
        Table(
            ("event", "start (s)", "end (s)", "peak score", "windows"),
            tuple((str(i + 1), f"{e.start / rate:.2f}", f"{e.end / rate:.2f}", f"{e.peak:.4g}",
                   str(e.windows)) for i, e in enumerate(events[:20])),
        ),
    ]  # fmt: skip
    if plots.matplotlib_available():
        hop = scorer.spec.hop
        trace = np.repeat(scores, hop)[: signal.shape[1]]
        p = plots.signal_plot(
            {"channel 0": signal[0], "score": trace},
            ctx["out"] / "report" / "anomaly.png",
            sample_rate=rate,
            spans=truth,
            threshold=scorer.threshold,
        )
        section.blocks.append(
            Image(p.name, "Signal and window scores; shaded: true anomalies; dashed: threshold")
        )
    ctx["sections"].append(section)
    return None, (
        f"{len(events)} events, {sum(hit)}/{len(truth)} true anomaly segments detected, "
        f"{len(false_events)} false events"
    )
