"""Training the spectral-mask speech denoiser (arch ``spectral``) on waveforms.

The generic trainer fits items to targets; a mask denoiser is judged on the
waveform it rebuilds, so this loop runs the runtime's algorithm in torch (STFT ->
mask -> least-squares inverse STFT, :mod:`edgeae.models.spectral`) on whole
segments of a speech corpus and scores the result against the clean speech:
``-SI-SNR / 10`` (capped at 30 dB, so clean-input segments do not dominate) plus a
multi-resolution STFT loss (spectral convergence + L1 of ``|X| ** 0.3`` at FFT
256/512/1024). Every epoch draws fresh mixtures (``SpeechCorpus.train_set``);
the epoch with the best SI-SNR gain on the held-out files' segments is kept.

The run directory is the generic trainer's (checkpoint, config.json, metrics.json,
loss.png), with the STFT front-end stored as ``spectral``, so ``edgeae export RUN``
and ``edgeae quantize`` take it like any other run.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from edgeae.errors import ConfigError, DataError
from edgeae.models import asdict, build_model, config_from_dict
from edgeae.models.spectral import SpectralConfig, SpectralMaskAE, compress, istft, mask_gain, stft
from edgeae.models.spectral_gru import SpectralGRUMask
from edgeae_runtime import Preprocessing, SignalSpec
from edgeae_runtime.manifest import SpectralSpec

from .checkpoint import (
    CHECKPOINT_NAME,
    checkpoint_record,
    save_checkpoint_dict,
    spec_to_dict,
    versions,
)
from .config import TrainConfig
from .report import Progress, plot_losses
from .rundir import RunDir, write_json_atomic

__all__ = [
    "SEGMENT_SECONDS",
    "STEPS_PER_EPOCH",
    "denoise_loss",
    "enhance",
    "mrstft_loss",
    "si_snr",
    "spectral_spec",
    "train_denoiser",
    "train_step",
]

#: Length of one training segment, and optimizer steps per epoch (an "epoch" is a fixed
#: number of fresh mixtures, not a pass over the files: the mixtures never repeat).
SEGMENT_SECONDS = 1.5
STEPS_PER_EPOCH = 40
#: The GRU state width of a recurrent spectral model unless ``latent`` says otherwise.
RECURRENT_STATE = 80
_RESOLUTIONS = ((512, 128), (1024, 256), (256, 64))


def si_snr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Scale-invariant SNR in dB of each row of ``(B, n)`` estimates against references."""
    est = est - est.mean(dim=-1, keepdim=True)
    ref = ref - ref.mean(dim=-1, keepdim=True)
    proj = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + 1e-8) * ref
    noise = est - proj
    return 10 * torch.log10(proj.pow(2).sum(-1) / (noise.pow(2).sum(-1) + 1e-8) + 1e-8)


class _StftMagnitude(torch.autograd.Function):
    """``|torch.stft(x, n_fft, hop, hann, center=True, reflect)|`` with a cheaper backward.

    autograd's own backward of ``rfft`` pads the gradient to the full spectrum and runs
    a complex FFT, then scatters through the strided frames with ``index_add``; the
    adjoint of a one-sided rFFT is one real inverse FFT (``irfft`` with ``norm="forward"``,
    the bins between DC and Nyquist halved), the framing's adjoint an overlap-add and
    the reflect padding's a fold-back of the two edges. The same gradient to float
    rounding (tests/edgeae/train/test_denoiser.py checks it against autograd).
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:  # type: ignore[override]
        win = _hann(n_fft, x.device)
        spec = torch.stft(x, n_fft, hop, window=win, return_complex=True).transpose(1, 2)
        # (B, T, bins): contiguous, stft's own memory order
        mag = (spec.real.square() + spec.imag.square()).sqrt_()
        ctx.save_for_backward(spec, mag)
        ctx.n_fft, ctx.hop, ctx.length = n_fft, hop, x.shape[-1]
        return mag.transpose(1, 2)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # type: ignore[override]
        spec, mag = ctx.saved_tensors
        n_fft, hop, length = ctx.n_fft, ctx.hop, ctx.length
        # d|S| = Re(conj(S) dS) / |S|, and 0 where S = 0 (as autograd's abs)
        scale = torch.where(mag > 0, grad.transpose(1, 2) / mag, 0.0)
        scale[..., 1 : n_fft // 2] *= 0.5
        g = spec * scale  # (B, T, bins)
        frames = torch.fft.irfft(g, n=n_fft, dim=-1, norm="forward") * _hann(n_fft, grad.device)
        pad = n_fft // 2
        gp = _overlap_add(frames, hop)  # the padded signal's gradient (its tail past the
        gp = nn.functional.pad(gp, (0, length + 2 * pad - gp.shape[-1]))  # last frame: 0)
        gx = gp[:, pad : pad + length].clone()
        gx[:, 1 : pad + 1] += gp[:, :pad].flip(-1)  # reflect padding: the edges fold back
        gx[:, length - 1 - pad : length - 1] += gp[:, pad + length :].flip(-1)
        return gx, None, None


def _overlap_add(frames: torch.Tensor, hop: int) -> torch.Tensor:
    """``(B, T, n)`` frames every ``hop`` samples summed into ``(B, (T - 1) * hop + n)``:
    each frame cut into ``ceil(n / hop)`` hop-long pieces, piece ``c`` of frame ``t`` added
    at output piece ``t + c`` (a few large adds instead of ``fold``'s col2im)."""
    b, t, n = frames.shape
    r = -(-n // hop)
    parts = nn.functional.pad(frames, (0, r * hop - n)).reshape(b, t, r, hop)
    out = frames.new_zeros(b, t + r - 1, hop)
    for c in range(r):
        out[:, c : c + t] += parts[:, :, c]
    return out.reshape(b, -1)[:, : (t - 1) * hop + n]


class _Compress(torch.autograd.Function):
    """``x ** p`` of positive ``x`` as ``exp(p log x)``, its gradient ``p y / x`` from the output
    (twice as fast as ``pow`` and its backward, equal to float rounding)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, p: float) -> torch.Tensor:  # type: ignore[override]
        y = torch.log(x).mul_(p).exp_()
        ctx.save_for_backward(x, y)
        ctx.p = p
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        x, y = ctx.saved_tensors
        return grad * ctx.p * y / x, None


@functools.lru_cache(maxsize=16)
def _hann_cached(n: int, device: str) -> torch.Tensor:
    return torch.hann_window(n, device=device)


def _hann(n: int, device: torch.device) -> torch.Tensor:
    return _hann_cached(n, str(device))


def mrstft_loss(est: torch.Tensor, ref: torch.Tensor, under_weight: float = 0.0) -> torch.Tensor:
    """Multi-resolution STFT loss: spectral convergence + L1 of ``|X| ** 0.3`` magnitudes.

    Power-compressed rather than ``log``: near-silent bins do not dominate and push
    the mask towards muting speech. ``under_weight`` > 0 adds that much again for
    the bins the estimate falls *below* the reference (speech removed with the
    noise: what STOI penalises); noise-only bins have a tiny reference, so the
    extra term weighs the speech bins.

    The STFT magnitudes and the compression have hand-written backward passes
    (:class:`_StftMagnitude`, :class:`_Compress`): the same loss and gradient as
    ``torch.stft(...).abs()`` and ``pow`` under autograd to float rounding, in half
    the time (docs/speech.md, "Training speed").
    """
    if under_weight < 0:
        raise ConfigError(f"under_weight: must be >= 0, got {under_weight}", param="under_weight")
    total = est.new_zeros(())
    for n_fft, hop in _RESOLUTIONS:
        e = _StftMagnitude.apply(est, n_fft, hop)
        with torch.set_grad_enabled(ref.requires_grad):  # a fixed target needs no graph
            r = _StftMagnitude.apply(ref, n_fft, hop)
            rc = torch.log(r + 1e-8).mul_(0.3).exp_()
            r_norm, rc_mean = torch.linalg.norm(r), rc.mean()
        sc = torch.linalg.norm(r - e) / (r_norm + 1e-7)
        d = _Compress.apply(e + 1e-8, 0.3) - rc
        if under_weight > 0:
            d = d.abs() + under_weight * torch.relu(-d)
        total = total + sc + d.abs().mean() / (rc_mean + 1e-7)
    return total / len(_RESOLUTIONS)


def denoise_loss(est: torch.Tensor, clean: torch.Tensor, under_weight: float = 0.0) -> torch.Tensor:
    """The training loss: ``-SI-SNR / 10`` (capped at 30 dB) + :func:`mrstft_loss`
    (``under_weight``: its extra weight on speech the estimate removed)."""
    return -si_snr(est, clean).clamp(max=30.0).mean() / 10.0 + mrstft_loss(est, clean, under_weight)


def enhance(model: SpectralMaskAE, noisy: torch.Tensor) -> torch.Tensor:
    """Waveforms ``(B, n)`` through STFT -> mask -> inverse STFT: the runtime's algorithm."""
    cfg = model.config
    spec = stft(noisy, cfg)
    mask = mask_gain(model.mask_sequence(compress(spec.abs(), cfg)), cfg)
    return istft(spec * mask, cfg, noisy.shape[-1])


def train_step(model: torch.nn.Module, opt: Any, sched: Any, loss: torch.Tensor) -> float:
    """One optimizer step on ``loss`` (gradients clipped to norm 5), the schedule stepped;
    returns the loss value."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    sched.step()
    return loss.item()


def spectral_spec(cfg: SpectralConfig) -> SpectralSpec:
    """The manifest's description of a model's STFT front-end."""
    return SpectralSpec(
        fft_size=cfg.fft_size,
        context_frames=cfg.context_frames,
        compression=cfg.compression,
        exponent=cfg.exponent,
        noise_floor=cfg.noise_floor,
        mask_floor=cfg.mask_floor,
        state=cfg.latent_channels if cfg.recurrent else 0,
    )


def _model_config(overrides: dict[str, Any], sample_rate: int) -> SpectralConfig:
    """The SpectralConfig of the CLI's options (``window`` sets hop and FFT size too)."""
    extra = {k: v for k, v in overrides.items() if v is not None}
    hidden = extra.pop("hidden", None)
    if hidden is not None:
        widths = tuple(hidden) if isinstance(hidden, (list, tuple)) else (hidden,)
        if len(widths) != 1:
            raise ConfigError(
                f"hidden: the spectral arch has one width (e.g. --hidden 128), got {widths}",
                param="hidden",
            )
        extra["channels"] = int(widths[0])
    window = int(extra.pop("window", 320))
    recurrent = bool(extra.get("recurrent", False))
    context = int(extra.pop("context_frames", 1 if recurrent else 8))
    noise_floor = float(extra.get("noise_floor", 0.02))
    base = {
        "sample_rate": sample_rate,
        "window": window,
        "hop": window // 2,
        "fft_size": window,
        "context_frames": context,
        "noise_floor": noise_floor,
        "item_shape": [window // 2 + 1, context + int(noise_floor > 0) + int(recurrent)],
    }
    if recurrent:
        base["latent_channels"] = RECURRENT_STATE
    return config_from_dict("spectral", {**base, **extra})


def _segments(corpus: Any, segment: int, length: int, epoch: int, *, val: bool) -> tuple:
    """``(noisy, clean)`` tensors ``(length, segment)`` of one epoch's draw."""
    ds = corpus.validation_set(segment, length) if val else corpus.train_set(segment, length)
    ds.set_epoch(epoch)
    noisy, clean = ds.arrays()
    return torch.from_numpy(noisy[:, 0]), torch.from_numpy(clean[:, 0])


def train_denoiser(
    ds: Any,
    overrides: dict[str, Any],
    config: TrainConfig,
    run_dir: str | os.PathLike[str],
    *,
    force: bool = False,
    progress: bool = True,
    data_source: str = "",
    steps_per_epoch: int = STEPS_PER_EPOCH,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
) -> Any:  # TrainResult
    """Train a spectral-mask denoiser on the speech corpus of ``ds`` into ``run_dir``.

    ``ds`` is a speech source's Dataset (``load_source("mix:...")``: its ``corpus``);
    ``config`` gives epochs, batch size, learning rate, weight decay, patience and
    seed; ``overrides`` the model options (``window``, ``context_frames``,
    ``channels``/``hidden``, ``latent``, ``noise_floor``, ``mask_floor``, ``recurrent``).
    """
    if steps_per_epoch < 1:
        raise ConfigError(f"steps_per_epoch: must be >= 1, got {steps_per_epoch}")
    from .trainer import TrainResult, TrainState

    corpus = getattr(ds, "corpus", None)
    if corpus is None:
        raise DataError(
            f"{getattr(ds, 'name', 'data')}: the spectral denoiser trains on speech sources "
            "(builtin:speech, mix:clean=DIR&noise=DIR, a noisy/+clean/ folder)"
        )
    torch.manual_seed(config.seed)
    t_start = time.perf_counter()
    cfg = _model_config(dict(overrides), corpus.sample_rate)
    model = build_model("spectral", cfg)
    assert isinstance(model, (SpectralMaskAE, SpectralGRUMask))
    rate, seg = corpus.sample_rate, round(SEGMENT_SECONDS * corpus.sample_rate)
    val_noisy, val_clean = _segments(corpus, seg, max(16, config.batch_size), 0, val=True)
    with torch.no_grad():
        base = float(si_snr(val_noisy, val_clean).mean())
    rundir = RunDir(run_dir, resume=False, force=force)
    log = Progress(enabled=progress)
    rundir.check()
    out = rundir.open()
    try:
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.1
        )
        state = TrainState(best_weights={k: v.clone() for k, v in model.state_dict().items()})
        params = sum(p.numel() for p in model.parameters())
        log.line(
            f"training spectral {cfg.window}/{cfg.hop} ({params:,} parameters) on "
            f"{data_source or corpus.name}: {len(corpus.train_files())} training files, "
            f"{len(corpus.validation_files())} held out; validation input SI-SNR {base:.2f} dB"
        )
        while state.epoch < config.epochs and not state.stopped:
            t0 = time.perf_counter()
            noisy, clean = _segments(
                corpus, seg, steps_per_epoch * config.batch_size, state.epoch, val=False
            )
            model.train()
            losses = []
            for step in range(steps_per_epoch):
                sl = slice(step * config.batch_size, (step + 1) * config.batch_size)
                loss = denoise_loss(enhance(model, noisy[sl]), clean[sl])
                losses.append(train_step(model, opt, sched, loss))
                log.step(state.epoch + 1, config.epochs, step + 1, steps_per_epoch, losses[-1])
            model.eval()
            with torch.no_grad():
                gain = float(si_snr(enhance(model, val_noisy), val_clean).mean()) - base
            if not math.isfinite(gain):
                raise ConfigError(f"epoch {state.epoch + 1}: validation became {gain}; lower --lr")
            best = state.end_epoch(-gain, model, config.patience)
            stats = {
                "epoch": state.epoch,
                "train_loss": float(np.mean(losses)),
                "val_loss": -gain,
                "val_sisnr_gain_db": gain,
                "lr": opt.param_groups[0]["lr"],
                "seconds": time.perf_counter() - t0,
            }
            state.history.append(stats)
            _checkpoint(out, model, cfg, rate, state, data_source or corpus.name, ds, config)
            rundir.publish()
            out = rundir.path
            log.line(
                f"epoch {state.epoch}/{config.epochs}  train {stats['train_loss']:.4f}  "
                f"val SI-SNR gain {gain:+.2f} dB  {stats['seconds']:.1f}s"
                + ("  (best)" if best else "")
            )
            if on_epoch_end is not None:
                on_epoch_end(stats)
        model.load_state_dict(state.best_weights)
        metrics = {
            "arch": "spectral",
            "data_source": data_source or corpus.name,
            "split": f"{len(corpus.train_files())} training files / "
            f"{len(corpus.validation_files())} held-out files",
            "epochs": state.history,
            "epochs_run": state.epoch,
            "best_epoch": state.best_epoch,
            "best_val_loss": state.best_val,
            "stopped_early": state.stopped,
            "val_input_sisnr_db": base,
            "val_sisnr_gain_db": -state.best_val,
            "parameters": params,
            "train_seconds": time.perf_counter() - t_start,
            "torch_threads": torch.get_num_threads(),
            "loss": "-sisnr/10 + mrstft",
        }
        _checkpoint(out, model, cfg, rate, state, data_source or corpus.name, ds, config)
        write_json_atomic(out / "metrics.json", metrics)
        write_json_atomic(
            out / "config.json",
            {
                "arch": "spectral",
                "model_config": asdict(cfg),
                "train_config": config.to_dict(),
                "layout": "NCW",
                "item_shape": list(cfg.item_shape),
                "latent_shape": list(cfg.latent_shape),
                "data_source": data_source or corpus.name,
                "data_fingerprint": ds.fingerprint,
                "signal": spec_to_dict(_signal(cfg, rate)),
                "spectral": spec_to_dict(spectral_spec(cfg)),
                "versions": versions(),
            },
        )
        note = plot_losses(state.history, out / "loss.png")
        if note:
            log.line(note)
        log.line(
            f"best epoch {state.best_epoch}: validation SI-SNR {base:.2f} -> "
            f"{base - state.best_val:.2f} dB; run in {out}"
        )
    except BaseException:
        rundir.abort()
        raise
    return TrainResult(
        run_dir=out,
        metrics=metrics,
        epochs_run=state.epoch,
        best_epoch=state.best_epoch,
        best_val=state.best_val,
        stopped_early=state.stopped,
    )


def _signal(cfg: SpectralConfig, rate: int) -> SignalSpec:
    return SignalSpec(
        sample_rate=rate, channels=1, window=cfg.window, hop=cfg.hop, synthesis_window="hann"
    )


def _checkpoint(
    out: Any,
    model: SpectralMaskAE,
    cfg: SpectralConfig,
    rate: int,
    state: Any,
    source: str,
    ds: Any,
    config: TrainConfig,
) -> None:
    """The generic checkpoint format, with the best weights and the STFT front-end."""
    record = checkpoint_record(
        "spectral",
        asdict(cfg),
        model.state_dict(),
        specs={
            "preprocessing": Preprocessing(),
            "signal": _signal(cfg, rate),
            "spectral": spectral_spec(cfg),
        },
        source=source,
        fingerprint=ds.fingerprint,
        train_config=config.to_dict(),
        **state.to_checkpoint(),
    )
    save_checkpoint_dict(
        record,
        out / CHECKPOINT_NAME,
    )
