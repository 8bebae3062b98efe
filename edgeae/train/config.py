"""The training recipe as one frozen dataclass, stored in every checkpoint and config.json."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgeae.errors import ConfigError
from edgeae_runtime.operating_point import FAR_UNITS
from edgeae_runtime.operating_point import METHODS as THRESHOLD_METHODS

__all__ = [
    "FAR_UNITS",
    "LOSSES",
    "NOISES",
    "QUALITY",
    "SCHEDULES",
    "TAILS",
    "THRESHOLD_METHODS",
    "TrainConfig",
]

LOSSES = ("mse", "bce", "l1")
NOISES = ("none", "gaussian", "masking", "saltpepper")
SCHEDULES = ("cosine", "step", "constant")
TAILS = ("upper", "both")


#: Named compression qualities (``edgeae train --quality``): 1 is the smallest stream,
#: 8 the best reconstruction; each is a ``rate_lambda`` (bits per value vs loss in model
#: space), measured on the built-in digits and the image crops (benchmarks/bench_rd.py).
QUALITY: dict[int, float] = {
    1: 0.3,
    2: 0.1,
    3: 0.03,
    4: 0.01,
    5: 0.003,
    6: 0.001,
    7: 3e-4,
    8: 1e-4,
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights, besides the data and the model config.

    ``batch_size`` is the global batch: with N data-parallel processes each one
    takes ``batch_size // N`` items per step, so 1 and N processes follow the same
    recipe. ``patience`` 0 disables early stopping. ``noise_level`` is the
    gaussian std (model units) or the fraction of values masked / salt-and-peppered.
    ``tails`` picks the anomaly score calibrated after training (see
    :func:`edgeae_runtime.calibrate_anomaly`): ``"upper"`` flags errors above normal,
    ``"both"`` also errors far below normal (a dead sensor reconstructed too well).
    ``threshold_method`` picks the operating point (:mod:`edgeae_runtime.operating_point`:
    ``percentile`` with ``threshold_percentile``, ``mean_std`` with ``threshold_k``,
    ``far`` with ``target_far`` per ``far_per`` item or hour, ``f1``/``youden``/``accuracy``
    on labelled validation anomalies); ``hysteresis``, ``vote_k``-of-``vote_n`` and
    ``min_windows`` are the stream event law (:mod:`edgeae_runtime.events`);
    ``score_baseline`` > 0 standardizes scores and lets streams re-estimate the
    standardization over their last that many windows (``ScoreBaseline``, drift).
    ``rate_lambda`` > 0 trains for compression: the model learns an entropy model of
    its latents and the loss adds ``rate_lambda`` times the bits per input value.
    """

    epochs: int = 30
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"
    step_size: int = 10
    gamma: float = 0.5
    loss: str = "mse"
    noise: str = "none"
    noise_level: float = 0.1
    val_fraction: float = 0.1
    patience: int = 8
    seed: int = 0
    threshold_percentile: float = 99.0
    tails: str = "upper"
    threshold_method: str = "percentile"
    threshold_k: float = 3.0
    target_far: float = 0.01
    far_per: str = "item"
    hysteresis: float = 0.0
    vote_k: int = 1
    vote_n: int = 1
    min_windows: int = 1
    score_baseline: int = 0
    rate_lambda: float = 0.0
    num_workers: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):  # nan passes every range check below
            value = getattr(self, item.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"must be a finite number, got {value}", param=item.name)
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("noise", self.noise, NOISES)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("tails", self.tails, TAILS)
        _check_choice("threshold_method", self.threshold_method, THRESHOLD_METHODS)
        _check_choice("far_per", self.far_per, FAR_UNITS)
        if not 0 <= self.threshold_k <= 100:
            raise ConfigError(f"threshold_k: must be in [0, 100], got {self.threshold_k}")
        if self.far_per == "item" and not 0 < self.target_far < 1:
            raise ConfigError(f"target_far: a per-item rate in (0, 1), got {self.target_far}")
        if self.far_per == "hour" and not 0 < self.target_far <= 1e6:
            raise ConfigError(f"target_far: alarms per hour in (0, 1e6], got {self.target_far}")
        if not 0 <= self.hysteresis < 1:
            raise ConfigError(f"hysteresis: must be in [0, 1), got {self.hysteresis}")
        if not 1 <= self.vote_k <= self.vote_n <= 1024:
            raise ConfigError(f"vote: need 1 <= k <= n <= 1024, got {self.vote_k}-of-{self.vote_n}")
        if not 1 <= self.min_windows <= 1_000_000:
            raise ConfigError(f"min_windows: must be in 1..1000000, got {self.min_windows}")
        if not 0 <= self.score_baseline <= 1_000_000:
            raise ConfigError(f"score_baseline: must be in 0..1000000, got {self.score_baseline}")
        for name in ("epochs", "batch_size", "step_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ConfigError(f"lr: must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay: must be >= 0, got {self.weight_decay}")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction: must be in (0, 1), got {self.val_fraction}")
        if self.patience < 0 or self.num_workers < 0:
            raise ConfigError("patience and num_workers: must be >= 0")
        if not 0 < self.threshold_percentile <= 100:
            raise ConfigError(
                f"threshold_percentile: must be in (0, 100], got {self.threshold_percentile}"
            )
        if self.noise != "none" and not self.noise_level > 0:
            raise ConfigError(f"noise_level: must be > 0 with noise {self.noise!r}")
        if self.noise in ("masking", "saltpepper") and self.noise_level >= 1:
            raise ConfigError(f"noise_level: a fraction in (0, 1) for {self.noise}")
        if not (math.isfinite(self.rate_lambda) and 0 <= self.rate_lambda <= 1e6):
            raise ConfigError(f"rate_lambda: must be in [0, 1e6], got {self.rate_lambda}")
        if self.device != "cpu":
            raise ConfigError(f"device: only 'cpu' is supported, got {self.device!r}")

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (JSON- and ``weights_only``-safe)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys are refused."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"train config: unknown field(s) {', '.join(unknown)}")
        return cls(**dict(data))


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
