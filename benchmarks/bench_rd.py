"""Rate-distortion benchmark: edgeae's learned codec against classical codecs at equal bytes.

For each data set, a ladder of rate-distortion models (``TrainConfig.rate_lambda``)
is trained, exported, and run through the runtime's real codec (int8 and float
encoder/decoder, rANS-coded stream, bytes counted from the stream itself), side
by side with the baselines in the same run:

- digits (the built-in 8x8 UCI digits, its own test split): PCA with 8-bit
  coefficients + deflate, at every rank;
- image crops (64x64 grayscale crops of ../shared/data/images; the model trains
  on crops of some images and is measured on crops of the others): JPEG and
  WebP from Pillow at every quality, PCA with 8-bit coefficients + deflate.

PSNR uses the data's value range as peak (the runtime's one PSNR rule); SSIM is
measured on the image crops. Prints a table, writes benchmarks/results/rd.json.

    python benchmarks/bench_rd.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from edgeae.data import load_source
from edgeae.data.dataset import Dataset, fingerprint
from edgeae.train import TrainConfig, load_checkpoint, train
from edgeae_export import export_autoencoder
from edgeae_runtime import Model
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.codec import compress_items, decompress_items
from edgeae_runtime.metrics import psnr
from edgeae_runtime.preprocess import normalize

RESULTS = Path(__file__).parent / "results" / "rd.json"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
CROP = 64
TRAIN_IMAGES = ("astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "text")
TEST_IMAGES = ("coins", "clock_motion", "gravel", "cell", "retina", "hubble_deep_field")


@dataclass
class Point:
    """One codec at one setting: bytes per item and quality on the test items."""

    codec: str
    setting: str
    bytes_per_item: float
    bpp: float
    psnr_db: float
    ssim: float | None = None
    encode_ms_per_item: float | None = None
    decode_ms_per_item: float | None = None


# -- baselines ----------------------------------------------------------------------------------
def pca_points(train_x: np.ndarray, test_x: np.ndarray, peak: float, pixels: int) -> list[Point]:
    """PCA with per-component 8-bit coefficients (range fitted on training), deflated per batch."""
    a = train_x.reshape(len(train_x), -1).astype(np.float64)
    b = test_x.reshape(len(test_x), -1).astype(np.float64)
    mean = a.mean(axis=0)
    _, _, vt = np.linalg.svd(a - mean, full_matrices=False)
    points = []
    for k in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64):
        if k > vt.shape[0]:
            break
        basis = vt[:k]
        ca = (a - mean) @ basis.T
        lo, hi = ca.min(axis=0), ca.max(axis=0)
        step = np.maximum(hi - lo, 1e-12) / 255
        cb = (b - mean) @ basis.T
        q = np.clip(np.rint((cb - lo) / step), 0, 255).astype(np.uint8)
        rec = (q * step + lo) @ basis + mean
        size = len(zlib.compress(q.tobytes(), 9)) / len(b)
        points.append(Point("pca8+deflate", f"k={k}", size, 8 * size / pixels, psnr(b, rec, peak)))
    return points


def pillow_points(images: np.ndarray, fmt: str) -> list[Point]:
    """JPEG or WebP (Pillow) at a range of qualities on 8-bit grayscale crops."""
    from PIL import Image

    points = []
    for quality in (1, 5, 10, 20, 30, 50, 70, 90):
        sizes, recs = [], []
        for img in images:
            buf = io.BytesIO()
            Image.fromarray(img.astype(np.uint8)).save(buf, format=fmt, quality=quality)
            sizes.append(buf.tell())
            recs.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L")))
        rec = np.stack(recs).astype(np.float64)
        size = float(np.mean(sizes))
        points.append(
            Point(
                fmt.lower(),
                f"q={quality}",
                size,
                8 * size / images[0].size,
                psnr(images.astype(np.float64), rec, 255.0),
                ssim_mean(images, rec),
            )
        )
    return points


def ssim_mean(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (scikit-image's, gray, data range 255) over a batch of 2-D images."""
    from skimage.metrics import structural_similarity

    a = a.reshape(-1, *a.shape[-2:])
    b = b.reshape(-1, *b.shape[-2:])
    return float(
        np.mean([structural_similarity(x, y, data_range=255.0) for x, y in zip(a, b, strict=True)])
    )


# -- edgeae ---------------------------------------------------------------------------------------
def edgeae_points(
    name: str,
    ds: Dataset,
    test_x: np.ndarray,
    arch: str,
    overrides: dict,
    lambdas: list[float],
    epochs: int,
    work: Path,
    peak: float,
    with_ssim: bool,
) -> tuple[list[Point], list[dict]]:
    """Train, export and stream-code the test items at each lambda (float and int8)."""
    from edgeae_export import QuantizeRequest, quantize_model

    points, runs = [], []
    pixels = int(np.prod(test_x.shape[1:]))
    for lam in lambdas:
        run = work / f"{name}-{lam:g}"
        started = time.perf_counter()
        train(
            ds,
            arch,
            overrides,
            TrainConfig(epochs=epochs, rate_lambda=lam),
            run,
            force=True,
            progress=False,
        )
        seconds = time.perf_counter() - started
        ckpt = load_checkpoint(run)
        val = torch.tensor(normalize(ds.x[:256].astype(np.float32), ckpt.preprocessing))
        out = work / f"{name}-{lam:g}-onnx"
        export_autoencoder(
            ckpt.model, out_dir=out, example_inputs=val.numpy(), info=ckpt.export_info(), force=True
        )
        variants = {"edgeae float": (out / "encoder.onnx", out / "decoder.onnx")}
        try:
            for role in ("encoder", "decoder"):
                quantize_model(
                    QuantizeRequest(
                        model_path=out / f"{role}.onnx",
                        out_path=out / f"{role}.int8.onnx",
                        calibration=ds.x[:256],
                        speed_gate=False,
                        encoder=out / "encoder.onnx" if role == "decoder" else None,
                    )
                )
            variants["edgeae int8"] = (out / "encoder.int8.onnx", out / "decoder.int8.onnx")
        except Exception as exc:  # report, keep the float point
            print(f"  int8 quantization failed at lambda {lam:g}: {exc}", file=sys.stderr)
        for label, (enc_path, dec_path) in variants.items():
            enc, dec = Model(enc_path, threads=1), Model(dec_path, threads=1)
            t0 = time.perf_counter()
            blob = compress_items(enc, test_x)
            t1 = time.perf_counter()
            rec = decompress_items(dec, blob)
            t2 = time.perf_counter()
            n = len(test_x)
            size = len(blob) / n
            points.append(
                Point(
                    label,
                    f"lambda={lam:g}",
                    size,
                    8 * size / pixels,
                    psnr(test_x.astype(np.float64), rec.astype(np.float64), peak),
                    ssim_mean(test_x, np.clip(rec, 0, 255)) if with_ssim else None,
                    1e3 * (t1 - t0) / n,
                    1e3 * (t2 - t1) / n,
                )
            )
        runs.append({"lambda": lam, "train_seconds": seconds})
        print(f"  {name} lambda {lam:g}: trained in {seconds:.0f} s", file=sys.stderr)
    return points, runs


# -- data -------------------------------------------------------------------------------------------
def image_crops(names: tuple[str, ...], per_image: int, seed: int) -> np.ndarray:
    """Random 64x64 grayscale crops (0..255) of the named shared images."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    crops = []
    for name in names:
        path = next(SHARED.glob(f"*/{name}.*"))
        img = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
        for _ in range(per_image):
            y = rng.integers(0, img.shape[0] - CROP + 1)
            x = rng.integers(0, img.shape[1] - CROP + 1)
            crops.append(img[y : y + CROP, x : x + CROP])
    return np.stack(crops)[:, None]


def items_dataset(x: np.ndarray, layout: str, name: str) -> Dataset:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return Dataset(name=name, x=x, layout=layout, fingerprint=fingerprint([x], {"name": name}))


def better_at_equal_bytes(ours: list[Point], theirs: list[Point]) -> list[dict]:
    """For each of our points: the baseline's PSNR interpolated at our bytes, and the gain."""
    base = sorted(theirs, key=lambda p: p.bytes_per_item)
    xs = np.array([p.bytes_per_item for p in base])
    ys = np.array([p.psnr_db for p in base])
    rows = []
    for p in ours:
        inside = xs[0] <= p.bytes_per_item <= xs[-1]
        ref = float(np.interp(p.bytes_per_item, xs, ys)) if inside else None
        rows.append(
            {
                "codec": p.codec,
                "setting": p.setting,
                "bpp": p.bpp,
                "psnr_db": p.psnr_db,
                "baseline_psnr_db": ref,
                "gain_db": None if ref is None else p.psnr_db - ref,
            }
        )
    return rows


def table(title: str, points: list[Point]) -> str:
    lines = [
        f"\n{title}",
        f"{'codec':<14} {'setting':<14} {'B/item':>8} {'bpp':>7} "
        f"{'PSNR dB':>8} {'SSIM':>6} {'enc ms':>7} {'dec ms':>7}",
    ]
    for p in sorted(points, key=lambda p: (p.codec, p.bytes_per_item)):
        ssim = f"{p.ssim:6.3f}" if p.ssim is not None else "     -"
        enc = f"{p.encode_ms_per_item:7.3f}" if p.encode_ms_per_item is not None else "      -"
        dec = f"{p.decode_ms_per_item:7.3f}" if p.decode_ms_per_item is not None else "      -"
        lines.append(
            f"{p.codec:<14} {p.setting:<14} {p.bytes_per_item:8.1f} {p.bpp:7.3f} "
            f"{p.psnr_db:8.2f} {ssim} {enc} {dec}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and lambdas")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    result: dict = {"quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # digits: the built-in set, its own split (first 80% train, last 20% test)
        digits = load_source("builtin:digits")
        n = len(digits.x)
        cut = int(0.8 * n)
        train_ds = items_dataset(digits.x[:cut], digits.layout, "digits-train")
        test_x = digits.x[cut:].astype(np.float32)
        lambdas = [0.02, 0.1] if args.quick else [0.003, 0.01, 0.03, 0.1, 0.3]
        ours, runs = edgeae_points(
            "digits",
            train_ds,
            test_x,
            "dense2d",
            {"hidden": (256, 128), "latent": 16},
            lambdas,
            10 if args.quick else 60,
            work,
            16.0,
            False,
        )
        pca = pca_points(digits.x[:cut], test_x, 16.0, 64)
        print(table("digits (8x8, 4-bit pixels; test split)", ours + pca))
        result["digits"] = {
            "points": [p.__dict__ for p in ours + pca],
            "runs": runs,
            "vs_pca": better_at_equal_bytes(ours, pca),
        }
        if SHARED.is_dir():
            train_crops = image_crops(TRAIN_IMAGES, 24 if args.quick else 96, 0)
            test_crops = image_crops(TEST_IMAGES, 8 if args.quick else 16, 1)
            crops_ds = items_dataset(train_crops, "NCHW", "crops-train")
            lambdas = [0.05] if args.quick else [0.01, 0.03, 0.1, 0.3]
            ours, runs = edgeae_points(
                "crops",
                crops_ds,
                test_crops,
                "conv2d",
                {"hidden": (32, 48, 64), "latent": 8},
                lambdas,
                5 if args.quick else 40,
                work,
                255.0,
                True,
            )
            base = (
                pillow_points(test_crops[:, 0], "JPEG")
                + pillow_points(test_crops[:, 0], "WEBP")
                + pca_points(train_crops, test_crops, 255.0, CROP * CROP)
            )
            print(table("image crops (64x64 gray, held-out images)", ours + base))
            jpeg = [p for p in base if p.codec == "jpeg"]
            result["crops"] = {
                "points": [p.__dict__ for p in ours + base],
                "runs": runs,
                "vs_jpeg": better_at_equal_bytes(ours, jpeg),
                "train_images": TRAIN_IMAGES,
                "test_images": TEST_IMAGES,
            }
        else:
            print(f"\n{SHARED} not found: image crops skipped", file=sys.stderr)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS, json.dumps(result, indent=2))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
