"""The training loop, top to bottom: data, model, optimizer, epochs, checkpoints, calibration.

``train()`` is what ``edgeae train`` runs. One epoch: shuffle (seeded per epoch,
so a resumed run sees the same order), corrupt the inputs (never the targets),
step Adam, step the schedule, validate, keep the best weights, write an atomic
checkpoint. After the last epoch the best weights are evaluated in raw units and
the anomaly threshold is calibrated on held-out normal items.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from edgeae.errors import CheckpointError, ConfigError, TrainError
from edgeae.models import ARCHS, arch_for_layout, asdict, build_model, config_from_dict
from edgeae.models import default_config as model_default_config
from edgeae_runtime import AnomalySpec
from edgeae_runtime.metrics import auroc, per_item_error, psnr, psnr_peak, snr_db
from edgeae_runtime.operating_point import LABELLED_METHODS, describe_operating_point, rates
from edgeae_runtime.preprocess import denormalize
from edgeae_runtime.scores import (
    anomaly_scores,
    calibrate_anomaly,
    calibrate_clips,
    item_independence,
)

from .checkpoint import (
    CHECKPOINT_NAME,
    checkpoint_record,
    read_checkpoint_dict,
    save_checkpoint_dict,
    spec_to_dict,
    versions,
)
from .config import TrainConfig
from .corruption import corrupt
from .distributed import DistContext, all_mean, barrier, init_distributed, shutdown
from .losses import get_loss
from .prepare import RATE_MIN_STEPS, ArrayData, Prepared, as_dataset, prepare, remix_epoch
from .report import Progress, plot_losses
from .rundir import RunDir, write_json_atomic

__all__ = [
    "PHASES",
    "RATE_MIN_STEPS",
    "EpochStats",
    "TrainResult",
    "TrainState",
    "Trainer",
    "optimizer_steps",
    "train",
]

#: The parts of a run ``metrics["phase_seconds"]`` times: setup (data preparation, model,
#: optimizer), the training steps, validation, per-epoch checkpoints, and the evaluation of
#: the best weights (raw-unit quality, threshold calibration); the final run files are after.
PHASES = ("setup", "steps", "validation", "checkpoints", "evaluation")


@dataclass(frozen=True)
class EpochStats:
    """One epoch's numbers, as logged and stored in metrics.json."""

    epoch: int
    train_loss: float
    val_loss: float
    lr: float
    seconds: float
    samples_per_s: float


@dataclass(frozen=True)
class TrainResult:
    """What a finished run produced (``run_dir`` is None on non-zero ranks)."""

    run_dir: Path | None
    metrics: dict[str, Any]
    epochs_run: int
    best_epoch: int
    best_val: float
    stopped_early: bool


def _model_config(
    arch: str | None, overrides: Mapping[str, Any], ds_layout: str, ds_shape, config: TrainConfig
):
    """Pick the arch (by layout if not given) and build its config; BCE implies a sigmoid."""
    arch = arch or arch_for_layout(ds_layout)
    if arch not in ARCHS:
        raise ConfigError(f"unknown arch {arch!r}; choose one of {', '.join(sorted(ARCHS))}")
    want = ARCHS[arch].layout
    if want != ds_layout:
        raise ConfigError(
            f"arch {arch} needs {want} items but the data are {ds_layout} with item shape "
            f"{tuple(ds_shape)}; use --arch {arch_for_layout(ds_layout)} or reshape the data"
        )
    overrides = dict(overrides)
    if config.rate_lambda > 0:
        overrides["entropy"] = True  # rate-distortion training learns the latents' entropy model
    if config.loss == "bce":
        if overrides.get("output") not in (None, "sigmoid"):
            raise ConfigError("loss bce needs a sigmoid output; drop output=... or use --loss mse")
        overrides["output"] = "sigmoid"
    return arch, model_default_config(arch, ds_shape, **overrides)


def _scheduler(opt: torch.optim.Optimizer, config: TrainConfig) -> Any:
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, T_max=config.epochs, eta_min=config.lr * 0.01
        )
    gamma = config.gamma if config.schedule == "step" else 1.0
    return torch.optim.lr_scheduler.StepLR(opt, step_size=config.step_size, gamma=gamma)


def _epoch_order(n: int, epoch: int, config: TrainConfig, ctx: DistContext) -> torch.Tensor:
    """This process's item order for ``epoch``: a function of (seed, epoch) only."""
    if ctx.enabled:
        from torch.utils.data import DistributedSampler

        sampler = DistributedSampler(
            range(n), num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=config.seed
        )
        sampler.set_epoch(epoch)
        return torch.tensor(list(sampler), dtype=torch.long)
    gen = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=gen)


@torch.no_grad()
def _predict(model: nn.Module, x: torch.Tensor, batch: int = 1024) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)])


def _run_epoch(
    model,
    opt,
    data: Prepared,
    epoch: int,
    config: TrainConfig,
    ctx: DistContext,
    progress: Progress,
) -> tuple[float, int, float]:
    """One pass over this process's shard; returns (mean loss, items seen, seconds)."""
    loss_fn = get_loss(config.loss)
    order = _epoch_order(len(data.train_x), epoch, config, ctx)
    noise_gen = torch.Generator().manual_seed(config.seed * 7_919 + epoch * 131 + ctx.rank)
    batch = max(1, config.batch_size // ctx.world_size)
    steps = (len(order) + batch - 1) // batch
    # decided once per epoch, not per step: an autoencoder (target = input) gathers each
    # batch once, and without a rate term the loss gets no extra "+ 0" node
    same_target = data.train_t is data.train_x
    rated = config.rate_lambda > 0
    model.train()
    total, seen = 0.0, 0
    start = time.perf_counter()
    for step in range(steps):
        idx = order[step * batch : (step + 1) * batch]
        clean = data.train_x[idx]
        target = clean if same_target else data.train_t[idx]
        inputs = corrupt(clean, config.noise, config.noise_level, noise_gen)
        loss = loss_fn(model(inputs), target)
        if rated:
            loss = loss + _rate_term(model, config, target)
        value = loss.item()
        if not math.isfinite(value):
            raise TrainError(
                f"epoch {epoch + 1}, batch {step + 1}: the loss became {value}; "
                f"lower --lr (now {config.lr}) or check the data's scale"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += value * len(idx)
        seen += len(idx)
        progress.step(epoch + 1, config.epochs, step + 1, steps, total / seen)
    return total / max(seen, 1), seen, time.perf_counter() - start


def optimizer_steps(train_items: int, config: TrainConfig, epochs: int) -> int:
    """Adam steps of ``epochs`` epochs over ``train_items`` items at ``config.batch_size``."""
    return epochs * -(-train_items // config.batch_size)


def _rate_term(model: nn.Module, config: TrainConfig, target: torch.Tensor) -> torch.Tensor | float:
    """``lambda * bits per value`` of the batch just reconstructed (0 without an entropy model)."""
    bits = getattr(getattr(model, "module", model), "bits", None)
    if config.rate_lambda <= 0 or bits is None:
        return 0.0
    return config.rate_lambda * bits.mean() / target[0].numel()


@torch.no_grad()
def coded_rate(model: nn.Module, x: torch.Tensor, batch: int = 1024) -> tuple[torch.Tensor, float]:
    """Reconstructions from the *rounded* latents and their mean cost in bits per item.

    What a compressed stream of ``x`` decodes to, and what it costs under the
    model's entropy model: the validation of rate-distortion training.
    """
    model.eval()
    outs, bits = [], 0.0
    for i in range(0, len(x), batch):
        coded, b = model.prior(model.encode(x[i : i + batch]))
        outs.append(model.decode(coded))
        bits += float(b.sum())
    return torch.cat(outs), bits / max(len(x), 1)


def _validate(model: nn.Module, data: Prepared, config: TrainConfig) -> float:
    if config.rate_lambda > 0 and getattr(model, "prior", None) is not None:
        out, bits = coded_rate(model, data.val_x)
        rate = config.rate_lambda * bits / data.val_t[0].numel()
        return float(get_loss(config.loss)(out, data.val_t).item()) + rate
    out = _predict(model, data.val_x)
    return float(get_loss(config.loss)(out, data.val_t).item())


def _framing(data: Prepared) -> SimpleNamespace:
    """The framing the run's manifest will record (signal, features, sensorlog, windows,
    item shape): what the false-alarm law's independent-item count reads
    (``item_independence``)."""
    ds = data.dataset
    return SimpleNamespace(
        signal=data.signal,
        windows=data.windows,
        features=getattr(ds, "features", None),
        sensorlog=getattr(ds, "sensorlog", None),
        item_shape=tuple(ds.item_shape),
    )


def _evaluate(model: nn.Module, data: Prepared, config: TrainConfig, source: str) -> tuple:
    """Raw-unit quality of the best weights and the calibrated anomaly threshold."""
    pre = data.preprocessing
    out = _predict(model, data.val_x)
    recon = denormalize(out.numpy(), pre)
    quality: dict[str, Any] = {
        "val_psnr_db": psnr(data.val_raw_target, recon, data_range=psnr_peak(pre.value_range)),
        "val_mse_raw": float(np.mean((data.val_raw_target - recon) ** 2)),
    }
    if data.dataset.target is not None:
        snr_in = snr_db(data.val_raw_target, data.val_raw_input)
        snr_out = snr_db(data.val_raw_target, recon)
        quality.update(
            val_snr_in_db=snr_in, val_snr_out_db=snr_out, val_snr_gain_db=snr_out - snr_in
        )
    errors = per_item_error(data.val_x.numpy(), out.numpy(), "mse")
    anomaly_errors = labels = None
    if data.anomaly_x is not None and data.anomaly_labels is not None:
        labels = data.anomaly_labels
        if (labels > 0).any() and (labels == 0).any():
            a_out = _predict(model, data.anomaly_x).numpy()
            anomaly_errors = per_item_error(data.anomaly_x.numpy(), a_out, "mse")
        else:
            labels = None
    labelled = config.threshold_method in LABELLED_METHODS
    hop_hours = None
    if data.signal is not None:
        hop_hours = data.signal.hop / data.signal.sample_rate / 3600.0
    if labelled and anomaly_errors is not None and labels is not None:
        errors = anomaly_errors[labels == 0]  # every labelled normal item, held-out ones included
    spec = calibrate_anomaly(
        errors,
        config.threshold_percentile,
        config.tails,
        "mse",
        calibrated_on=f"{len(errors)} held-out normal items of {source}"
        + (
            f" + {int(np.sum(labels > 0))} labelled anomalies (labelled normal items included)"
            if labelled and labels is not None
            else ""
        ),
        method=config.threshold_method,
        k=config.threshold_k,
        target_far=config.target_far,
        far_per=config.far_per,
        anomaly_errors=anomaly_errors[labels > 0] if labelled and labels is not None else None,
        events=AnomalySpec(
            hysteresis=config.hysteresis,
            vote_k=config.vote_k,
            vote_n=config.vote_n,
            min_windows=config.min_windows,
            baseline_windows=config.score_baseline,
        ),
        window_hours=hop_hours,
        independent=item_independence(_framing(data)),
    )
    features = getattr(data.dataset, "features", None)
    if features is not None and data.val_clips is not None:  # log-mel: a clip-level threshold
        if labelled and labels is not None and data.anomaly_clips is not None:
            c = data.anomaly_clips
            spec = calibrate_clips(spec, errors, c[labels == 0], features.reduce,
                                   anomaly_errors=anomaly_errors[labels > 0],
                                   anomaly_clip_ids=c[labels > 0])  # fmt: skip
        else:
            spec = calibrate_clips(spec, errors, data.val_clips, features.reduce)
    if anomaly_errors is not None and labels is not None:
        a_scores = anomaly_scores(anomaly_errors, spec)
        quality["anomaly_auroc"] = auroc(a_scores, labels)
        quality["anomaly_flag_rate"] = float(np.mean(a_scores > spec.threshold))
        r = rates(a_scores[labels == 0], a_scores[labels > 0], spec.threshold)
        quality["anomaly_tpr"], quality["anomaly_fpr"] = r.tpr, r.fpr
    return quality, spec


def _check_operating_point(data: Prepared, config: TrainConfig, source: str) -> None:
    """Refuse, before training, a threshold law the data cannot calibrate."""
    labels = data.anomaly_labels
    has_anomalies = labels is not None and bool((labels > 0).any() and (labels == 0).any())
    if config.threshold_method in LABELLED_METHODS and not has_anomalies:
        raise ConfigError(
            f"threshold_method {config.threshold_method!r}: {source} has no labelled "
            "anomalies to calibrate on (an .npz gives them as an 'anomaly_labels' array: "
            "0 normal, > 0 anomalous; 'labels' are class labels); use percentile, mean_std or far"
        )
    if config.threshold_method == "far" and config.far_per == "hour" and data.signal is None:
        raise ConfigError(
            f"far_per 'hour': {source} is not a signal with a sample rate; use far_per 'item'"
        )


def _state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train(
    data: ArrayData,
    arch: str | None = None,
    model_overrides: Mapping[str, Any] | None = None,
    config: TrainConfig | None = None,
    run_dir: str | os.PathLike[str] = "run",
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    data_source: str = "",
    on_epoch_end: Callable[[EpochStats], None] | None = None,
) -> TrainResult:
    """Train an autoencoder on ``data`` into ``run_dir``; see the module docstring for the loop.

    ``data`` is a :class:`edgeae.data.Dataset`, an array of items, or ``(x, clean)``.
    With ``resume`` the stored model and train configs win and the data must have the
    same fingerprint. Launched by torchrun, it trains data-parallel over gloo.
    """
    if arch == "spectral":  # a mask denoiser trains on waveforms: its own loop
        from .denoiser import train_denoiser

        if resume:
            raise ConfigError("--resume: the spectral arch trains from the start; drop --resume")
        return train_denoiser(
            data,
            dict(model_overrides or {}),
            config or TrainConfig(),
            run_dir,
            force=force,
            progress=progress,
            data_source=data_source,
        )
    ctx = init_distributed()
    rundir = RunDir(run_dir, resume=resume, force=force)
    log = Progress(enabled=progress and ctx.is_main)
    try:
        trainer = Trainer(
            as_dataset(data),
            arch,
            dict(model_overrides or {}),
            config or TrainConfig(),
            rundir,
            ctx,
            log,
            data_source=data_source,
            on_epoch_end=on_epoch_end,
        )
        return trainer.run()
    except BaseException:
        if ctx.is_main:
            rundir.abort()
        raise
    finally:
        shutdown(ctx)


@dataclass
class TrainState:
    """What changes from epoch to epoch, saved in every checkpoint and restored on resume."""

    epoch: int = 0
    best_val: float = float("inf")
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    best_weights: dict[str, torch.Tensor] = field(default_factory=dict)

    #: The checkpoint keys of the scalar fields (stored at the top level of the checkpoint).
    SCALARS: ClassVar[tuple[str, ...]] = (
        "epoch",
        "best_val",
        "best_epoch",
        "bad_epochs",
        "stopped",
    )

    @classmethod
    def from_checkpoint(cls, blob: Mapping[str, Any]) -> TrainState:
        """The state a checkpoint stored (``read_checkpoint_dict``'s dict)."""
        return cls(
            **{k: blob[k] for k in cls.SCALARS},
            history=list(blob["history"]),
            best_weights=dict(blob["best_state_dict"]),
        )

    def to_checkpoint(self) -> dict[str, Any]:
        """The checkpoint entries of this state (the inverse of :meth:`from_checkpoint`)."""
        return {
            "best_state_dict": self.best_weights,
            **{k: getattr(self, k) for k in self.SCALARS},
            "history": self.history,
        }

    def end_epoch(self, val: float, model: nn.Module, patience: int) -> bool:
        """Count one finished epoch with validation loss ``val``; True if it is the best yet."""
        self.epoch += 1
        if val < self.best_val:
            self.best_val, self.best_epoch, self.bad_epochs = val, self.epoch, 0
            self.best_weights = _state_copy(model)
            return True
        self.bad_epochs += 1
        self.stopped = bool(patience and self.bad_epochs >= patience)
        return False


class Trainer:
    """One training run: set up (fresh or resumed), epochs, then evaluation and the run files."""

    def __init__(
        self,
        ds: Any,
        arch: str | None,
        overrides: Mapping[str, Any],
        config: TrainConfig,
        rundir: RunDir,
        ctx: DistContext,
        log: Progress,
        *,
        data_source: str = "",
        on_epoch_end: Callable[[EpochStats], None] | None = None,
    ) -> None:
        t0 = time.perf_counter()
        self.ds, self.rundir, self.ctx, self.log = ds, rundir, ctx, log
        self.source = data_source or ds.name
        self.on_epoch_end = on_epoch_end
        blob = self._read_resume() if rundir.resume else None
        if blob is not None:
            self.config = TrainConfig.from_dict(blob["train_config"])
            self.arch = blob["arch"]
            self.model_cfg = config_from_dict(self.arch, blob["model_config"])
        else:
            self.config = config
            self.arch, self.model_cfg = _model_config(
                arch, overrides, ds.layout, ds.item_shape, config
            )
        self.prepared = prepare(ds, self.config, world_size=ctx.world_size)
        _check_operating_point(self.prepared, self.config, self.source)
        rundir.check()
        barrier(ctx)
        self.out_dir = rundir.open() if ctx.is_main else None
        self._build(blob)
        self.train_seconds, self.train_items = 0.0, 0  # this session's steps (samples_per_s)
        # where this session's time went (metrics.json "phase_seconds"; bench_train explains
        # the trainer's whole-run overhead over a bare loop with it)
        self.phases = dict.fromkeys(PHASES, 0.0)
        self.phases["setup"] = time.perf_counter() - t0

    def _read_resume(self) -> dict[str, Any]:
        """The checkpoint to resume from; refused when it was trained on other data."""
        blob, _ = read_checkpoint_dict(self.rundir.final)
        if blob.get("data_fingerprint") != self.ds.fingerprint:
            raise CheckpointError(
                f"{self.rundir.final}: the checkpoint was trained on other data "
                f"({blob.get('data_source')!r}); resume with the same SOURCE and options"
            )
        return blob

    def _build(self, blob: dict[str, Any] | None) -> None:
        """Model, optimizer, schedule and state: seeded fresh, or restored from ``blob``."""
        config = self.config
        torch.manual_seed(config.seed)
        self.model = build_model(self.arch, self.model_cfg)
        self.opt = torch.optim.Adam(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.sched = _scheduler(self.opt, config)
        self.state = TrainState(best_weights=_state_copy(self.model))
        if blob is not None:
            self.model.load_state_dict(blob["state_dict"])
            self.opt.load_state_dict(blob["optimizer"])
            self.sched.load_state_dict(blob["scheduler"])
            self.state = TrainState.from_checkpoint(blob)
        self.train_model: nn.Module = self.model
        if self.ctx.enabled:
            self.train_model = nn.parallel.DistributedDataParallel(self.model)

    def run(self) -> TrainResult:
        """Train until the last epoch or early stop, then evaluate the best weights."""
        ctx, cfg = self.ctx, self.model_cfg
        self.log.line(
            f"training {self.arch} {tuple(cfg.item_shape)} -> latent {tuple(cfg.latent_shape)} "
            f"on {self.source}: {self.prepared.split}"
            + (f", {ctx.world_size} processes" if ctx.enabled else "")
        )
        while self.state.epoch < self.config.epochs and not self.state.stopped:
            self._epoch()
        t0 = time.perf_counter()
        last_weights = _state_copy(self.model)
        self.model.load_state_dict(self.state.best_weights)
        quality, anomaly = _evaluate(self.model, self.prepared, self.config, self.source)
        self.phases["evaluation"] += time.perf_counter() - t0
        metrics = self._metrics(quality, anomaly)
        if ctx.is_main:
            self._write_run(metrics, anomaly, last_weights)
        barrier(ctx)
        s = self.state
        return TrainResult(
            run_dir=self.out_dir,
            metrics=metrics,
            epochs_run=s.epoch,
            best_epoch=s.best_epoch,
            best_val=s.best_val,
            stopped_early=s.stopped,
        )

    def _epoch(self) -> None:
        """One epoch: train, step the schedule, validate, keep the best, checkpoint, report."""
        ctx, config, state = self.ctx, self.config, self.state
        epoch = state.epoch
        t0 = time.perf_counter()
        remix_epoch(self.prepared, epoch)  # a fresh mixture / augmented copy every epoch
        loss, seen, seconds = _run_epoch(
            self.train_model, self.opt, self.prepared, epoch, config, ctx, self.log
        )
        loss = all_mean(loss, ctx)
        lr = self.opt.param_groups[0]["lr"]
        self.sched.step()
        t_val = time.perf_counter()
        val = _validate(self.model, self.prepared, config)
        self.phases["steps"] += seconds
        self.phases["validation"] += time.perf_counter() - t_val
        if not np.isfinite(val):
            raise TrainError(f"epoch {epoch + 1}: the validation loss became {val}; lower --lr")
        self.train_seconds += seconds
        self.train_items += seen * ctx.world_size
        best = state.end_epoch(val, self.model, config.patience)
        # seconds: training + validation; samples_per_s: the training steps alone
        stats = EpochStats(
            epoch + 1,
            loss,
            val,
            lr,
            time.perf_counter() - t0,
            seen * ctx.world_size / max(seconds, 1e-9),
        )
        state.history.append(dataclasses.asdict(stats))
        if ctx.is_main:
            t_ck = time.perf_counter()
            self._checkpoint(None, self.model.state_dict(), finished=False)
            self.rundir.publish()
            self.out_dir = self.rundir.path
            self.phases["checkpoints"] += time.perf_counter() - t_ck
        self.log.line(
            f"epoch {epoch + 1}/{config.epochs}  train {loss:.5g}  val {val:.5g}  "
            f"lr {lr:.3g}  {stats.seconds:.2f}s  {stats.samples_per_s:,.0f} items/s"
            + ("  (best)" if best else "")
        )
        if state.stopped:
            self.log.line(
                f"early stop: no improvement for {config.patience} epochs; "
                f"best epoch {state.best_epoch}"
            )
        if self.on_epoch_end is not None:
            self.on_epoch_end(stats)

    def _checkpoint(
        self, anomaly: AnomalySpec | None, weights: dict[str, torch.Tensor], *, finished: bool
    ) -> None:
        """Write the checkpoint atomically: model, optimizer, schedule, state, data identity.

        ``finished``: the run's last write (threshold calibrated, run files written); the
        per-epoch checkpoints of a run still going (or killed) say False, and export refuses
        them."""
        assert self.out_dir is not None  # only the main process writes
        record = checkpoint_record(
            self.arch,
            asdict(self.model_cfg),
            weights,
            specs={
                "preprocessing": self.prepared.preprocessing,
                "signal": self.prepared.signal,
                "features": getattr(self.ds, "features", None),
                "sensorlog": getattr(self.ds, "sensorlog", None),
                "windows": self.prepared.windows,
                "anomaly": anomaly,
            },
            source=self.source,
            fingerprint=self.ds.fingerprint,
            train_config=self.config.to_dict(),
            optimizer=self.opt.state_dict(),
            scheduler=self.sched.state_dict(),
            rng={"torch": torch.get_rng_state()},
            finished=finished,
            **self.state.to_checkpoint(),
        )
        save_checkpoint_dict(
            record,
            self.out_dir / CHECKPOINT_NAME,
        )

    def _rate_metrics(self) -> dict[str, Any]:
        """For rate-distortion runs: the validation items' coded rate under the entropy model,
        and the optimizer steps the run took (:data:`RATE_MIN_STEPS`: below it, say so)."""
        if getattr(self.model, "prior", None) is None:
            return {}
        _, bits = coded_rate(self.model, self.prepared.val_x)
        values = self.prepared.val_t[0].numel()
        steps = optimizer_steps(len(self.prepared.train_x), self.config, self.state.epoch)
        return {
            "rate_lambda": self.config.rate_lambda,
            "val_bits_per_item": bits,
            "val_bits_per_value": bits / values,
            "train_steps": steps,
            "rate_step_starved": steps < RATE_MIN_STEPS,
        }

    def _metrics(self, quality: dict[str, Any], anomaly: AnomalySpec) -> dict[str, Any]:
        """metrics.json: the schedule as run, the best epoch, the threshold, raw-unit quality."""
        s, history = self.state, self.state.history
        return {
            "arch": self.arch,
            "data_source": self.source,
            "split": self.prepared.split,
            "epochs": history,
            "epochs_run": s.epoch,
            "best_epoch": s.best_epoch,
            "best_val_loss": s.best_val,
            "final_val_loss": history[-1]["val_loss"] if history else None,
            "stopped_early": s.stopped,
            "threshold": anomaly.threshold,
            "threshold_percentile": anomaly.percentile,
            "threshold_method": anomaly.method,
            "threshold_val_tpr": anomaly.val_tpr,
            "threshold_val_fpr": anomaly.val_fpr,
            "threshold_val_normal": anomaly.val_normal,
            "anomaly_tails": anomaly.tails,
            "anomaly_center": anomaly.center,
            "train_seconds": sum(h["seconds"] for h in history),
            "samples_per_s": (
                (self.train_items / self.train_seconds) if self.train_seconds else None
            ),
            "phase_seconds": dict(self.phases),  # the final write (run files, loss.png) not yet
            "processes": self.ctx.world_size,
            "torch_threads": torch.get_num_threads(),
            "loss": self.config.loss,
            **self._rate_metrics(),
            **quality,
        }

    def _write_run(
        self, metrics: dict[str, Any], anomaly: AnomalySpec, last: dict[str, torch.Tensor]
    ) -> None:
        """The final checkpoint (with the threshold), metrics.json, config.json and loss.png."""
        out_dir = self.out_dir
        assert out_dir is not None
        self._checkpoint(anomaly, last, finished=True)
        write_json_atomic(out_dir / "metrics.json", metrics)
        write_json_atomic(
            out_dir / "config.json",
            {
                "arch": self.arch,
                "model_config": asdict(self.model_cfg),
                "train_config": self.config.to_dict(),
                "layout": self.model.layout,
                "item_shape": list(self.model_cfg.item_shape),
                "latent_shape": list(self.model_cfg.latent_shape),
                "data_source": self.source,
                "data_fingerprint": self.ds.fingerprint,
                "preprocessing": spec_to_dict(self.prepared.preprocessing),
                "signal": spec_to_dict(self.prepared.signal),
                "windows": spec_to_dict(self.prepared.windows),
                "versions": versions(),
            },
        )
        history = self.state.history
        note = plot_losses(history, out_dir / "loss.png") if history else None
        if note:
            self.log.line(note)
        quality_psnr = metrics["val_psnr_db"]
        self.log.line(
            f"val PSNR {quality_psnr:.2f} dB, anomaly threshold "
            f"{anomaly.threshold:.4g} ({describe_operating_point(anomaly)}, {anomaly.tails} tail"
            f"{'s' if anomaly.tails == 'both' else ''}); run in {out_dir}"
        )
