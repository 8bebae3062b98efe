"""``edgeae-rt info``: what a model file is and how the runtime will use it."""

from __future__ import annotations

import click

from ..clitools import Command, legacy_argument
from ._common import echo_json, json_option, load_model, model_option

__all__ = ["info"]


@click.command("info", cls=Command)
@model_option()
@legacy_argument("MODEL", into="model_path", flag="-m/--model")
@json_option
def info(model_path: str, as_json: bool) -> None:
    """Summarize the model's manifest: role, shapes, signal framing, threshold, quantization.

    --json prints the whole manifest.

    \b
    Examples:
      edgeae-rt info -m models/hum/model.onnx
      edgeae-rt info -m models/hum/model.onnx --json | jq .manifest.signal
    """
    model = load_model(model_path)
    m = model.manifest
    if as_json:
        echo_json({"file": str(model.path), "manifest": m.to_dict()})
        return
    rows = [
        ("file", str(model.path)),
        ("role", m.role),
        ("arch", m.arch),
        ("layout", m.layout),
        ("item shape", str(tuple(m.item_shape))
         + ("; the graph takes images of any size (whole photos: one latent map)"
            if model.any_size else "")),
        ("latent shape", str(tuple(m.latent_shape))),
        ("inputs", ", ".join(f"{t.name}{list(t.shape)}" for t in m.inputs)),
        ("outputs", ", ".join(f"{t.name}{list(t.shape)}" for t in m.outputs)),
        ("fingerprint", m.provenance.fingerprint),
        ("quantization", m.quantization.mode),
    ]
    if m.signal is not None:
        s = m.signal
        latency = 1000.0 * (s.window - 1) / s.sample_rate
        rows.append(
            (
                "signal",
                f"{s.sample_rate} Hz, {s.channels} ch, window {s.window}, hop {s.hop}, "
                f"{s.synthesis_window} (latency {latency:.1f} ms)",
            )
        )
    if m.windows is not None:
        w = m.windows
        rows.append(("windows", f"window {w.window}, hop {w.hop} (items cut from one signal)"))
    if m.spectral is not None:
        sp = m.spectral
        comp = f"|X|^{sp.exponent:g}" if sp.compression == "power" else "log1p|X|"
        floor = f" + noise floor {sp.noise_floor:g}" if sp.noise_floor > 0 else ""
        rows.append(
            (
                "spectral",
                f"{sp.fft_size}-point FFT, {sp.analysis_window}, {comp} of "
                f"{sp.context_frames} frames{floor} -> {sp.output}",
            )
        )
    if m.features is not None:
        f = m.features
        rows.append(
            (
                "features",
                f"log-mel: {f.n_mels} mels x {f.frames} frames ({f.n_fft}-point FFT, hop "
                f"{f.hop}, {f.sample_rate} Hz), clip score = {f.reduce} of items",
            )
        )
    if m.anomaly is not None:
        from ..operating_point import describe_operating_point

        a = m.anomaly
        law = a.score if a.tails == "upper" else f"|ln {a.score} - ({a.center:.4g})|"
        if a.baseline_windows:
            law = f"({law} - {a.baseline_center:.4g}) / {a.baseline_scale:.4g}"
        rows.append(("anomaly", f"{law} > {a.threshold:.6g} ({describe_operating_point(a)})"))
    if m.codec is not None:
        rows.append(("codec", f"{m.codec.bits}-bit latent codes"))
    if m.parity is not None:
        rows.append(
            ("parity", f"max abs error {m.parity.max_abs_error:.3g} vs {m.parity.reference}")
        )
    if m.sensorlog is not None:
        g = m.sensorlog
        rows.append(
            ("sensor log", f"CSV columns {', '.join(g.columns)} every {g.period:g} s "
             f"(gaps over {g.max_gap:g} s masked), hop {g.hop}")
        )
    if m.execution is not None:
        e = m.execution
        rows.append(
            ("execution", f"{e.provider} recommended at batch {e.batch}, {e.threads} thread(s) "
             f"(openvino {e.speedup:.2f}x onnxruntime on {e.machine or '?'}, {e.measured or '?'})")
        )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key:<{width}}  {value}")
