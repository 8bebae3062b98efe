"""Signal codecs at several rates: edgeae's learned codec against the classical ones, same run.

- speech (16 kHz): conv1d rate-distortion models trained on the clean training
  files of builtin:speech, measured on its held-out files and on CMU ARCTIC clips
  of other speakers (../shared/data/speech/clean/cmu_arctic, when present); against
  IMA-ADPCM (4 bits/sample) and GSM 6.10 (8 kHz, 13 kbit/s) through sox. SNR and
  PESQ-wb (pesq package) after decoding.
- sensor (builtin:sensor, 1 kHz, its first 80 % trains, the rest is measured):
  conv1d rate-distortion models against uniform quantization + delta coding +
  deflate (and zstd when installed) at every step size: bytes per second vs SNR
  against the clean signal.

Bytes are counted from the real stream (header, frames, end marker). Every learned
model codes every test file twice in the same run: 8 windows per frame (format
version 3, the default) and one window per frame (version 2, what the encoder wrote
before): the same codes, so the same SNR, and the difference is the framing alone
("B/s 1w/f" and "saved"). Prints tables, writes benchmarks/results/rd_signals.json.

    python benchmarks/bench_rd_signals.py [--quick] [--parts speech,sensor] [--merge]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import torch

from edgeae.data import frame_signal, load_source
from edgeae.data.audio import read_audio
from edgeae.data.builtin.speech import HELD_OUT_CLEAN, TRAIN_CLEAN, bundle_dir
from edgeae.data.dataset import Dataset, fingerprint
from edgeae.train import TrainConfig, load_checkpoint, train
from edgeae_export import QuantizeRequest, export_autoencoder, quantize_model
from edgeae_export.sampling import EXPORT_SAMPLES, sample_items
from edgeae_runtime import Model
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.codec import compress, decompress
from edgeae_runtime.codec.encoder import FRAME_WINDOWS
from edgeae_runtime.metrics import snr_db
from edgeae_runtime.preprocess import normalize

RESULTS = Path(__file__).parent / "results" / "rd_signals.json"
ARCTIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech" / "clean" / "cmu_arctic"
RATE = 16000
# 64 ms speech windows (one window per frame, a frame's 23 bytes of header, CRC and rANS flush
# would cost 2.9 kbit/s of them, 11.5 at 16 ms windows; grouped by 8: 0.4 and 1.4)
SPEECH_WINDOW = 1024
SENSOR_WINDOW = 256
# 144 s of sensor training signal are 563 windows: at batch 128 x 40 epochs that was 160 Adam
# steps, and the codec sat at the same SNR at every lambda; batch 32 x 300 epochs (5.3k steps)
SENSOR_TRAIN = TrainConfig(epochs=300, batch_size=32, patience=1000)
SPEECH_TRAIN = TrainConfig(epochs=30, batch_size=128)
PARTS = ("speech", "sensor")


def windows_dataset(signals: list[np.ndarray], rate: int, window: int, name: str) -> Dataset:
    """Non-overlapping windows of ``signals`` as a signal Dataset the trainer and exporter take."""
    x = np.concatenate([frame_signal(s, window, window) for s in signals]).astype(np.float32)
    x = np.ascontiguousarray(x)
    return Dataset(
        name=name, x=x, layout="NCW", fingerprint=fingerprint([x], {"name": name}),
        sample_rate=rate, window=window, hop=window,
    )  # fmt: skip


def learned(
    name: str, ds: Dataset, tests: list[np.ndarray], rate: int, lambdas: list[float],
    config: TrainConfig, hidden: tuple[int, ...], latent: int, work: Path, pesq: bool,
) -> list[dict]:  # fmt: skip
    """Train/export/quantize one rate-distortion conv1d model per lambda; code every test."""
    rows = []
    for lam in lambdas:
        run = work / f"{name}-{lam:g}"
        t0 = time.perf_counter()
        cfg = dataclasses.replace(config, rate_lambda=lam)
        train(ds, "conv1d", {"hidden": hidden, "latent": latent}, cfg, run, force=True,
              progress=False)  # fmt: skip
        seconds = time.perf_counter() - t0
        ck = load_checkpoint(run)
        # parity and the entropy tables on `edgeae export`'s items: THE seeded sample spread
        # over the whole training signal, not its first 256 windows (sensor: its first 65 s)
        val = normalize(sample_items(ds.x, EXPORT_SAMPLES), ck.preprocessing)
        out = work / f"{name}-{lam:g}-onnx"
        export_autoencoder(ck.model, out_dir=out, example_inputs=val, info=ck.export_info(),
                           force=True)  # fmt: skip
        pairs = {"float": ("encoder.onnx", "decoder.onnx")}
        # calibrate on all the training windows (the calibration takes THE sample of them):
        # the first 256 alone (sensor: its first 65 s, all normal) miss the 3x-amplitude
        # stretches the test holds, and the int8 model then clipped them (7.0 vs 17.3 dB)
        calibration = ds.x
        try:
            for role in ("encoder", "decoder"):
                quantize_model(QuantizeRequest(
                    model_path=out / f"{role}.onnx", out_path=out / f"{role}.int8.onnx",
                    calibration=calibration, speed_gate=False,
                    encoder=out / "encoder.onnx" if role == "decoder" else None))  # fmt: skip
            pairs["int8"] = ("encoder.int8.onnx", "decoder.int8.onnx")
        except Exception as exc:  # keep the float row, say why
            print(f"  {name}: int8 failed at lambda {lam:g}: {exc}", file=sys.stderr)
        for kind, (e, d) in pairs.items():
            enc, dec = Model(out / e, threads=1), Model(out / d, threads=1)
            total_bytes, total_single, seconds_audio = 0, 0, 0.0
            snrs, snrs_single, pesqs = [], [], []
            for sig in tests:  # (channels, n)
                blob = compress(enc, sig)
                rec = decompress(dec, blob)[:, : sig.shape[-1]]
                single = compress(enc, sig, frame_windows=1)  # version 2: one window per frame
                rec_single = decompress(dec, single)[:, : sig.shape[-1]]
                total_bytes += len(blob)
                total_single += len(single)
                seconds_audio += sig.shape[-1] / rate
                snrs.append(snr_db(sig, rec))
                snrs_single.append(snr_db(sig, rec_single))
                if pesq:
                    pesqs.append(pesq_wb(sig[0], rec[0], rate))
            rows.append({
                "codec": f"edgeae {kind}", "setting": f"lambda={lam:g}",
                "bytes_per_second": total_bytes / seconds_audio,
                "kbit_per_s": 8 * total_bytes / seconds_audio / 1000,
                "snr_db": float(np.mean(snrs)),
                "pesq": float(np.mean(pesqs)) if pesqs else None,
                "frame_windows": FRAME_WINDOWS,
                "bytes_per_second_one_window_per_frame": total_single / seconds_audio,
                "snr_db_one_window_per_frame": float(np.mean(snrs_single)),
                "train_seconds": seconds,
            })  # fmt: skip
        print(f"  {name} lambda {lam:g}: trained in {seconds:.0f} s", file=sys.stderr)
    return rows


def pesq_wb(ref: np.ndarray, est: np.ndarray, rate: int) -> float:
    from edgeae.metrics import pesq_wb as score

    return float(score(ref, est, rate))


def sox_rows(tests: list[np.ndarray], rate: int, work: Path) -> list[dict]:
    """IMA-ADPCM and GSM 6.10 through sox: bytes of the coded file, quality after decoding."""
    import soundfile as sf

    if shutil.which("sox") is None:
        print("  sox not found: apt-get install sox (ADPCM/GSM rows skipped)", file=sys.stderr)
        return []
    rows = []
    for codec, ext, args in (("ima-adpcm", "wav", ["-e", "ima-adpcm"]),
                             ("gsm 6.10 (8 kHz)", "gsm", ["-r", "8000", "-c", "1"])):  # fmt: skip
        total, seconds, snrs, pesqs = 0, 0.0, [], []
        for i, sig in enumerate(tests):
            src, coded, back = (
                work / f"s{i}.wav",
                work / f"s{i}.coded.{ext}",
                work / f"s{i}.back.wav",
            )
            sf.write(src, np.clip(sig, -1, 1), rate, subtype="PCM_16")
            subprocess.run(["sox", str(src), *args, str(coded)], check=True)
            subprocess.run(["sox", str(coded), "-r", str(rate), "-e", "signed", "-b", "16",
                            str(back)], check=True)  # fmt: skip
            rec, _ = sf.read(back, dtype="float32")
            rec = np.pad(rec, (0, max(0, sig.size - rec.size)))[: sig.size]
            total += coded.stat().st_size
            seconds += sig.size / rate
            snrs.append(snr_db(sig, rec))
            pesqs.append(pesq_wb(sig, rec, rate))
        rows.append({"codec": codec, "setting": "sox", "bytes_per_second": total / seconds,
                     "kbit_per_s": 8 * total / seconds / 1000, "snr_db": float(np.mean(snrs)),
                     "pesq": float(np.mean(pesqs))})  # fmt: skip
    return rows


def delta_rows(clean: np.ndarray, rate: int) -> list[dict]:
    """Uniform quantization, first differences, then deflate (and zstd): bytes/s vs SNR."""
    try:
        import zstandard
    except ImportError:
        zstandard = None
    rows = []
    span = float(np.ptp(clean))
    for bits in (4, 5, 6, 7, 8, 10, 12):
        step = span / 2**bits
        q = np.rint(clean / step).astype(np.int64)
        rec = (q * step).astype(np.float32)
        d = np.diff(q, axis=-1, prepend=0).astype("<i2").tobytes()
        seconds = clean.shape[-1] / rate
        for name, size in (("delta+deflate", len(zlib.compress(d, 9))),
                           ("delta+zstd", len(zstandard.ZstdCompressor(level=19).compress(d))
                            if zstandard else None)):  # fmt: skip
            if size is not None:
                rows.append({"codec": name, "setting": f"{bits} bits", "snr_db": snr_db(clean, rec),
                             "bytes_per_second": size / seconds})  # fmt: skip
    return rows


def table(title: str, rows: list[dict]) -> str:
    lines = [f"\n{title}", f"{'codec':<18} {'setting':<14} {'B/s':>9} {'kbit/s':>8} "
             f"{'SNR dB':>7} {'PESQ':>6} {'B/s 1w/f':>9} {'saved':>6}"]  # fmt: skip
    for r in sorted(rows, key=lambda r: (r["codec"], r["bytes_per_second"])):
        pesq = f"{r['pesq']:6.2f}" if r.get("pesq") is not None else "     -"
        kbit = 8 * r["bytes_per_second"] / 1000
        single = r.get("bytes_per_second_one_window_per_frame")
        extra = f" {'-':>9} {'-':>6}"
        if single is not None:
            extra = f" {single:9.0f} {100 * (1 - r['bytes_per_second'] / single):5.1f}%"
        lines.append(f"{r['codec']:<18} {r['setting']:<14} {r['bytes_per_second']:9.0f} "
                     f"{kbit:8.2f} {r['snr_db']:7.2f} {pesq}{extra}")  # fmt: skip
    out = [lines[0].strip() + ":", "", "```", *lines[1:], "```"]
    grouped = [r for r in rows if r.get("bytes_per_second_one_window_per_frame")]
    if grouped:
        saved = [1 - r["bytes_per_second"] / r["bytes_per_second_one_window_per_frame"]
                 for r in grouped]  # fmt: skip
        d_snr = max(abs(r["snr_db"] - r["snr_db_one_window_per_frame"]) for r in grouped)
        k = grouped[0]["frame_windows"]
        out += ["", f"{k} windows per frame (format version 3) vs one (version 2), same models "
                f"and files: {100 * min(saved):.1f}-{100 * max(saved):.1f} % fewer bytes, SNR "
                f"differs by at most {d_snr:.3g} dB.", ""]  # fmt: skip
    return "\n".join(out)


def bench_speech(work: Path, quick: bool) -> dict:
    """conv1d codecs on the held-out speech files vs IMA-ADPCM and GSM 6.10 (sox)."""
    root = bundle_dir() / "clean"
    train_sigs = [read_audio(root / f"{n}.flac", sample_rate=RATE, mono=True)[0][0]
                  for n in TRAIN_CLEAN]  # fmt: skip
    tests = [read_audio(root / f"{n}.flac", sample_rate=RATE, mono=True)[0][0]
             for n in HELD_OUT_CLEAN]  # fmt: skip
    names = list(HELD_OUT_CLEAN)
    if ARCTIC.is_dir():
        for path in sorted(ARCTIC.glob("*.wav")):
            tests.append(read_audio(path, sample_rate=RATE, mono=True)[0][0])
            names.append(path.stem)
    ds = windows_dataset([s[None] for s in train_sigs], RATE, SPEECH_WINDOW, "speech-clean")
    lambdas = [0.1] if quick else [0.03, 0.1, 0.3, 1.0]
    cfg = dataclasses.replace(SPEECH_TRAIN, epochs=3) if quick else SPEECH_TRAIN
    ours = learned("speech", ds, [t[None] for t in tests], RATE, lambdas, cfg,
                   (32, 64, 64, 64), 4, work, pesq=True)  # fmt: skip
    rows = ours + sox_rows(tests, RATE, work)
    print(table(f"speech: held-out {', '.join(names)}", rows))
    return {"rows": rows, "test_files": names, "train_files": list(TRAIN_CLEAN)}


def bench_sensor(work: Path, quick: bool) -> dict:
    """conv1d codecs on the last 20 % of builtin:sensor vs delta coding + deflate/zstd."""
    sensor = load_source("builtin:sensor")
    clean = np.asarray(sensor.signal, np.float32)
    rate = int(sensor.sample_rate)
    cut = int(0.8 * clean.shape[-1])
    sds = windows_dataset([clean[:, :cut]], rate, SENSOR_WINDOW, "sensor-train")
    test = clean[:, cut:]
    cfg = dataclasses.replace(SENSOR_TRAIN, epochs=3) if quick else SENSOR_TRAIN
    ours = learned("sensor", sds, [test], rate, [0.1] if quick else [0.01, 0.1, 1.0], cfg,
                   (32, 64, 64), 4, work, pesq=False)  # fmt: skip
    rows = ours + delta_rows(test, rate)
    print(table(f"sensor: last 20 % of builtin:sensor ({test.shape[0]} channels)", rows))
    return {"rows": rows, "train": {k: getattr(cfg, k) for k in ("epochs", "batch_size")}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one lambda, few epochs")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset")
    parser.add_argument(
        "--merge", action="store_true", help="keep the stored results of the parts not run"
    )
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"--parts: unknown {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    torch.set_num_threads(1)
    result: dict = {}
    if args.merge and RESULTS.exists():
        result = {k: v for k, v in json.loads(RESULTS.read_text()).items() if k not in parts}
    result["quick"] = args.quick
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "speech" in parts:
            result["speech"] = bench_speech(work, args.quick)
        if "sensor" in parts:
            result["sensor"] = bench_sensor(work, args.quick)
    for part in PARTS:  # --merge: the stored parts' tables too, so the report stays whole
        if part not in parts and part in result:
            stored = result[part]
            what = f"held-out {', '.join(stored['test_files'])}" if part == "speech" else "stored"
            print(table(f"{part} (stored result, not re-run this time): {what}", stored["rows"]))
    write_text_atomic(RESULTS, json.dumps(result, indent=2))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
