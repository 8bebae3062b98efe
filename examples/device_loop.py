"""A small device program: read a live stream, denoise it, score it, send compressed frames.

It uses only edgeae-runtime (numpy + onnxruntime): the shape of the loop a
firmware engineer would put on a board. Input is raw PCM on stdin (s16le at
the model's rate) or a simulated sensor (a hum plus noise, with a burst now
and then). For every chunk it prints the wall time the chunk took, the
samples it made final, the bytes it would send over the link, and any
anomaly event that closed.

    python examples/device_loop.py -m models/hum/model.onnx --encoder models/hum/encoder.onnx
    arecord -f S16_LE -r 16000 -t raw | python examples/device_loop.py -m model.onnx --stdin
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator

import numpy as np

from edgeae_runtime import EdgeAEError, Model, StreamDenoiser, StreamScorer
from edgeae_runtime.audio import open_reader


def simulated_sensor(rate: int, channels: int, chunk: int, seconds: float) -> Iterator[np.ndarray]:
    """A 50 Hz hum with harmonics and noise; a loud burst in the middle of every 4th second."""
    rng = np.random.default_rng(0)
    total = int(seconds * rate)
    for start in range(0, total, chunk):
        n = np.arange(start, min(start + chunk, total))
        t = n / rate
        hum = 0.3 * np.sin(2 * np.pi * 50 * t) + 0.1 * np.sin(2 * np.pi * 150 * t)
        x = hum + 0.02 * rng.standard_normal((channels, n.size))
        burst = (t % 4.0 > 2.0) & (t % 4.0 < 2.1)
        x[:, burst] += 0.8 * rng.standard_normal((channels, int(burst.sum())))
        yield x.astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-m", "--model", required=True, help="the autoencoder (model.onnx)")
    parser.add_argument(
        "--encoder", help="encoder.onnx with a codec section: send compressed frames"
    )
    parser.add_argument("--stdin", action="store_true", help="read raw s16le PCM from stdin")
    parser.add_argument("--seconds", type=float, default=5.0, help="simulated sensor duration")
    parser.add_argument("--chunk-ms", type=float, default=100.0, help="chunk size")
    parser.add_argument("--threshold", type=float, help="anomaly threshold (default: manifest)")
    parser.add_argument("--realtime", action="store_true", help="pace the simulated sensor")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args()

    try:
        model = Model(args.model)  # one session, shared by every stream below
        spec = model.require_signal()
        denoiser = StreamDenoiser(model)
        scorer = None
        if args.threshold is not None or model.manifest.anomaly is not None:
            scorer = StreamScorer(model, threshold=args.threshold)
        encoder = None
        if args.encoder:
            from edgeae_runtime.codec import StreamEncoder

            encoder = StreamEncoder(Model(args.encoder))
        chunk = max(1, round(args.chunk_ms * spec.sample_rate / 1000))
        if args.stdin:
            source: Iterator[np.ndarray] = iter(
                open_reader("-", sample_rate=spec.sample_rate, channels=spec.channels,
                            chunk_frames=chunk)
            )  # fmt: skip
        else:
            source = simulated_sensor(spec.sample_rate, spec.channels, chunk, args.seconds)

        print(
            f"model {model.path.name}: {spec.sample_rate} Hz, {spec.channels} ch, "
            f"algorithmic latency {denoiser.latency_ms:.1f} ms; chunks of {args.chunk_ms:g} ms",
            file=sys.stderr,
        )
        times, sent, samples_in, samples_out = [], 0, 0, 0
        for x in source:
            t0 = time.perf_counter()
            clean = denoiser.push(x)  # denoised samples that are final now
            events = scorer.push(x).events if scorer else []  # closed anomaly events
            frames = encoder.push(x) if encoder else b""  # bytes for the slow link
            elapsed = time.perf_counter() - t0
            times.append(elapsed)
            samples_in += x.shape[1]
            samples_out += clean.shape[1]
            sent += len(frames)
            if not args.quiet:
                print(f"chunk {len(times):4d}: {1000 * elapsed:7.3f} ms, {clean.shape[1]:5d} "
                      f"samples out, {len(frames):5d} bytes sent")  # fmt: skip
            for ev in events:
                print(f"  ANOMALY samples {ev.start}-{ev.end} (peak score {ev.peak:.4g})")
            if args.realtime and not args.stdin:
                time.sleep(max(0.0, x.shape[1] / spec.sample_rate - elapsed))
        samples_out += denoiser.flush().shape[1]
        for ev in scorer.flush().events if scorer else []:
            print(f"  ANOMALY samples {ev.start}-{ev.end} (peak score {ev.peak:.4g})")
        if encoder:
            sent += len(encoder.flush())
    except EdgeAEError as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130

    seconds = samples_in / spec.sample_rate
    ms = 1000 * np.asarray(times or [0.0])
    print(
        f"{seconds:.1f} s in, {samples_out} samples out ({samples_in} in); chunk time p50 "
        f"{np.percentile(ms, 50):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms; "
        + (f"{len(scorer.events)} anomaly event(s); " if scorer else "no threshold: not scored; ")
        + (
            f"{sent / max(seconds, 1e-9):.0f} bytes/s sent"
            if encoder
            else "no encoder: nothing sent"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
