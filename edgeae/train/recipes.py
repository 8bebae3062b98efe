"""Training recipes for the built-in datasets: what `edgeae train builtin:NAME` trains.

The generic defaults (TrainConfig, each model's config, the arch chosen by data
layout) suit any data; each built-in set has a recipe chosen by measurement
(docs/models.md): an architecture that beats PCA at the same latent size and
whose int8 model pays off on the CPU (for ``tones``, a denoiser: the SNR gain on
a held-out recording), and a schedule that trains it in about a minute on 2
cores. Options the user gives always win; ``--arch`` replaces the recipe's
architecture, and then the recipe's model options (which belong to its own
architecture) are not applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RECIPES", "SOURCE_RECIPES", "Recipe", "recipe_arch", "recipe_for", "recipe_source"]


@dataclass(frozen=True)
class Recipe:
    """One built-in's recipe: architecture (None: by data layout), model and train overrides,
    and ``source`` option defaults (a ``logmel:`` source's frames and layout)."""

    arch: str | None = None
    model: Mapping[str, Any] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    source: Mapping[str, str] = field(default_factory=dict)


#: Per built-in dataset. Numbers behind each choice: docs/models.md.
RECIPES: dict[str, Recipe] = {
    # 64 pixels: one int8 GEMM per layer beats a chain of tiny 8x8 convs and resizes.
    "digits": Recipe(
        arch="dense2d",
        model={"hidden": (256, 128), "latent": 16},
        train={"epochs": 150, "lr": 3e-3, "patience": 20},
    ),
    # 3 x 256 windows; latent 1 x 16: a tight bottleneck (the clean signal has a few
    # degrees of freedom per window), wide enough convs for int8 to pay. Masking
    # half the inputs (targets clean, normal data only) teaches it to fill in a
    # running machine, so a dead sensor (dropout) reconstructs badly and scores high.
    # Where it still reconstructs a dead window *too well*, the two-sided score
    # (tails "both": log error far from the normal median) flags it anyway.
    # Decoder upsample+conv, not the sub-pixel default: at this full schedule sub-pixel
    # scored lower on two held-out seeds (AUROC 0.605 / 0.578 vs 0.629 / 0.624;
    # BENCHMARKS.md "Peers", decoders table).
    "sensor": Recipe(
        arch="conv1d",
        model={"hidden": (32, 64, 64, 64), "latent": 1, "decoder": "upsample"},
        train={
            "epochs": 60,
            "lr": 3e-3,
            "patience": 20,
            "noise": "masking",
            "noise_level": 0.5,
            "tails": "both",
        },
    ),
    # A streaming denoiser of 1 x 256 windows of 16 kHz audio (noisy in, clean target),
    # chosen by the SNR it gives a held-out recording: two stride-2 levels of 64
    # channels and latent 8 x 64. Denoising needs no bottleneck; four levels (latent
    # 4 x 16) lost the high-frequency detail and made a held-out recording worse
    # (10 -> 7 dB); this one gives 10 -> 17.6 dB (int8 17.3 dB, 2.4x ORT fp32).
    "tones": Recipe(
        arch="conv1d",
        model={"hidden": (64, 64), "latent": 8},
        train={"epochs": 25},
    ),
}

#: Per kind of source that is not a built-in (``logmel:DIR``, speech sources).
SOURCE_RECIPES: dict[str, Recipe] = {
    # Machine sound (logmel:DIR sources): the DCASE 2020 Task 2 baseline / MLPerf Tiny
    # ad01 autoencoder on 5 stacked frames of 128 log-mels: 640-128x4-8-128x4-640,
    # batch norm after every hidden layer, Adam 1e-3, batch 512 (the baseline trains
    # 100 epochs; 50 with early stopping reach its loss plateau here). Our latent stays
    # linear (ad01 puts batch norm + ReLU on it too).
    "logmel": Recipe(
        arch="dense",
        model={"hidden": (128, 128, 128, 128), "latent": 8, "batch_norm": True},
        train={"epochs": 50, "batch_size": 512, "lr": 1e-3, "patience": 10},
    ),
    # The conv alternatives (`--arch conv2d` / `--arch conv1d` on a logmel: source, or
    # layout=NCHW / NCW in it): patches of 16 log-mel frames (0.54 s at hop 512, so 1 s
    # clips still give items) as (n_mels, frames) items, every 4th patch of a clip for
    # training (neighbours share 15 of 16 frames; the runtime scores every one).
    # Numbers behind the choice: docs/anomaly.md, BENCHMARKS.md.
    "logmel-conv2d": Recipe(
        arch="conv2d",
        model={"hidden": (16, 32, 32, 32), "latent": 4},
        train={"epochs": 30, "batch_size": 128, "lr": 1e-3, "patience": 8},
        source={"frames": "16", "layout": "NCHW", "step": "4"},
    ),
    "logmel-conv1d": Recipe(
        arch="conv1d",
        model={"hidden": (128, 64, 32), "latent": 8},
        train={"epochs": 40, "batch_size": 256, "lr": 1e-3, "patience": 10},
        source={"frames": "16", "layout": "NCW", "step": "4"},
    ),
    # Image crops (IMAGES?crop=N) with --arch conv2d: nearest-upsampling + conv decoder
    # levels, exported as their exact sub-pixel twin (fold_upsample: the same graph and cost
    # as the "subpixel" default). A sub-pixel level's four phases have kernels of their own,
    # which a flat area shows as a fixed 4x4 checker wherever the training photos did not
    # tie them; upsample + conv cannot make one on a flat input. Measured on held-out colour
    # photos (docs/compression.md, "Colour photos"): stmalo's flat-area checker 3.3-4.2 -> 0.2-0.4
    # (JPEG 0.34) over four trainings; training takes about 2.2x as long.
    "image-crops-conv2d": Recipe(arch="conv2d", model={"decoder": "upsample"}),
    # Speech denoising (builtin:speech, mix:clean=DIR&noise=DIR, noisy/+clean/ folders):
    # the recurrent spectral-mask model the pretrained denoiser is (docs/speech.md: 320/160
    # STFT, the frame + the noise-floor column + a GRU state of 80), trained on waveforms
    # (SI-SNR + MR-STFT): 20 epochs of 40 steps x 16 fresh 1.5 s mixtures, AdamW one-cycle
    # 3e-3 (the shipped model trains 300). On ../shared's speech it beat the 8-frame conv
    # mask (--no-recurrent) on SI-SNR and PESQ of every held-out set, trained in 121 s
    # instead of 350 (STOI within 0.011; BENCHMARKS.md "Train your own denoiser").
    # The time-domain conv1d model made real noisy speech worse (docs/speech.md).
    "speech": Recipe(
        arch="spectral",
        model={"noise_floor": 0.02, "recurrent": True},
        train={"epochs": 20, "batch_size": 16, "lr": 3e-3, "weight_decay": 1e-4, "patience": 0},
    ),
}


def _builtin_name(source: str) -> str | None:
    if not source.startswith("builtin:"):
        return None
    return source[len("builtin:") :].partition("?")[0].strip()


_LOGMEL_BY_LAYOUT = {"NCHW": "logmel-conv2d", "NCW": "logmel-conv1d"}
_LOGMEL_BY_ARCH = {"conv2d": "logmel-conv2d", "conv1d": "logmel-conv1d"}


def _recipe(source: str, arch: str | None = None) -> Recipe | None:
    from edgeae.data.sources import is_crop_source

    if arch in (None, "conv2d") and is_crop_source(source):  # conv2d: their layout's default
        return SOURCE_RECIPES["image-crops-conv2d"]
    if source.startswith("logmel:"):  # by --arch, else by the source's layout=, else ad01
        if arch is not None:
            return SOURCE_RECIPES[_LOGMEL_BY_ARCH.get(arch, "logmel")]
        from edgeae.data.machine import logmel_options

        layout = logmel_options(source).get("layout", "NF")
        return SOURCE_RECIPES[_LOGMEL_BY_LAYOUT.get(layout, "logmel")]
    from edgeae.data.speech import is_speech_source

    if is_speech_source(source):
        return SOURCE_RECIPES["speech"]
    name = _builtin_name(source)
    return RECIPES.get(name) if name else None


def recipe_arch(source: str) -> str | None:
    """The architecture the recipe of ``builtin:NAME[?opts]`` trains; None for other sources."""
    recipe = _recipe(source)
    return recipe.arch if recipe else None


def recipe_for(source: str, arch: str | None = None) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """``(model_overrides, train_overrides)`` for ``builtin:NAME[?opts]``; empty otherwise.

    With ``arch`` other than the recipe's own, the model overrides are empty (they
    are options of the recipe's architecture); the training settings still apply.
    """
    recipe = _recipe(source, arch)
    if recipe is None:
        return {}, {}
    same_arch = arch is None or recipe.arch is None or arch == recipe.arch
    return (dict(recipe.model) if same_arch else {}), dict(recipe.train)


def recipe_source(source: str, arch: str | None = None) -> str:
    """``source`` with the recipe's source options added where it leaves them out
    (``logmel:DIR`` + ``--arch conv2d`` -> ``logmel:DIR?frames=32&layout=NCHW``);
    unchanged for sources whose recipe sets none. The run records this string, so
    export and compare cut the same items."""
    recipe = _recipe(source, arch)
    if recipe is None or not recipe.source:
        return source
    from urllib.parse import urlencode

    from edgeae.data.machine import logmel_options

    given = logmel_options(source)
    missing = {k: v for k, v in recipe.source.items() if k not in given}
    if not missing:
        return source
    return source + ("&" if "?" in source else "?") + urlencode(missing)
