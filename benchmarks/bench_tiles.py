"""Whole photos through the image codec (format version 6, tiles) against JPEG, file against file.

bench_rd.py scores the image codec on held-out photos cut to a multiple of its 64x64 tile
and coded as a batch of tiles. A user compresses a photo as it is: ``edgeae-rt compress
-m encoder.onnx photo.png -o photo.eae`` codes it whole, in tiles, its last row and column
edge-padded. Here the six held-out gray photos of bench_rd.py, uncut, go through exactly
that path (``compress_image`` / ``decompress_image``), and the bytes are the whole
stream's. Side by side in the same run:

- JPEG (Pillow) on the same uncut photos at every quality 1..95, its PSNR interpolated
  at our bits per pixel (the files' bytes over the photos' pixels, headers included);
- the two ways the codec takes a photo: one latent map (the encoder and decoder exported
  with spatial axes run on the whole padded photo) and tile by tile (every tile encoded
  and decoded alone, as a model with fixed sizes does);
- the same tiles as a batch stream (bench_rd.py's way): what the version 6 header costs;
- tile borders: the error on pixels within 2 pixels of a tile edge against the interior
  (blocking), for each mode and for JPEG at the tiles' rate.

The model is bench_rd.py's image recipe at one lambda, trained here (or kept from
``--work`` with ``--reuse``), float. Prints a table, writes benchmarks/results/tiles.json.

A rate-distortion curve and longer schedules: ``--lambdas 0.03,0.01,0.002`` trains (or
keeps) one model per lambda, and ``--epochs N`` replaces the recipe's 30 epochs (same
batch, so N/30 times the Adam steps); an entry ``LAMBDA@EPOCHS`` (``0.01@90``) gives one
model its own epochs. Each model is its own run in ``--work``: ``images-<lambda>`` at the
recipe's epochs (bench_rd.py's name), ``images-e<N>-<lambda>`` otherwise. With several
models it prints a table of the totals per model (the curve, with each model's training
steps and seconds from its run's metrics.json), a table of the latent map's gain per photo
and model, then each model's table; tiles.json then holds ``{"runs": [...]}`` (one model:
that run's dict, as before).

    python benchmarks/bench_tiles.py [--lambda 0.01 | --lambdas L1,L2,L3@EPOCHS]
        [--epochs N] [--work DIR [--reuse]] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from bench_rd import (
    CROP,
    IMAGE_RECIPE,
    REUSE,
    SHARED,
    TEST_IMAGES,
    TRAIN_IMAGES,
    Point,
    better_at_equal_bytes,
    gray_image,
    image_crops,
    items_dataset,
    mse_psnr,
    train_and_export,
)

from edgeae.train import TrainConfig
from edgeae_runtime import Model
from edgeae_runtime.atomic import write_text_atomic
from edgeae_runtime.codec import compress_image, compress_items, decompress_image
from edgeae_runtime.codec.tiles import split_tiles

RESULTS = Path(__file__).parent / "results" / "tiles.json"
EXIT_MISSING = 3
BORDER = 2  # pixels on each side of a tile edge counted as "border"


def border_mask(shape: tuple[int, int], tile: int = CROP) -> np.ndarray:
    """True on pixels within BORDER of an inner tile edge (the image's own edges excluded)."""
    rows = np.arange(shape[0]) % tile
    cols = np.arange(shape[1]) % tile
    near_r = (rows < BORDER) | (rows >= tile - BORDER)
    near_c = (cols < BORDER) | (cols >= tile - BORDER)
    near_r[:BORDER] = False
    near_r[-BORDER:] = False
    near_c[:BORDER] = False
    near_c[-BORDER:] = False
    return near_r[:, None] | near_c[None, :]


def jpeg(img: np.ndarray, quality: int) -> tuple[int, np.ndarray]:
    """JPEG (Pillow; colour at its default 4:2:0) of an 8-bit gray ``(H, W)`` or colour
    ``(H, W, 3)`` image: its bytes and the decoded pixels (float64)."""
    from PIL import Image

    mode = "RGB" if img.ndim == 3 else "L"
    buf = io.BytesIO()
    Image.fromarray(img.astype(np.uint8)).save(buf, format="JPEG", quality=quality)
    back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert(mode), np.float64)
    return buf.tell(), back


def jpeg_ladder(images: list[np.ndarray]) -> list[Point]:
    """JPEG at every quality 1..95 on the same images (bytes and squared error pooled; bits
    per pixel, the error per value): fine enough to interpolate at one photo's rate
    (bench_rd.py's ladder has 8 steps)."""
    pixels = sum(img.shape[0] * img.shape[1] for img in images)
    values = sum(img.size for img in images)
    points = []
    for q in range(1, 96):
        size, err = 0, 0.0
        for img in images:
            n, back = jpeg(img, q)
            size += n
            err += float(np.sum((img - back) ** 2))
        points.append(Point("jpeg", f"q={q}", size / len(images), 8 * size / pixels,
                            mse_psnr(err / values, 255.0)))  # fmt: skip
    return points


def border_ratio(img: np.ndarray, rec: np.ndarray) -> float:
    """Mean squared error on tile-border pixels over that of the interior."""
    mask = border_mask(img.shape)
    err = (img.astype(np.float64) - rec) ** 2
    return float(err[mask].mean() / err[~mask].mean())


MODES = {"latent map": None, "tile by tile": False}  # compress_image's latent_map=


def code_photo(enc: Model, dec: Model, img: np.ndarray, latent_map: bool | None) -> dict:
    """One photo through compress_image / decompress_image: bytes, quality, blocking, and
    JPEG at the same rate."""
    data = compress_image(enc, img[None], latent_map=latent_map)
    rec = np.clip(np.rint(decompress_image(dec, data)[0]), 0, 255).astype(np.float64)
    pixels = img.size
    err = float(np.sum((img - rec) ** 2))
    bpp = 8 * len(data) / pixels
    point = Point("edgeae", "", len(data), bpp, mse_psnr(err / pixels, 255.0))
    vs = better_at_equal_bytes([point], jpeg_ladder([img]))[0]
    return {
        "bytes": len(data),
        "sq_error": err,
        "bpp": bpp,
        "psnr_db": point.psnr_db,
        "jpeg_psnr_db": vs["baseline_psnr_db"],  # None: outside JPEG's rates
        "border_ratio": border_ratio(img, rec),
    }


def parse_models(text: str, epochs: int | None) -> list[tuple[float, int | None]]:
    """``--lambdas``: ``0.03,0.01@90`` -> [(0.03, epochs), (0.01, 90)] (None: the recipe's)."""
    models = []
    for part in text.split(","):
        lam, _, ep = part.strip().partition("@")
        models.append((float(lam), int(ep) if ep else epochs))
    if not models or any(lam <= 0 or (ep is not None and ep < 1) for lam, ep in models):
        raise ValueError(f"--lambdas {text!r}: positive lambdas, epochs >= 1")
    if len(set(models)) != len(models):
        raise ValueError(f"--lambdas {text!r}: a model twice")
    return models


def parse_model(text: str) -> dict:
    """``--model``: a JSON object of model overrides (``{"hidden": [32, 64, 64], "latent":
    16}``) replacing the recipe's; lists become tuples."""
    try:
        model = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--model {text!r}: not JSON ({exc})") from None
    if not isinstance(model, dict) or not model:
        raise ValueError(f"--model {text!r}: a JSON object of model overrides")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in model.items()}


def model_tag(model: dict | None) -> str:
    """The model's part of a run name: '' for the recipe's, else ``-h32.64.64-l16`` (hidden,
    latent) or the other keys as ``-key=value``."""
    if model is None or model == dict(IMAGE_RECIPE["model"]):
        return ""
    parts = []
    for key, value in sorted(model.items()):
        text = ".".join(map(str, value)) if isinstance(value, tuple) else str(value)
        short = {"hidden": "h", "latent": "l"}.get(key)
        parts.append(f"{short}{text}" if short else f"{key}={text}")
    return "-" + "-".join(parts)


def run_name(epochs: int | None, base: TrainConfig, model: dict | None = None) -> str:
    """The run's name in --work: bench_rd.py's ``images`` at the recipe's epochs and model,
    ``images-e<N>`` at other epochs, then the model's tag (``images-h32.64.64-l16``)."""
    name = "images" if epochs is None or epochs == base.epochs else f"images-e{epochs}"
    return name + model_tag(model)


def run(
    work: Path, lam: float, quick: bool, epochs: int | None = None, model: dict | None = None
) -> dict:
    per_image = 24 if quick else IMAGE_RECIPE["crops_per_image"]
    crops = image_crops(TRAIN_IMAGES, per_image, 0)
    ds = items_dataset(crops, "NCHW", "crops-train")
    base = TrainConfig(epochs=5) if quick else IMAGE_RECIPE["train"]
    cfg = base if epochs is None else dataclasses.replace(base, epochs=epochs)
    name = run_name(epochs, base, model)
    overrides = dict(IMAGE_RECIPE["model"]) if model is None else dict(model)
    out, seconds, _ = train_and_export(name, ds, "conv2d", overrides, lam, cfg, work)
    metrics_path = work / f"{name}-{lam:g}" / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    enc, dec = Model(out / "encoder.onnx", threads=1), Model(out / "decoder.onnx", threads=1)
    photos = [gray_image(photo, cut=False) for photo in TEST_IMAGES]
    rows = []
    for photo, img in zip(TEST_IMAGES, photos, strict=True):
        batch = compress_items(enc, split_tiles(img[None], (CROP, CROP)))
        pixels = img.size
        near = min(((q, *jpeg(img, q)) for q in range(1, 96)),
                   key=lambda j: abs(8 * j[1] - 8 * len(batch)))  # fmt: skip
        rows.append(
            {
                "image": photo,
                "shape": list(img.shape),
                "tiles": len(split_tiles(img[None], (CROP, CROP))),
                "batch_bytes": len(batch),
                "modes": {m: code_photo(enc, dec, img, flag) for m, flag in MODES.items()},
                "jpeg_quality_near": near[0],
                "jpeg_bpp_near": 8 * near[1] / pixels,
                "jpeg_border_ratio": border_ratio(img, near[2]),
            }
        )
    pixels = sum(img.size for img in photos)
    jpeg_points = jpeg_ladder(photos)
    total = {}
    for mode in MODES:
        size = sum(r["modes"][mode]["bytes"] for r in rows)
        err = sum(r["modes"][mode]["sq_error"] for r in rows)
        ours = Point(mode, f"lambda={lam:g}", size / len(photos), 8 * size / pixels,
                     mse_psnr(err / pixels, 255.0))  # fmt: skip
        vs = better_at_equal_bytes([ours], jpeg_points)[0]
        total[mode] = {
            "bytes": size,
            "bpp": ours.bpp,
            "psnr_db": ours.psnr_db,
            "jpeg_psnr_db": vs["baseline_psnr_db"],
            "gain_db": vs["gain_db"],
        }
    tiles_bytes = total["tile by tile"]["bytes"]
    return {
        "lambda": lam,
        "run": name,
        "model_tag": model_tag(model).lstrip("-") or "recipe",
        "model": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "train_steps": metrics.get("train_steps"),
        "train_seconds": seconds,  # None: kept (--reuse)
        "run_train_seconds": metrics.get("train_seconds"),  # when the run was trained
        "quick": quick,
        "any_size": enc.any_size,
        "test_images": TEST_IMAGES,
        "rows": rows,
        "total": total,
        "header_overhead_bytes_per_image": (
            tiles_bytes - sum(r["batch_bytes"] for r in rows)
        ) / len(photos),
    }


def jpeg_cells(cell: dict) -> str:
    """A table's "JPEG PSNR | gain" cells of one coded photo."""
    ref = cell["jpeg_psnr_db"]
    return "outside q 1-95 | n/a" if ref is None else f"{ref:.2f} | {cell['psnr_db'] - ref:+.2f}"


def _label(res: dict) -> str:
    tag = res.get("model_tag", "recipe")
    label = f"lambda {res['lambda']:g}, {res['epochs']} epochs"
    return label if tag == "recipe" else f"{label}, {tag}"


def vs_recipe(runs: list[dict], recipe: list[dict], mode: str = "latent map") -> list[dict]:
    """Each run's PSNR against the recipe's curve (its runs' points, linear in bpp between
    the two around the run's bpp), per photo and over the six. Outside the recipe's rates the
    nearest segment is extended (``extrapolated``: the photos and "all six" that were)."""

    def gain(cell: dict, curve: list[dict]) -> tuple[float, bool]:
        pts = sorted((c["bpp"], c["psnr_db"]) for c in curve)
        xs, ys = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
        x = cell["bpp"]
        i = int(np.clip(np.searchsorted(xs, x), 1, len(xs) - 1))
        ref = ys[i - 1] + (ys[i] - ys[i - 1]) * (x - xs[i - 1]) / (xs[i] - xs[i - 1])
        return float(cell["psnr_db"] - ref), not xs[0] <= x <= xs[-1]

    out = []
    for res in runs:
        photos, extra = {}, []
        for i, row in enumerate(res["rows"]):
            curve = [r["rows"][i]["modes"][mode] for r in recipe]
            photos[row["image"]], outside = gain(row["modes"][mode], curve)
            if outside:
                extra.append(row["image"])
        total, outside = gain(res["total"][mode], [r["total"][mode] for r in recipe])
        if outside:
            extra.append("all six")
        out.append({"run": res["run"], "lambda": res["lambda"], "mode": mode,
                    "photos": photos, "total": total, "extrapolated": extra})  # fmt: skip
    return out


def vs_recipe_table(rows: list[dict], recipe: list[dict]) -> str:
    """The gains of ``vs_recipe`` in dB, one row per run, one column per photo."""
    names = list(rows[0]["photos"])
    lams = ", ".join(f"{r['lambda']:g}" for r in recipe)
    lines = [
        f"gain over the recipe's curve at equal rate (dB, {rows[0]['mode']}; the recipe's runs "
        f"at lambda {lams}, linear in bpp at each photo's bpp; (x): beyond the recipe's rates, "
        "its nearest segment extended)",
        "",
        "| run | lambda | " + " | ".join(names) + " | all six |",
        "|---|---|" + "---|" * (len(names) + 1),
    ]
    for r in rows:
        gains = [*r["photos"].items(), ("all six", r["total"])]
        cells = [f"({g:+.2f})" if n in r["extrapolated"] else f"{g:+.2f}" for n, g in gains]
        lines.append(f"| {r['run']} | {r['lambda']:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def curve_table(runs: list[dict]) -> str:
    """The totals over the six photos, one row per model and mode."""
    lines = [
        "all six held-out photos, uncut, through compress_image (format v6), float, one row per "
        "model and mode; JPEG interpolated at the same bpp; steps and train s from the run's "
        "metrics.json (when it was trained)",
        "",
        "| model | lambda | epochs | steps | train s | mode | bytes | bpp | PSNR | JPEG PSNR | "
        "gain |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in runs:
        secs = res.get("run_train_seconds")
        for mode, t in res["total"].items():
            lines.append(
                f"| {res.get('model_tag', 'recipe')} | {res['lambda']:g} | {res['epochs']} | "
                f"{res.get('train_steps') or 'n/a'} | "
                f"{'n/a' if secs is None else f'{secs:.0f}'} | {mode} | {t['bytes']} | "
                f"{t['bpp']:.3f} | {t['psnr_db']:.2f} | {jpeg_cells(t)} |"
            )
    return "\n".join(lines)


def photo_table(runs: list[dict], mode: str = "latent map") -> str:
    """Each photo's bpp, PSNR and gain over JPEG in one mode, one column per model."""
    head = " | ".join(_label(r) for r in runs)
    lines = [
        f"per photo, {mode}: bpp / PSNR / gain over JPEG at that bpp",
        "",
        f"| photo | {head} |",
        "|---|" + "---|" * len(runs),
    ]
    for i, name in enumerate(runs[0]["test_images"]):
        cells = []
        for r in runs:
            c = r["rows"][i]["modes"][mode]
            ref = c["jpeg_psnr_db"]
            gain = "n/a" if ref is None else f"{c['psnr_db'] - ref:+.2f}"
            cells.append(f"{c['bpp']:.3f} / {c['psnr_db']:.2f} / {gain}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(res: dict) -> str:
    lines = [
        f"whole held-out photos, uncut, through compress_image (format v6), lambda "
        f"{res['lambda']:g}, {res['epochs']} epochs, model {res.get('model_tag', 'recipe')}, "
        f"float; JPEG interpolated at the same bpp; "
        f"border/interior: MSE within {BORDER} px of an inner tile edge over the rest",
        "",
        "| photo | size | tiles | mode | bytes | bpp | PSNR | JPEG PSNR | gain | "
        "border/interior |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        for mode, c in r["modes"].items():
            lines.append(
                f"| {r['image']} | {r['shape'][0]}x{r['shape'][1]} | {r['tiles']} | {mode} | "
                f"{c['bytes']} | {c['bpp']:.3f} | {c['psnr_db']:.2f} | {jpeg_cells(c)} | "
                f"{c['border_ratio']:.2f} |"
            )
        lines.append(
            f"| {r['image']} | | | JPEG q={r['jpeg_quality_near']} | | "
            f"{r['jpeg_bpp_near']:.3f} | | | | {r['jpeg_border_ratio']:.2f} |"
        )
    for mode, t in res["total"].items():
        lines.append(
            f"| all six | | | {mode} | {t['bytes']} | {t['bpp']:.3f} | {t['psnr_db']:.2f} | "
            f"{jpeg_cells(t)} | |"
        )
    lines.append("")
    lines.append(
        f"version 6 header vs a batch of the same tiles: "
        f"{res['header_overhead_bytes_per_image']:+.1f} bytes per photo"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lambda", dest="lam", type=float, default=None,
                        help="one model at this lambda (default 0.01)")  # fmt: skip
    parser.add_argument("--lambdas", help="several models: 0.03,0.01,0.002 (LAMBDA@EPOCHS: "
                        "that model's epochs)")  # fmt: skip
    parser.add_argument("--epochs", type=int, help="instead of the recipe's 30 (--quick: 5)")
    parser.add_argument("--model", help="JSON model overrides instead of the recipe's, e.g. "
                        "'{\"hidden\": [32, 64, 64], \"latent\": 16}' (in the name)")  # fmt: skip
    parser.add_argument("--vs-recipe", metavar="L1,L2,L3", help="with --model: also the "
                        "recipe's models at these lambdas (trained or kept), and each model's "
                        "gain over their curve at equal rate (LAMBDA@EPOCHS entries are listed, "
                        "not part of the curve)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="5 epochs on fewer crops")
    parser.add_argument("--work", type=Path, help="keep the trained run here")
    parser.add_argument("--reuse", action="store_true", help="with --work: keep a trained run")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"error: bench_tiles: {SHARED} not found: the photos are there", file=sys.stderr)
        return EXIT_MISSING
    if args.reuse and args.work is None:
        parser.error("--reuse needs --work")
    if args.lam is not None and args.lambdas:
        parser.error("--lambda or --lambdas, not both")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs: at least 1")
    try:
        models = parse_models(args.lambdas or f"{args.lam or 0.01:g}", args.epochs)
        model = None if args.model is None else parse_model(args.model)
        recipe = [] if args.vs_recipe is None else parse_models(args.vs_recipe, args.epochs)
    except ValueError as exc:
        parser.error(str(exc))
    if recipe and model is None:
        parser.error("--vs-recipe needs --model")
    REUSE["on"] = args.reuse
    torch.set_num_threads(1)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        runs = [run(work, lam, args.quick, epochs, model) for lam, epochs in models]
        base = [run(work, lam, args.quick, epochs) for lam, epochs in recipe]
    curve = [b for b, (_, epochs) in zip(base, recipe, strict=True) if epochs == args.epochs]
    compared = vs_recipe(runs, curve) if curve else None
    runs += base
    if len(runs) == 1:
        print(table(runs[0]))
    else:
        print(curve_table(runs) + "\n\n" + photo_table(runs))
        for res in runs:
            print("\n" + table(res))
    if compared:
        print("\n" + vs_recipe_table(compared, curve))
    out = RESULTS.with_suffix(".quick.json") if args.quick else RESULTS
    doc = runs[0] if len(runs) == 1 else {"runs": runs}
    if compared:
        doc["vs_recipe"] = compared
    write_text_atomic(out, json.dumps(doc, indent=2))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
