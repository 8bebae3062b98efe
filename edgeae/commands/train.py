"""``edgeae train``: train an autoencoder on a data source into a run directory.

A thin layer over :func:`edgeae.train.train`: parse options, load the source,
print the result. torch is imported only when the command runs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, get_args

import click

from edgeae.errors import ConfigError
from edgeae_runtime.clitools import (
    BoundedFloat,
    Command,
    force_option,
    json_option,
    output_option,
    threads_option,
)
from edgeae_runtime.manifest import ThresholdMethod

from ._options import data_options

if TYPE_CHECKING:
    from edgeae.train import TrainConfig

__all__ = ["train"]


def _parse_hidden(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise ConfigError(
            f"--hidden: expected comma-separated integers like 128,64, got {text!r}"
        ) from None
    if not values:
        raise ConfigError("--hidden: give at least one width, e.g. --hidden 128")
    return values


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


@click.command(
    "train",
    cls=Command,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.argument("source")
@output_option()
@click.option(
    "--arch",
    default=None,
    help="dense, dense2d, conv1d, conv2d or spectral [default: the recipe of a built-in, a "
    "logmel: folder (ad01; conv2d/conv1d pick the conv log-mel recipes) or a speech source "
    "(spectral), else by layout].",
)
@click.option(
    "--latent",
    type=click.IntRange(1, 65536),
    default=None,
    help="Latent size (dense) or channels (conv).",
)
@click.option(
    "--hidden", default=None, help="Hidden widths (dense) or channels (conv), e.g. 64,32."
)
@click.option(
    "--recurrent/--no-recurrent",
    default=None,
    help="spectral: a GRU state of --latent units [80] carries the past (the speech "
    "recipe's default); --no-recurrent: 8 context frames instead.",
)
@click.option(
    "--epochs", type=click.IntRange(1, 100_000), default=None, help="Training epochs [default: 30]."
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 65536),
    default=None,
    help="Global batch size [default: 64].",
)
@click.option(
    "--lr",
    type=BoundedFloat(0.0, 10.0, low_open=True),
    default=None,
    help="Adam learning rate, in (0, 10] [default: 2e-3].",
)
@click.option(
    "--weight-decay",
    type=BoundedFloat(0.0, 10.0),
    default=None,
    help="Adam weight decay, in [0, 10] [default: 0].",
)
@click.option("--schedule", type=click.Choice(["cosine", "step", "constant"]), default=None)
@click.option("--loss", type=click.Choice(["mse", "bce", "l1"]), default=None)
@click.option(
    "--noise", type=click.Choice(["none", "gaussian", "masking", "saltpepper"]), default=None
)
@click.option(
    "--noise-level",
    type=BoundedFloat(0.0, 10.0),
    default=None,
    help="Noise std or fraction, in [0, 10] [0.1].",
)
@click.option(
    "--val-fraction",
    type=BoundedFloat(0.0, 1.0, low_open=True, high_open=True),
    default=None,
    help="Held-out fraction, in (0, 1) [0.1].",
)
@click.option(
    "--patience",
    type=click.IntRange(0, 100_000),
    default=None,
    help="Early-stop patience, 0 = off [8].",
)
@click.option("--seed", type=int, default=None, help="Seed for init, split, order, noise [0].")
@click.option(
    "--threshold-percentile",
    type=BoundedFloat(0.0, 100.0, low_open=True),
    default=None,
    help="Anomaly threshold, in (0, 100] [99].",
)
@click.option(
    "--tails",
    type=click.Choice(["upper", "both"]),
    default=None,
    help="Anomaly score: 'upper' flags errors above normal, 'both' also far below [upper].",
)
@click.option(
    "--threshold-method",
    type=click.Choice(get_args(ThresholdMethod)),
    default=None,
    help="Operating point: percentile of normal, mean + k*std, target false-alarm rate, "
    "or F1/Youden/accuracy-optimal on labelled validation anomalies [percentile].",
)
@click.option(
    "--threshold-k", type=BoundedFloat(0.0, 100.0), default=None, help="k of mean_std [3]."
)
@click.option(
    "--target-far",
    type=BoundedFloat(0.0, 1e6, low_open=True),
    default=None,
    help="False-alarm rate of --threshold-method far, per --far-per [0.01].",
)
@click.option(
    "--far-per",
    type=click.Choice(["item", "hour"]),
    default=None,
    help="Unit of --target-far [item].",
)
@click.option(
    "--hysteresis",
    type=BoundedFloat(0.0, 1.0, high_open=True),
    default=None,
    help="Stream events end below threshold*(1-h) [0].",
)
@click.option(
    "--vote",
    default=None,
    help="Stream events: K/N, a window is on when K of the last N are above [1/1].",
)
@click.option(
    "--min-windows",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Shortest event, in windows [1].",
)
@click.option(
    "--score-baseline",
    type=click.IntRange(0, 1_000_000),
    default=None,
    help="Streams: re-standardize scores by the median/spread of the last N windows "
    "(drift), 0 off [0].",
)
@click.option(
    "--rate-lambda",
    type=BoundedFloat(0.0, 1e6),
    default=None,
    help="Train a compression model: lambda weighs bits per value against the loss "
    "(learned entropy model, rANS-coded streams) [0: a plain autoencoder].",
)
@click.option(
    "--quality",
    default=None,
    metavar="Q[,Q...]",
    help="Compression quality 1 (smallest) .. 8 (best), a named --rate-lambda each; "
    "several (1,3,5 or 1-4) train a ladder into -o DIR/q1, DIR/q3, ... A labelled "
    "source's anomalies train too (the threshold stays on held-out normal items).",
)
@click.option(
    "--search",
    is_flag=True,
    help="Try a few recipes (arch, depth, latent, noise) within --search-budget and keep the one "
    "the validation metric picks (AUROC with anomaly labels, else held-out error); prints "
    "the table it chose from.",
)
@click.option(
    "--search-budget",
    type=click.FloatRange(1, 86400),
    default=300.0,
    show_default=True,
    help="Seconds --search may spend.",
)
@threads_option(default=None)
@data_options
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run in the -o directory (options must match it).",
)
@force_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or epoch lines.")
@json_option
def train(
    source: str,
    output: str,
    arch: str | None,
    latent: int | None,
    hidden: str | None,
    recurrent: bool | None,
    epochs: int | None,
    batch_size: int | None,
    lr: float | None,
    weight_decay: float | None,
    schedule: str | None,
    loss: str | None,
    noise: str | None,
    noise_level: float | None,
    val_fraction: float | None,
    patience: int | None,
    seed: int | None,
    threshold_percentile: float | None,
    tails: str | None,
    threshold_method: str | None,
    threshold_k: float | None,
    target_far: float | None,
    far_per: str | None,
    hysteresis: float | None,
    vote: str | None,
    min_windows: int | None,
    score_baseline: int | None,
    rate_lambda: float | None,
    quality: str | None,
    search: bool,
    search_budget: float,
    threads: int | None,
    key: str | None,
    window: int | None,
    hop: int | None,
    resume: bool,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Train an autoencoder on SOURCE into the run directory -o DIR (checkpoint, metrics, loss).

    SOURCE is builtin:NAME (digits, sensor, tones, speech), a .npy/.npz/.csv/.wav file, a
    folder of images (PNG; JPEG/WebP/BMP/TIFF with edgeae[images]), photos of any size as
    crops (DIR?crop=64), or speech for a denoiser: mix:clean=DIR&noise=DIR (a fresh mixture
    every epoch; validation = held-out files) or a folder holding noisy/ and clean/
    (docs/data.md). Built-in sources use their tuned recipe (edgeae.train.recipes) unless
    you set the option yourself; speech sources train the spectral-mask denoiser of the
    pretrained model (--window sets its STFT frame). The run directory gets checkpoint.pt,
    config.json, metrics.json and loss.png; an interrupted run continues with --resume,
    which refuses options that differ from the run's (name none, or the same values). Under
    torchrun it trains data-parallel (gloo), rank 0 writing. --threads defaults to torch's
    choice (OMP_NUM_THREADS or all cores); use 1 on a machine busy with other jobs: there,
    two threads fighting over busy cores were measured 20-50x slower on these small models.

    \b
    Examples:
      edgeae train builtin:digits -o runs/digits
      edgeae train builtin:tones -o runs/tones --epochs 20 --json
      edgeae train recording.wav --window 256 --hop 128 --noise gaussian -o runs/wav
      edgeae train data.npz --key x --arch dense --hidden 128,64 --latent 16 -o runs/x
      edgeae train builtin:sensor -o runs/sensor --resume
      edgeae train "mix:clean=speech/&noise=noises/&snr=-5..20" -o runs/speech
      edgeae train my_pairs/ --window 512 -o runs/pairs     # noisy/ + clean/ inside
      edgeae train builtin:sensor -o runs/s --threshold-method far --target-far 2 --far-per hour
      edgeae train beats.npz --arch conv1d --threshold-method f1 -o runs/beats
      edgeae train builtin:sensor -o runs/sensor --threads 1    # on a busy machine
      edgeae train builtin:digits --arch dense2d -o runs/codec --quality 1-4   # a codec ladder
      torchrun --nproc_per_node=2 -m edgeae train builtin:sensor -o runs/ddp
    """
    import torch

    from edgeae.data import load_source
    from edgeae.train import TrainConfig, recipe_arch, recipe_for, recipe_source
    from edgeae.train import train as run_training
    from edgeae.train.prepare import fit_schedule

    run_dir = output
    if threads is not None:
        torch.set_num_threads(threads)

    given = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "loss": loss,
        "noise": noise,
        "noise_level": noise_level,
        "val_fraction": val_fraction,
        "patience": patience,
        "seed": seed,
        "threshold_percentile": threshold_percentile,
        "tails": tails,
        "threshold_method": threshold_method,
        "threshold_k": threshold_k,
        "target_far": target_far,
        "far_per": far_per,
        "hysteresis": hysteresis,
        "min_windows": min_windows,
        "score_baseline": score_baseline,
        "rate_lambda": rate_lambda,
        **_parse_vote(vote),
    }
    from edgeae.train.config import QUALITY

    ladder = _parse_quality(quality, QUALITY)
    if ladder and rate_lambda is not None:
        raise click.BadParameter(
            "give --quality or --rate-lambda, not both", param_hint="--quality"
        )
    given_model = {"latent": latent, "hidden": _parse_hidden(hidden), "recurrent": recurrent}
    if resume:
        _refuse_contradictions(run_dir, arch, given_model, given)
    source = recipe_source(source, arch)  # logmel: + --arch conv2d -> its frames and layout
    arch = arch or recipe_arch(source)
    model_recipe, train_recipe = recipe_for(source, arch)
    config = TrainConfig(**{**train_recipe, **{k: v for k, v in given.items() if v is not None}})
    overrides = {**model_recipe, **{k: v for k, v in given_model.items() if v is not None}}
    if recurrent is not None and arch != "spectral":
        raise click.BadParameter(
            f"a GRU state is an option of the spectral denoiser, not of {arch}",
            param_hint="--recurrent",
        )
    if arch == "spectral" and window is not None:  # the STFT frame; the hop is half of it
        if hop is not None and hop != window // 2:
            raise click.BadParameter(
                f"the spectral arch hops half its window ({window // 2}), got {hop}",
                param_hint="--hop",
            )
        overrides["window"], window, hop = window, None, None
    dataset = load_source(source, key=key, window=window, hop=hop)
    if search and arch == "spectral":
        raise click.BadParameter(
            "--search tries item models; a speech source trains the spectral denoiser "
            "(choose its options yourself)",
            param_hint="--search",
        )
    if arch != "spectral":  # a recipe's batch and epochs on too little data
        # (resumed runs keep their checkpoint's schedule; the denoiser draws its own steps)
        fitted, n = fit_schedule(
            dataset,
            config,
            batch_size=batch_size is None,
            epochs=epochs is None and not resume,
            patience=patience is None,
            codec=bool(ladder),
        )
        if not quiet:
            _note_schedule(config, fitted, n, dataset.name, codec=bool(ladder))
        config = fitted
    if search:
        _search(
            dataset, arch, overrides, config, run_dir, search_budget, source, force, quiet, as_json
        )
        return
    runs = [(run_dir, config)]
    if ladder:
        runs = [
            (str(Path(run_dir) / f"q{q}"), dataclasses.replace(config, rate_lambda=QUALITY[q]))
            for q in ladder
        ]
    for where, cfg in runs:
        result = run_training(
            dataset,
            arch,
            overrides,
            cfg,
            where,
            resume=resume,
            force=force,
            progress=not quiet,
            data_source=source,
        )
        if result.run_dir is None:  # a non-zero rank of a distributed run
            return
        _warn_step_starved(result.metrics, cfg)
        if not cfg.rate_lambda:  # a codec's threshold is a by-product, not its job
            _warn_thin_calibration(result.metrics)
        if quiet and not as_json:
            click.echo(str(result.run_dir))
    if ladder:
        if as_json:
            metrics = {f"q{q}": _rate_summary(Path(run_dir) / f"q{q}") for q in ladder}
            click.echo(json.dumps(_json_safe(metrics), indent=2, sort_keys=True))
        return
    if as_json:
        click.echo(json.dumps(_json_safe(result.metrics), indent=2, sort_keys=True))


def _parse_quality(text: str | None, known: dict[int, float]) -> list[int]:
    """``3``, ``1,3,5`` or ``1-4`` -> the quality levels, each a key of ``known``."""
    if text is None:
        return []
    levels: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            levels += list(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise click.BadParameter(
            f"expected levels like 3, 1,3,5 or 1-4, got {text!r}", param_hint="--quality"
        ) from None
    if not levels or any(q not in known for q in levels):
        raise click.BadParameter(
            f"levels must be in 1..{max(known)}, got {text!r}", param_hint="--quality"
        )
    return sorted(set(levels))


def _note_schedule(
    given: TrainConfig, fitted: TrainConfig, train_items: int, name: str, *, codec: bool
) -> None:
    """On stderr, one line per part of the schedule ``fit_schedule`` changed, and why."""
    from edgeae.train.prepare import MAX_FITTED_EPOCHS, MIN_TRAIN_STEPS, min_train_steps

    least = min_train_steps(given, codec=codec)
    whose = "a codec's " if least != MIN_TRAIN_STEPS else ""
    if fitted.batch_size != given.batch_size:
        click.echo(
            f"batch size {fitted.batch_size}: the default {given.batch_size} is more than "
            f"{name}'s training items (--batch-size sets it)",
            err=True,
        )
    if fitted.epochs != given.epochs:
        per_epoch = -(-train_items // fitted.batch_size)
        capped = fitted.epochs * per_epoch < least
        click.echo(
            f"epochs {fitted.epochs}: the default {given.epochs} make only "
            f"{given.epochs * per_epoch} optimizer steps on {name}'s {train_items} training "
            f"items, fewer than {whose}{least}"
            + (f" (raised to at most {MAX_FITTED_EPOCHS} epochs)" if capped else "")
            + (f", early-stopping patience {fitted.patience}"
               if fitted.patience != given.patience else "")
            + " (--epochs sets it)",
            err=True,
        )


def _warn_thin_calibration(metrics: dict) -> None:
    """On stderr: the percentile threshold came from too few normal items to resolve its tail.

    p99 of 18 items is (nearly) their largest score: new normal data goes over it far more
    than 1 % of the time. The false-alarm law's tail fit holds on such small sets
    (docs/anomaly.md); measured on an 18-window CSV log: 14 windows flagged at p99 against
    2 (one real event) under ``far 0.01`` (100 epochs each).
    """
    if metrics.get("threshold_method") != "percentile":
        return
    n, p = int(metrics.get("threshold_val_normal") or 0), metrics.get("threshold_percentile")
    if not n or p is None or p >= 100 or n * (1.0 - p / 100.0) >= 1.0:
        return
    need = math.ceil(100.0 / (100.0 - p) - 1e-9)
    click.echo(
        f"warning: the p{p:g} threshold comes from {n} normal validation items, fewer than "
        f"the {need} a {100 - p:g} % tail needs: expect more false alarms on new data; "
        "--threshold-method far (a tail fit) holds on small sets, or give more normal data",
        err=True,
    )


def _warn_step_starved(metrics: dict, config: TrainConfig) -> None:
    """On stderr: a rate-distortion run took too few optimizer steps for lambda to matter."""
    if not metrics.get("rate_step_starved"):
        return
    from edgeae.train.prepare import RATE_MIN_STEPS

    stopped = metrics.get("epochs_run", config.epochs) < config.epochs
    fix = (
        f"validation stopped improving at epoch {metrics.get('best_epoch')} (early stop): "
        f"raise --patience (now {config.patience}) to train on"
        if stopped
        else f"raise --epochs or lower --batch-size (now {config.batch_size})"
    )
    click.echo(
        f"warning: rate-distortion training took {metrics['train_steps']} optimizer steps "
        f"(< {RATE_MIN_STEPS}); the codec's quality will hardly move with the rate: {fix}; "
        "docs/compression.md",
        err=True,
    )


def _rate_summary(run: Path) -> dict:
    """A ladder step's rate and quality from its metrics.json."""
    metrics = json.loads((run / "metrics.json").read_text())
    keys = ("rate_lambda", "val_bits_per_item", "val_bits_per_value", "val_psnr_db")
    return {k: metrics.get(k) for k in keys}


#: Where each model option lives in a stored model config (dense and conv names differ).
_MODEL_FIELDS = {
    "latent": ("latent", "latent_channels"),
    "hidden": ("hidden", "channels"),
    "recurrent": ("recurrent",),
}


def _same(a: object, b: object) -> bool:
    """Equal, with lists and tuples alike (stored configs hold lists)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return tuple(a) == tuple(b)
    return a == b


def _refuse_contradictions(
    run_dir: str, arch: str | None, model: dict[str, object], train: dict[str, object]
) -> None:
    """``--resume`` continues a run as it was: an option given with another value is refused.

    The stored configs win on resume, so a differing option would be silently
    ignored (``--arch conv2d`` training on as dense); naming it is the honest answer.
    """
    from pathlib import Path

    from edgeae.train.checkpoint import CHECKPOINT_NAME, read_checkpoint_dict

    if not (Path(run_dir) / CHECKPOINT_NAME).is_file():
        return  # nothing to resume: the trainer says so
    blob, _ = read_checkpoint_dict(run_dir)
    stored_model = blob.get("model_config") or {}
    stored_train = blob.get("train_config") or {}
    found: list[tuple[str, object, object]] = []
    if arch is not None and arch != blob.get("arch"):
        found.append(("arch", arch, blob.get("arch")))
    for name, value in model.items():
        field = next((f for f in _MODEL_FIELDS[name] if f in stored_model), None)
        if value is not None and field is not None and not _same(value, stored_model[field]):
            found.append((name, value, stored_model[field]))
    for name, value in train.items():
        if value is not None and name in stored_train and not _same(value, stored_train[name]):
            found.append((name, value, stored_train[name]))
    if found:
        name, value, stored = found[0]
        more = f" (and {len(found) - 1} more option(s))" if len(found) > 1 else ""
        raise ConfigError(
            f"{value} contradicts the run being resumed in {run_dir}, which has {stored}{more}; "
            "--resume continues a run unchanged: drop the option, or train a new run",
            param=name,
        )


def _parse_vote(text: str | None) -> dict[str, int]:
    """``--vote K/N`` -> ``{"vote_k": K, "vote_n": N}`` (empty when not given)."""
    if text is None:
        return {}
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise click.BadParameter(
            f"expected K/N such as 2/3, got {text!r}", param_hint="--vote"
        ) from None
    if not 1 <= k <= n <= 1024:
        raise click.BadParameter(f"need 1 <= K <= N <= 1024, got {text!r}", param_hint="--vote")
    return {"vote_k": k, "vote_n": n}


def _search(dataset, arch, overrides, config, run_dir, budget, source, force, quiet, as_json):
    """``--search``: train candidates within the budget, keep the best, print the table."""
    from edgeae.models import arch_for_layout
    from edgeae.train.search import Candidate
    from edgeae.train.search import search as run_search

    base = Candidate(arch or arch_for_layout(dataset.layout), dict(overrides))
    say = (lambda m: click.echo(m, err=True)) if not quiet else None
    result, table = run_search(
        dataset, base, config, run_dir, budget_s=budget, data_source=source, force=force, say=say
    )
    if as_json:
        click.echo(
            json.dumps(
                _json_safe(
                    {
                        "search": table.rows,
                        "chosen": table.chosen,
                        "metric": table.metric,
                        "seconds": table.seconds,
                        "metrics": result.metrics,
                    }
                ),
                indent=2,
                sort_keys=True,
            )
        )
        return
    click.echo("\n".join(table.table()))
    click.echo(f"kept candidate {table.chosen} in {result.run_dir} ({table.seconds:.0f} s)")
