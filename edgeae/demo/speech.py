"""Demo step: real held-out speech in real noise through the pretrained speech denoiser.

The clean clips and noise stretches are the ones ``builtin:speech`` holds out
(LJSpeech LJ001-0030/0031, Speech Commands dishes/bike stretches the shipped
model never trained on), mixed at 0 and 5 dB; the int8 model shipped in the
runtime package (``Model.default("speech-denoiser")``) streams them in 20 ms
chunks. Metrics: SNR, SI-SNR, and PESQ-wb/STOI when the metrics extra is installed.
"""

from __future__ import annotations

import time

import numpy as np

from .results import SpeechExample, SpeechStep
from .spec import DemoRun

__all__ = ["run"]

#: (clean clip, noise stretch, SNR dB)
EXAMPLES = (("LJ001-0030", "dishes_heldout", 0.0), ("LJ001-0031", "bike_heldout", 5.0))
CHUNK_MS = 20


def _mix(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> tuple[np.ndarray, np.ndarray]:
    """(noisy, clean) at ``snr_db`` (edgeae's one mixer), scaled together to stay unclipped."""
    from edgeae.data.mixing import mix_at_snr, scale_to_level

    if noise.size < clean.size:
        noise = np.tile(noise, clean.size // noise.size + 1)
    return scale_to_level(mix_at_snr(clean, noise[: clean.size], snr_db), clean, None)


def run(demo: DemoRun) -> SpeechStep:
    """Mix, denoise in 20 ms chunks, score; keeps the signals for the report's players."""
    from edgeae.data.audio import read_audio
    from edgeae.data.builtin.speech import bundle_dir
    from edgeae.metrics import SPEECH_METRICS, speech_scores
    from edgeae.metrics.denoise import available_metrics
    from edgeae_runtime import Model
    from edgeae_runtime.speech import open_denoiser

    rate = 16000
    model = Model.default("speech-denoiser")
    metrics = [m for m in SPEECH_METRICS if m in available_metrics()]
    root = bundle_dir()
    examples, seconds, busy = [], 0.0, 0.0
    for clip, noise_name, snr in EXAMPLES[:1] if demo.quick else EXAMPLES:
        clean = read_audio(root / "clean" / f"{clip}.flac", rate)[0].mean(axis=0)
        noise = read_audio(root / "noise" / f"{noise_name}.flac", rate)[0].mean(axis=0)
        noisy, clean = _mix(clean.astype(np.float32), noise.astype(np.float32), snr)
        den = open_denoiser(model, rate)
        step = rate * CHUNK_MS // 1000
        t0 = time.perf_counter()
        parts = [den.push(noisy[i : i + step]) for i in range(0, noisy.size, step)]
        parts.append(den.flush())
        busy += time.perf_counter() - t0
        out = np.concatenate(parts, axis=1)[0]
        seconds += noisy.size / rate
        examples.append(
            SpeechExample(
                name=f"{clip} + {noise_name} at {snr:g} dB",
                noisy=noisy,
                denoised=out,
                clean=clean,
                scores_in=speech_scores(clean, noisy, rate, metrics),
                scores_out=speech_scores(clean, out, rate, metrics),
            )
        )
    return SpeechStep(
        model=str(model.path.name),
        sample_rate=rate,
        chunk_ms=CHUNK_MS,
        latency_ms=open_denoiser(model, rate).latency_ms,
        rtf=busy / seconds,
        metrics=tuple(metrics),
        examples=tuple(examples),
    )
