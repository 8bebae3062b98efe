"""Training recipes for the built-in datasets: the settings `edgeae train builtin:NAME` uses.

The generic defaults (TrainConfig, each model's config) suit any data; the small
built-in sets need more epochs than that to beat PCA at the same latent size
(benchmarks/bench_train.py measures it). Options the user gives always win.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["RECIPES", "recipe_for"]

#: Per built-in dataset: model overrides and TrainConfig overrides.
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "digits": {"model": {}, "train": {"epochs": 150, "lr": 3e-3, "patience": 20}},
    "sensor": {
        "model": {"hidden": (16, 32, 32), "latent": 2},
        "train": {"epochs": 150, "lr": 3e-3, "patience": 20},
    },
    "tones": {"model": {}, "train": {"epochs": 15}},
}


def recipe_for(source: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """``(model_overrides, train_overrides)`` for ``builtin:NAME[?opts]``; empty otherwise."""
    if not source.startswith("builtin:"):
        return {}, {}
    name = source[len("builtin:") :].partition("?")[0].strip()
    entry = RECIPES.get(name, {"model": {}, "train": {}})
    return dict(entry["model"]), dict(entry["train"])
