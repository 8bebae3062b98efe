"""Rate-distortion benchmark: edgeae's learned codec against classical codecs at equal bytes.

For each data set, a ladder of rate-distortion models (``TrainConfig.rate_lambda``)
is trained, exported, and run through the runtime's real codec (int8 and float
encoder/decoder, rANS-coded stream, bytes counted from the stream itself), side
by side with the baselines in the same run:

- digits (the built-in 8x8 UCI digits, its own test split): PCA with 8-bit
  coefficients + deflate, at every rank;
- images (grayscale, ../shared/data/images): the model trains on random 64x64
  crops of some images and codes the other images whole, as 64x64 tiles in one
  stream per image; JPEG and WebP from Pillow code the same whole images at
  every quality (so their headers count once per image, as ours does); PCA with
  8-bit coefficients + deflate codes the same tiles.

PSNR uses the data's value range as peak (the runtime's one PSNR rule); SSIM is
measured on the image crops. The coder table puts the entropy coders side by side on
the same integer codes of every test set: the adaptive model the export fitted (format
version 5, what the streams use), the static context model (version 4), the factorized
rANS tables (version 2) and deflate
(zlib level 9), 64 items per frame, with each coder's throughput. Prints a table,
writes benchmarks/results/rd.json.

    python benchmarks/bench_rd.py [--quick] [--parts digits,images] [--merge]
                                  [--work DIR [--reuse]] [--skip-missing]

The images part needs ../shared/data/images: without it the bench exits 3 before
training anything, with one line naming the directory (so run_all writes no half
section); ``--skip-missing`` runs the other parts instead (``--merge`` then keeps the
stored images result).

Only the coding of the test items (the enc/dec ms and Msym/s columns) is timed; it
runs under an exclusive ``flock`` of ``--lock`` (default /tmp/edgeae-heavy.lock, a
few seconds per model), the training around it does not hold the lock.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from timing_lock import LOCK, timing_lock

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
#: Training items the export sees (parity, and the context entropy model's fit).
EXAMPLE_ITEMS = 2048
#: --reuse: keep a trained run found in --work instead of training it again.
REUSE = {"on": False}
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
CROP = 64
TRAIN_IMAGES = ("astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "text")
TEST_IMAGES = ("coins", "clock_motion", "gravel", "cell", "retina", "hubble_deep_field")
#: The image codec's recipe: 3200 crops x 30 epochs at batch 8 are 10.8k Adam steps, in
#: about the time batch 16's 5.4k took (a step of 8 crops costs about half as much). The
#: steps were the limit, not the model: screened at lambda 0.01 on a validation split of
#: the training images, batch 8 lowered the validation loss by ~10 %; 32 latent channels,
#: a residual block per decoder level, and flips + blurred crops did not beat JPEG by more
#: (docs/compression.md, "Train for enough steps"). Batch 64 (450 steps) left the quality
#: flat in lambda (28.5 / 28.6 dB at 0.1 / 0.01).
IMAGE_RECIPE: dict = {
    "model": {"hidden": (32, 64, 64), "latent": 8},
    "crops_per_image": 400,
    "train": TrainConfig(epochs=30, batch_size=8, patience=1000),
    "lambdas": (0.1, 0.03, 0.01, 0.002),
}


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


def pillow_points(images: list[np.ndarray], fmt: str) -> list[Point]:
    """JPEG or WebP (Pillow) at a range of qualities on whole 8-bit grayscale images."""
    from PIL import Image

    pixels = sum(img.size for img in images)
    points = []
    for quality in (1, 5, 10, 20, 30, 50, 70, 90):
        size, err, ssims = 0, 0.0, []
        for img in images:
            buf = io.BytesIO()
            Image.fromarray(img.astype(np.uint8)).save(buf, format=fmt, quality=quality)
            size += buf.tell()
            rec = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), np.float64)
            err += float(np.sum((img - rec) ** 2))
            ssims.append(ssim_mean(img[None], rec[None]))
        points.append(
            Point(
                fmt.lower(),
                f"q={quality}",
                size / len(images),
                8 * size / pixels,
                mse_psnr(err / pixels, 255.0),
                float(np.mean(ssims)),
            )
        )
    return points


def mse_psnr(mse: float, peak: float) -> float:
    """PSNR of a mean squared error pooled over every pixel of a set of images."""
    return float(10 * np.log10(peak**2 / mse)) if mse > 0 else float("inf")


def ssim_mean(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (scikit-image's, gray, data range 255) over a batch of 2-D images."""
    from skimage.metrics import structural_similarity

    a = a.reshape(-1, *a.shape[-2:])
    b = b.reshape(-1, *b.shape[-2:])
    return float(
        np.mean([structural_similarity(x, y, data_range=255.0) for x, y in zip(a, b, strict=True)])
    )


# -- edgeae -------------------------------------------------------------------------------
def edgeae_points(
    name: str,
    ds: Dataset,
    test_sets: list[np.ndarray],
    arch: str,
    overrides: dict,
    lambdas: list[float],
    config: TrainConfig,
    work: Path,
    peak: float,
    shapes: list[tuple[int, int]] | None = None,
) -> tuple[list[Point], list[dict]]:
    """Train, export and stream-code the test items at each lambda (float and int8).

    Each test set is coded as one stream; with ``shapes`` the sets are tiles of
    whole images, put back together for SSIM.
    """
    from edgeae_export import QuantizeRequest, quantize_model

    points, runs = [], []
    items = sum(len(t) for t in test_sets)
    pixels = sum(t.size for t in test_sets)
    for lam in lambdas:
        out, seconds, ckpt = train_and_export(name, ds, arch, overrides, lam, config, work)
        reused = seconds is None
        decoder = getattr(getattr(ckpt.model, "config", None), "decoder", None)  # conv only
        variants = {"edgeae float": (out / "encoder.onnx", out / "decoder.onnx")}
        try:
            for role in ("encoder", "decoder"):
                quantize_model(
                    QuantizeRequest(
                        model_path=out / f"{role}.onnx",
                        out_path=out / f"{role}.int8.onnx",
                        # the whole training set: the quantizer calibrates on a seeded random
                        # sample of it (CalibrationSource); the first 256 items were 256 crops
                        # of the first training image only
                        calibration=ds.x,
                        speed_gate=False,
                        encoder=out / "encoder.onnx" if role == "decoder" else None,
                        force=True,  # a reused --work holds the previous run's files
                    )
                )
            variants["edgeae int8"] = (out / "encoder.int8.onnx", out / "decoder.int8.onnx")
        except Exception as exc:  # report, keep the float point
            print(f"  int8 quantization failed at lambda {lam:g}: {exc}", file=sys.stderr)
        with timing_lock():
            coded = code_variants(variants, test_sets, shapes)
        for label, (size, err, enc_s, dec_s, ssims) in coded.items():
            points.append(
                Point(
                    label,
                    f"lambda={lam:g}",
                    size / len(test_sets),
                    8 * size / pixels,
                    mse_psnr(err / pixels, peak),
                    float(np.mean(ssims)) if ssims else None,
                    1e3 * enc_s / items,
                    1e3 * dec_s / items,
                )
            )
        with timing_lock():
            coder = coder_stats(Model(out / "encoder.onnx", threads=1), test_sets)
        runs.append(
            {
                "lambda": lam,
                "train_seconds": seconds,
                "coder": coder,
                "decoder": decoder,
            }
        )
        how = "reused the trained run" if reused else f"trained in {seconds:.0f} s"
        print(f"  {name} lambda {lam:g}: {how}", file=sys.stderr)
    return points, runs


def train_and_export(
    name: str,
    ds: Dataset,
    arch: str,
    overrides: dict,
    lam: float,
    config: TrainConfig,
    work: Path,
) -> tuple[Path, float | None, object]:
    """Train (or, with --reuse, keep) the rate-distortion run at ``lam`` and export it: the
    export folder, the training seconds (None when reused) and the checkpoint."""
    run = work / f"{name}-{lam:g}"
    started = time.perf_counter()
    reused = REUSE["on"] and (run / "checkpoint.pt").is_file()
    if not reused:
        train(
            ds,
            arch,
            overrides,
            dataclasses.replace(config, rate_lambda=lam),
            run,
            force=True,
            progress=False,
        )
    seconds = None if reused else time.perf_counter() - started
    ckpt = load_checkpoint(run)
    # the export's example items: parity, and the context entropy model is fitted on
    # their codes; a seeded sample over the whole training set (the first 256 items
    # were crops of the first training image only)
    from edgeae_export.sampling import sample_indices

    example = ds.x[sample_indices(len(ds.x), EXAMPLE_ITEMS)].astype(np.float32)
    val = torch.tensor(normalize(example, ckpt.preprocessing))
    out = work / f"{name}-{lam:g}-onnx"
    export_autoencoder(
        ckpt.model, out_dir=out, example_inputs=val.numpy(), info=ckpt.export_info(), force=True
    )
    return out, seconds, ckpt


def code_variants(
    variants: dict[str, tuple[Path, Path]],
    test_sets: list[np.ndarray],
    shapes: list[tuple[int, int]] | None,
) -> dict[str, tuple[int, float, float, float, list[float]]]:
    """Stream-code every test set with each encoder/decoder pair, timing encode and decode.

    Returns per pair: (bytes, squared error, encode s, decode s, SSIM per whole image)."""
    coded = {}
    for label, (enc_path, dec_path) in variants.items():
        enc, dec = Model(enc_path, threads=1), Model(dec_path, threads=1)
        size, err, enc_s, dec_s, ssims = 0, 0.0, 0.0, 0.0, []
        for i, test_x in enumerate(test_sets):
            t0 = time.perf_counter()
            blob = compress_items(enc, test_x)
            t1 = time.perf_counter()
            rec = decompress_items(dec, blob).astype(np.float64)
            enc_s, dec_s = enc_s + t1 - t0, dec_s + time.perf_counter() - t1
            size += len(blob)
            err += float(np.sum((test_x - rec) ** 2))
            if shapes is not None:
                full, back = untile(test_x, shapes[i]), untile(np.clip(rec, 0, 255), shapes[i])
                ssims.append(ssim_mean(full[None], back[None]))
        coded[label] = (size, err, enc_s, dec_s, ssims)
    return coded


def _entropy_bits(counts: np.ndarray) -> float:
    """Bits to code ``counts.sum()`` symbols at their own empirical frequencies."""
    c = counts[counts > 0].astype(np.float64)
    return float(-(c * np.log2(c / c.sum())).sum())


def entropy_budget(codes: list[np.ndarray], tables) -> dict:
    """Where the bytes go, in bytes over all test sets (latents ``(N, C, ...)``):

    - ``empirical``: each channel coded at its own frequencies on these very codes
      (the best any factorized, static per-channel model could do: an oracle);
    - ``cross_entropy``: the manifest's integer tables (what rANS can reach with them;
      escapes cost their varint bytes on top);
    - ``left_context`` (images): each channel given its left neighbour's code, at the
      empirical conditional frequencies (an oracle of a one-neighbour context model,
      scaled to all symbols): what spatial redundancy is worth.
    """
    allc = np.concatenate(codes)
    per_ch = np.moveaxis(allc, 1, 0).reshape(allc.shape[1], -1)
    freq = np.diff(tables.cdf, axis=1)
    total = float(1 << tables.precision)
    escape = tables.symbols - 1
    empirical = cross = 0.0
    escapes = 0
    for ch, row in enumerate(per_ch):
        empirical += _entropy_bits(np.unique(row, return_counts=True)[1])
        sym = row - tables.offset[ch]
        out = (sym < 0) | (sym >= escape)
        cross += float(-np.log2(freq[ch][np.where(out, escape, sym)] / total).sum())
        escapes += int(out.sum())
    result = {
        "empirical_bytes": empirical / 8,
        "cross_entropy_bytes": cross / 8,
        "escapes": escapes,
        # every symbol of a table keeps a frequency >= 1: what a one-value channel pays
        "unused_table_bits_per_symbol": float(-np.log2(1 - (tables.symbols - 1) / total)),
    }
    if allc.ndim == 4 and allc.shape[-1] > 1:
        bits = 0.0
        for ch in range(allc.shape[1]):
            y, left = allc[:, ch, :, 1:].ravel(), allc[:, ch, :, :-1].ravel()
            _, joint = np.unique(np.stack([left, y]), axis=1, return_counts=True)
            bits += _entropy_bits(joint) - _entropy_bits(np.unique(left, return_counts=True)[1])
        result["left_context_bytes"] = bits / 8 * allc.size / allc[..., 1:].size
    return result


def context_cross_entropy(codes: list[np.ndarray], tables) -> float:
    """Bytes the context model's integer tables give these codes (escapes' varints aside):
    what its rANS payloads can reach."""
    from edgeae_runtime.codec.entropy import context_classes, neighbour_map

    latent = codes[0].shape[1:]
    size = int(np.prod(latent))
    ch = np.repeat(np.arange(latent[0]), size // latent[0])
    nb = neighbour_map(latent, 1, tables.neighbours)
    freq = np.diff(tables.cdf, axis=1)
    escape = tables.symbols - 1
    bits = 0.0
    for c in codes:
        flat = c.reshape(len(c), -1)
        sym = flat - tables.offset[ch]
        sym = np.where((sym < 0) | (sym >= escape), escape, sym)
        tab = ch * tables.contexts + context_classes(flat, ch, nb, tables)
        bits += float(-np.log2(freq[tab, sym] / float(1 << tables.precision)).sum())
    return bits / 8


def _coder_throughput(tables, codes: np.ndarray, channels: np.ndarray, items: int = 1) -> dict:
    """Msym/s of one coder on ``codes`` ``(N, *latent)``: many frames of ``items`` latents
    at once (vector lanes) and one frame at a time (the scalar path)."""
    from edgeae_runtime.codec.entropy import decode_frames, encode_frames, neighbour_map

    latent = codes.shape[1:]
    nb = neighbour_map(latent, items, tables.neighbours) if tables.neighbours else None
    kw = {"neighbours": nb, "latent_shape": latent}
    channels = np.tile(channels, items)
    flat = codes.reshape(len(codes), -1)
    flat = np.tile(flat, (max(1, -(-items // len(codes))), 1))[: (len(flat) // items or 1) * items]
    flat = flat.reshape(-1, channels.size)
    budget = 20000 if items == 1 else 4096  # latents per throughput run
    lanes = np.tile(flat, (max(1, (budget // items) // len(flat)), 1))
    t0 = time.perf_counter()
    payloads = encode_frames(lanes, channels, tables, **kw)
    t1 = time.perf_counter()
    decode_frames(payloads, channels, tables, **kw)
    t2 = time.perf_counter()
    one = lanes[: max(1, 200 // items)]
    t3 = time.perf_counter()
    singles = [encode_frames(r[None], channels, tables, **kw)[0] for r in one]
    t4 = time.perf_counter()
    for b in singles:
        decode_frames([b], channels, tables, **kw)
    t5 = time.perf_counter()
    return {
        "encode_msym_per_s_lanes": lanes.size / (t1 - t0) / 1e6,
        "decode_msym_per_s_lanes": lanes.size / (t2 - t1) / 1e6,
        "encode_msym_per_s_one_frame": one.size / (t4 - t3) / 1e6,
        "decode_msym_per_s_one_frame": one.size / (t5 - t4) / 1e6,
    }


def coder_stats(enc: Model, test_sets: list[np.ndarray]) -> dict:
    """The context coder and the factorized rANS coder against deflate on the same integer
    codes of every test set (64 items per frame, as the stream frames them), the entropy
    budget, and each coder's throughput. ``rans_*`` is the factorized coder, ``context_*``
    the context model (absent when the export chose none)."""
    from edgeae_runtime.codec.entropy import codec_tables, encode_frames, neighbour_map

    tables = codec_tables(enc.manifest.codec, "factorized")
    context = codec_tables(enc.manifest.codec, "context")
    adaptive = codec_tables(enc.manifest.codec, "adaptive")
    scale = np.asarray(enc.manifest.codec.scale, np.float64)
    all_codes = []
    for test_x in test_sets:
        z = enc.encode(test_x).astype(np.float64)
        shape = (1, -1) + (1,) * (z.ndim - 2)
        all_codes.append(
            np.rint(z / scale.reshape(shape) if scale.size > 1 else z / scale).astype(np.int64)
        )
    latent = all_codes[0].shape[1:]
    per_item = int(np.prod(latent))
    channels = np.repeat(np.arange(latent[0]), per_item // latent[0])
    group = 64
    per_set = []
    for codes in all_codes:
        row = {"rans": 0, "context": 0, "adaptive": 0, "deflate": 0}
        for i in range(0, len(codes), group):
            r = codes[i : i + group]
            flat, ch = r.reshape(1, -1), np.tile(channels, len(r))
            row["rans"] += len(encode_frames(flat, ch, tables)[0])
            if context is not None:
                nb = neighbour_map(latent, len(r), context.neighbours)
                row["context"] += len(encode_frames(flat, ch, context, neighbours=nb)[0])
            if adaptive is not None:
                nb = neighbour_map(latent, len(r), adaptive.neighbours)
                row["adaptive"] += len(
                    encode_frames(flat, ch, adaptive, neighbours=nb, latent_shape=latent)[0]
                )
        small = codes.astype(np.int8) if np.abs(codes).max() < 128 else codes.astype("<i2")
        row["deflate"] = sum(
            len(zlib.compress(small[i : i + group].tobytes(), 9))
            for i in range(0, len(codes), group)
        )
        row["deflate_one_block"] = len(zlib.compress(small.tobytes(), 9))
        per_set.append(row)
    rans = sum(r["rans"] for r in per_set)
    deflate_frames = sum(r["deflate"] for r in per_set)
    deflate_all = sum(r["deflate_one_block"] for r in per_set)
    out = {
        "symbols": int(sum(c.size for c in all_codes)),
        "rans_bytes": int(rans),
        "deflate_bytes_same_frames": int(deflate_frames),
        "deflate_bytes_one_block": int(deflate_all),
        "saving_vs_deflate_same_frames": 1 - rans / deflate_frames,
        "saving_vs_deflate_one_block": 1 - rans / deflate_all,
        **entropy_budget(all_codes, tables),
        **_coder_throughput(tables, all_codes[0], channels),
        "per_set": per_set,
    }
    if context is not None:
        ctx = sum(r["context"] for r in per_set)
        out.update(
            {
                "context_bytes": int(ctx),
                "context_saving_vs_deflate_same_frames": 1 - ctx / deflate_frames,
                "context_saving_vs_deflate_one_block": 1 - ctx / deflate_all,
                "context_saving_vs_rans": 1 - ctx / rans,
                "context_law": {
                    "neighbours": list(context.neighbours),
                    "thresholds": list(context.thresholds),
                },
                "context_saving_per_set": [
                    1 - r["context"] / r["deflate"] for r in per_set
                ],
                "context_cross_entropy_bytes": context_cross_entropy(all_codes, context),
                **{
                    f"context_{k}": v
                    for k, v in _coder_throughput(context, all_codes[0], channels).items()
                },
            }
        )
    if adaptive is not None:
        ada = sum(r["adaptive"] for r in per_set)
        out.update(
            {
                "adaptive_bytes": int(ada),
                "adaptive_saving_vs_deflate_same_frames": 1 - ada / deflate_frames,
                "adaptive_saving_vs_deflate_one_block": 1 - ada / deflate_all,
                "adaptive_saving_vs_rans": 1 - ada / rans,
                "adaptive_law": {
                    "neighbours": list(adaptive.neighbours),
                    "thresholds": list(adaptive.thresholds),
                    "adapt": adaptive.adapt,
                    "positions": adaptive.positions,
                },
                "adaptive_saving_per_set": [1 - r["adaptive"] / r["deflate"] for r in per_set],
                **{
                    f"adaptive_{k}": v
                    for k, v in _coder_throughput(
                        adaptive, all_codes[0], channels, items=group
                    ).items()
                },
            }
        )
    return out


# -- data ---------------------------------------------------------------------------------
def gray_image(name: str, *, cut: bool = True) -> np.ndarray:
    """A shared image as 8-bit gray values (float32), cut to a multiple of the tile size
    unless ``cut`` is False."""
    from PIL import Image

    path = next(SHARED.glob(f"*/{name}.*"))
    img = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    if not cut:
        return img
    h, w = (img.shape[0] // CROP) * CROP, (img.shape[1] // CROP) * CROP
    return img[:h, :w]


def tiles(img: np.ndarray) -> np.ndarray:
    """An image cut to 64x64 tiles ``(N, 1, 64, 64)``, row by row."""
    h, w = img.shape
    t = img.reshape(h // CROP, CROP, w // CROP, CROP).transpose(0, 2, 1, 3)
    return t.reshape(-1, 1, CROP, CROP)


def untile(t: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    return t.reshape(h // CROP, w // CROP, CROP, CROP).transpose(0, 2, 1, 3).reshape(h, w)


def image_crops(names: tuple[str, ...], per_image: int, seed: int) -> np.ndarray:
    """Random 64x64 grayscale crops (0..255) of the named shared images."""
    rng = np.random.default_rng(seed)
    crops = []
    for name in names:
        img = gray_image(name)
        for _ in range(per_image):
            y = rng.integers(0, img.shape[0] - CROP + 1)
            x = rng.integers(0, img.shape[1] - CROP + 1)
            crops.append(img[y : y + CROP, x : x + CROP])
    return np.stack(crops)[:, None]


def items_dataset(x: np.ndarray, layout: str, name: str) -> Dataset:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return Dataset(name=name, x=x, layout=layout, fingerprint=fingerprint([x], {"name": name}))


def better_at_equal_bytes(ours: list[Point], theirs: list[Point]) -> list[dict]:
    """For each of our points: the baseline's PSNR interpolated at our bits per pixel, and
    the gain (None where our rate is outside the baseline's range)."""
    base = sorted(theirs, key=lambda p: p.bpp)
    xs = np.array([p.bpp for p in base])
    ys = np.array([p.psnr_db for p in base])
    rows = []
    for p in ours:
        inside = xs[0] <= p.bpp <= xs[-1]
        ref = float(np.interp(p.bpp, xs, ys)) if inside else None
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


def coder_table(title: str, runs: list[dict]) -> str:
    """The entropy coders side by side: the context model, the factorized rANS tables and
    deflate of the same codes (same frames), the entropy budget, each coder's throughput."""
    lines = [
        f"\n{title}",
        f"{'lambda':>8} {'symbols':>8} {'adaptive B':>10} {'ada save':>8} "
        f"{'per set (ada)':>16} {'ada law':>12} {'ada enc/dec Msym/s':>19} "
        f"{'context B':>10} {'rANS B':>8} {'deflate B':>10} "
        f"{'ctx save':>8} {'rANS save':>9} {'per set (ctx)':>16} {'emp. H B':>9} "
        f"{'tables B':>9} {'H|left B':>9} {'law':>14} {'ctx enc/dec Msym/s':>19} "
        f"{'rANS enc/dec Msym/s':>20}",
    ]
    for r in runs:
        c = r["coder"]
        budget = "".join(
            f"{c[k]:9.0f} " if k in c else f"{'-':>9} "
            for k in ("empirical_bytes", "cross_entropy_bytes", "left_context_bytes")
        )
        if "context_bytes" in c:
            per_set = c["context_saving_per_set"]
            law = c["context_law"]
            ctx = (
                f"{c['context_bytes']:10d} {c['rans_bytes']:8d} "
                f"{c['deflate_bytes_same_frames']:10d} "
                f"{c['context_saving_vs_deflate_same_frames']:8.1%} "
                f"{c['saving_vs_deflate_same_frames']:9.1%} "
                f"{f'{min(per_set):.0%}..{max(per_set):.0%}':>16} "
            )
            name = "ax" + "".join(map(str, law["neighbours"])) + " t" + ",".join(
                map(str, law["thresholds"])
            )
            speed = (
                f"{c['context_encode_msym_per_s_lanes']:9.2f}/"
                f"{c['context_decode_msym_per_s_lanes']:<9.2f}"
            )
        else:
            ctx = (
                f"{'-':>10} {c['rans_bytes']:8d} {c['deflate_bytes_same_frames']:10d} "
                f"{'-':>8} {c['saving_vs_deflate_same_frames']:9.1%} {'-':>16} "
            )
            name, speed = "none chosen", f"{'-':>19}"
        if "adaptive_bytes" in c:
            ps, alaw = c["adaptive_saving_per_set"], c["adaptive_law"]
            aname = "ax" + "".join(map(str, alaw["neighbours"]))
            aname += f" k{len(alaw['thresholds']) + 1}"
            aname += f" w{alaw['adapt']}" + (" pos" if alaw["positions"] else "")
            ada = (
                f"{c['adaptive_bytes']:10d} {c['adaptive_saving_vs_deflate_same_frames']:8.1%} "
                f"{f'{min(ps):.0%}..{max(ps):.0%}':>16} {aname:>12} "
                f"{c['adaptive_encode_msym_per_s_lanes']:9.2f}/"
                f"{c['adaptive_decode_msym_per_s_lanes']:<9.2f} "
            )
        else:
            ada = f"{'-':>10} {'-':>8} {'-':>16} {'none chosen':>12} {'-':>19} "
        lines.append(
            f"{r['lambda']:8g} {c['symbols']:8d} {ada}{ctx}{budget}{name:>14} {speed} "
            f"{c['encode_msym_per_s_lanes']:10.2f}/{c['decode_msym_per_s_lanes']:<9.2f}"
        )
    lines.append(
        "  (adaptive: the manifest's adaptive model, format v5, the streams' default "
        "(law: neighbour axes, classes per channel, prior weight, position classes; Msym/s: "
        "many 64-item frames at once); "
        "context: the manifest's context model, format v4; rANS: "
        "its factorized tables, v2; deflate: zlib level 9 of the same codes, 64 items per "
        "frame; 'per set': the context coder's saving over deflate on each test set; law: "
        "neighbour axes and thresholds the export chose; Msym/s: many one-item frames "
        "at once)"
    )
    return "\n".join([lines[0].strip() + ":", "", "```", *lines[1:], "```"])


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
    return "\n".join([lines[0].strip() + ":", "", "```", *lines[1:], "```"])


def bench_digits(work: Path, quick: bool) -> dict:
    """The built-in digits, its own split (first 80 % train, last 20 % test), vs PCA."""
    digits = load_source("builtin:digits")
    n = len(digits.x)
    cut = int(0.8 * n)
    train_ds = items_dataset(digits.x[:cut], digits.layout, "digits-train")
    test_x = digits.x[cut:].astype(np.float32)
    lambdas = [0.02, 0.1] if quick else [0.003, 0.01, 0.03, 0.1, 0.3]
    ours, runs = edgeae_points(
        "digits",
        train_ds,
        [test_x],
        "dense2d",
        {"hidden": (256, 128), "latent": 16},
        lambdas,
        # batch 16: 60 epochs are 4.3k Adam steps (batch 64 took 1.1k, below RATE_MIN_STEPS)
        TrainConfig(epochs=20 if quick else 60, batch_size=16),
        work,
        16.0,
    )
    for p in ours:  # one stream holds the whole test split: report per item
        p.bytes_per_item /= len(test_x)
    pca = pca_points(digits.x[:cut], test_x, 16.0, 64)
    print(table("digits (8x8, 4-bit pixels; test split)", ours + pca))
    vs_pca = better_at_equal_bytes(ours, pca)
    print(gain_table("digits: edgeae vs PCA 8-bit + deflate at equal bpp (interpolated)", vs_pca))
    print(
        coder_table(
            "digits: context model vs factorized rANS vs deflate of the same codes "
            "(64 items per frame)",
            runs,
        )
    )
    return {
        "points": [p.__dict__ for p in ours + pca],
        "runs": runs,
        "vs_pca": vs_pca,
    }


def bench_images(work: Path, quick: bool) -> dict:
    """Held-out shared images coded as 64x64 tiles vs JPEG, WebP and PCA on the same pixels."""
    per_image = 24 if quick else IMAGE_RECIPE["crops_per_image"]
    train_crops = image_crops(TRAIN_IMAGES, per_image, 0)
    crops_ds = items_dataset(train_crops, "NCHW", "crops-train")
    test_images = [gray_image(name) for name in TEST_IMAGES]
    test_sets = [tiles(img) for img in test_images]
    lambdas = [0.05] if quick else list(IMAGE_RECIPE["lambdas"])
    cfg = IMAGE_RECIPE["train"] if not quick else TrainConfig(epochs=5)
    ours, runs = edgeae_points(
        "images",
        crops_ds,
        test_sets,
        "conv2d",
        dict(IMAGE_RECIPE["model"]),
        lambdas,
        cfg,
        work,
        255.0,
        [img.shape for img in test_images],
    )
    all_tiles = np.concatenate(test_sets)
    base = (
        pillow_points(test_images, "JPEG")
        + pillow_points(test_images, "WEBP")
        + pca_points(train_crops, all_tiles, 255.0, CROP * CROP)
    )
    decoder = ", ".join(sorted({str(r["decoder"]) for r in runs}))
    print(
        table(
            f"held-out gray images (whole; ours and PCA as 64x64 tiles; conv2d "
            f"decoder {decoder!r})",
            ours + base,
        )
    )
    print(
        coder_table(
            "images (all six held-out images): context model vs factorized rANS vs deflate "
            "of the same codes",
            runs,
        )
    )
    jpeg = [p for p in base if p.codec == "jpeg"]
    vs_jpeg = better_at_equal_bytes(ours, jpeg)
    print(gain_table("images: edgeae vs JPEG at equal bpp (JPEG interpolated)", vs_jpeg))
    # issue 12's ">= 3 dB over PCA-8bit at equal bytes" on image data: PCA's ladder ends at
    # k=64 (about 0.09 bpp), so only our points at or below that rate have a PCA value
    vs_pca = better_at_equal_bytes(ours, [p for p in base if p.codec == "pca8+deflate"])
    print(gain_table("images: edgeae vs PCA 8-bit + deflate at equal bpp (interpolated)", vs_pca))
    return {
        "points": [p.__dict__ for p in ours + base],
        "runs": runs,
        "vs_jpeg": vs_jpeg,
        "vs_pca": vs_pca,
        "recipe": {
            "model": dict(IMAGE_RECIPE["model"]),
            "train": {k: getattr(cfg, k) for k in ("epochs", "batch_size", "lr", "patience")},
            "train_crops": len(train_crops),
        },
        "train_images": TRAIN_IMAGES,
        "test_images": TEST_IMAGES,
        "test_pixels": int(sum(img.size for img in test_images)),
    }


def gain_table(title: str, rows: list[dict]) -> str:
    lines = [f"{'codec':<14} {'setting':<14} {'bpp':>7} {'ours dB':>8} {'base dB':>8} {'gain':>7}"]
    for r in rows:
        base = f"{r['baseline_psnr_db']:8.2f}" if r["baseline_psnr_db"] is not None else "       -"
        gain = f"{r['gain_db']:+7.2f}" if r["gain_db"] is not None else "      -"
        lines.append(
            f"{r['codec']:<14} {r['setting']:<14} {r['bpp']:7.3f} {r['psnr_db']:8.2f} {base} {gain}"
        )
    return "\n".join([f"\n{title}:", "", "```", *lines, "```"])


PARTS = ("digits", "images")
#: The data each part needs beyond the package: the part fails without it (--skip-missing).
NEEDS = {"images": SHARED}
#: The exit code of missing data (the projects' "bad input data", edgeae_runtime.errors).
EXIT_MISSING = 3


def missing_parts(parts: list[str]) -> dict[str, Path]:
    """The parts of ``parts`` whose data directory is absent, with that directory."""
    return {p: NEEDS[p] for p in parts if p in NEEDS and not NEEDS[p].is_dir()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and lambdas")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset")
    parser.add_argument(
        "--merge", action="store_true", help="keep the stored results of the parts not run"
    )
    parser.add_argument(
        "--lock", default=LOCK["path"], help="flock held while timing ('' for none)"
    )
    parser.add_argument(
        "--work", type=Path, help="keep the trained runs and exports here (default: a temp dir)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --work: keep the runs already trained there (export, coding and timing "
        "run again with this code)",
    )
    parser.add_argument(
        "--skip-missing",
        action="store_true",
        help="skip a part whose data is absent (images without ../shared/data/images) "
        "instead of failing",
    )
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"--parts: unknown {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    missing = missing_parts(parts)
    for part, folder in missing.items():
        if not args.skip_missing:
            print(f"error: bench_rd: {folder} not found: the {part} part needs it; "
                  f"pass --skip-missing (or --parts without {part}) to run without it",
                  file=sys.stderr)  # fmt: skip
            return EXIT_MISSING
        print(f"{folder} not found: {part} skipped (--skip-missing)", file=sys.stderr)
    parts = [p for p in parts if p not in missing]
    LOCK["path"] = args.lock
    if args.reuse and args.work is None:
        parser.error("--reuse needs --work")
    REUSE["on"] = args.reuse
    torch.set_num_threads(1)
    torch.manual_seed(0)
    result: dict = {}
    if args.merge and RESULTS.exists():
        result = {k: v for k, v in json.loads(RESULTS.read_text()).items() if k not in parts}
    result["quick"] = args.quick
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if "digits" in parts:
            result["digits"] = bench_digits(work, args.quick)
        if "images" in parts:
            result["images"] = bench_images(work, args.quick)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS, json.dumps(result, indent=2))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
