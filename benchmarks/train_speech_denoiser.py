"""Train, export and quantize the pretrained speech denoiser shipped in the runtime package.

One command rebuilds it (about 40 minutes on one thread; ``make speech-model`` runs it)::

    flock /tmp/edgeae-heavy.lock .venv/bin/python benchmarks/train_speech_denoiser.py

Model: ``edgeae.models.spectral`` (STFT 320/160 at 16 kHz = 20 ms latency,
|X|^0.3 of 8 frames -> sigmoid mask). Data: ``benchmarks/speech_data.py``
(redistributable speech and noise only, fresh seeded mixtures every epoch with
noise augmentation: rumble, random EQ, noise pairs; validation by file). Loss:
-SI-SNR of the waveform + multi-resolution STFT magnitude loss. Export:
``edgeae_export.export_autoencoder`` (parity gate) then ``quantize_model``
(static int8 QDQ, calibration on validation mixtures, speed gate), written to
``runtime/edgeae_runtime/pretrained/speech-denoiser.onnx``.

``--arch conv1d`` trains the other candidate instead (the time-domain conv1d
autoencoder on 256-sample windows, same data and waveform loss) for the
comparison in docs/speech.md; it is not shipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from speech_data import RATE, MixLaw, SpeechCorpus  # noqa: E402

from edgeae.data.mixing import MixOptions  # noqa: E402
from edgeae.models import asdict as config_asdict  # noqa: E402
from edgeae.models import build_model, config_from_dict  # noqa: E402
from edgeae.models.spectral import SpectralConfig, SpectralMaskAE  # noqa: E402
from edgeae.train.denoiser import (  # noqa: E402
    RECURRENT_STATE,
    denoise_loss,
    enhance,
    si_snr,
    spectral_spec,
    train_step,
)
from edgeae_export.sampling import sample_items  # noqa: E402

PRETRAINED = HERE.parent / "runtime" / "edgeae_runtime" / "pretrained"


class TimeDomain(torch.nn.Module):
    """The other candidate: edgeae's conv1d autoencoder on 256-sample windows (tones recipe
    shape: channels 64, 64, latent 8), hop 128, Hann overlap-add as in the runtime."""

    window, hop = 256, 128

    def __init__(self) -> None:
        super().__init__()
        from edgeae.models import Conv1dAE, Conv1dConfig

        self.ae = Conv1dAE(
            Conv1dConfig(item_shape=(1, 256), channels=(64, 64), latent_channels=8, kernel=5)
        )
        self.config = self.ae.config

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        b, n = noisy.shape
        w, hop = self.window, self.hop
        k = 1 if n <= w else -(-(n - w) // hop) + 1
        total = (k - 1) * hop + w
        frames = torch.nn.functional.pad(noisy, (0, total - n)).unfold(-1, w, hop)
        y = self.ae(frames.reshape(b * k, 1, w)).reshape(b, k, w)
        i = torch.arange(w, dtype=torch.float64)
        win = (0.5 - 0.5 * torch.cos(2 * torch.pi * (i + 0.5) / w)).float()
        fold = torch.nn.Fold(output_size=(1, total), kernel_size=(1, w), stride=(1, hop))
        acc = fold((y * win).transpose(1, 2)).reshape(b, total)
        wsum = fold(win.expand(1, k, -1).transpose(1, 2)).reshape(1, total)
        return (acc / wsum)[:, :n]


def hybrid_loss(est: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """GTCRN-style: MSE of power-compressed complex spectra (``X |X|**-0.7``, weight 30)
    and of compressed magnitudes (weight 70) at FFT 512/256, plus -SI-SNR/100."""
    win = torch.hann_window(512, device=est.device)
    e = torch.stft(est, 512, 256, window=win, return_complex=True)
    r = torch.stft(clean, 512, 256, window=win, return_complex=True)
    ec = e / (e.abs() + 1e-8).pow(0.7)
    rc = r / (r.abs() + 1e-8).pow(0.7)
    mse = torch.nn.functional.mse_loss
    cplx = mse(ec.real, rc.real) + mse(ec.imag, rc.imag)
    mag = mse((e.abs() + 1e-8).pow(0.3), (r.abs() + 1e-8).pow(0.3))
    return 30 * cplx + 70 * mag - si_snr(est, clean).clamp(max=30.0).mean() / 100.0


LOSSES = {"sisnr-mrstft": denoise_loss, "hybrid": hybrid_loss}


def spectral_config(args: argparse.Namespace) -> SpectralConfig:
    """The model of the command line (``--context``/``--latent`` unset: the design's own)."""
    context = args.context or (1 if args.recurrent else 8)
    latent = args.latent or (RECURRENT_STATE if args.recurrent else 48)
    return SpectralConfig(
        window=args.window,
        hop=args.window // 2,
        fft_size=args.window,
        context_frames=context,
        item_shape=(
            args.window // 2 + 1,
            context + int(args.noise_floor > 0) + int(args.recurrent),
        ),
        channels=args.channels,
        latent_channels=latent,
        noise_floor=args.noise_floor,
        mask_floor=args.mask_floor,
        tree=tuple(args.tree),
        recurrent=args.recurrent,
    )


def build(args: argparse.Namespace) -> torch.nn.Module:
    """The untrained model of ``--arch`` (``--recurrent``: the GRU mask model)."""
    if args.arch == "spectral":
        return build_model("spectral", spectral_config(args))
    return TimeDomain()


def train(
    args: argparse.Namespace, make: Callable[[argparse.Namespace], torch.nn.Module] | None = None
) -> tuple[SpectralMaskAE, dict]:
    """Train the model ``make(args)`` builds after seeding (default :func:`build`; any module
    with the spectral model's ``config`` and ``mask_sequence``) on the shipped recipe's data,
    loss and schedule."""
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    law = MixLaw(
        snr_db=tuple(args.snr),
        speed=tuple(args.speed),
        recorded=args.recorded,
        rumble=args.rumble,
        noise_eq=args.noise_eq,
        noise_pair=args.noise_pair,
    )
    corpus = SpeechCorpus.load(law=law)
    model = (make or build)(args)
    cfg = model.config if args.arch == "spectral" else spectral_config(args)
    run = (lambda x: enhance(model, x)) if args.arch == "spectral" else model
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.arch} {cfg.window}/{cfg.hop} K={cfg.context_frames}: {params} params", flush=True)
    n = int(args.seconds * RATE)
    vn, vc = corpus.mixtures(64, n, seed=10_000, val=True)
    vn_t, vc_t = torch.from_numpy(vn), torch.from_numpy(vc)
    with torch.no_grad():
        base = si_snr(vn_t, vc_t).mean().item()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    total_steps = args.epochs * args.steps
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=total_steps, pct_start=0.1
    )
    best, best_state, history = -1e9, None, []
    for epoch in range(args.epochs):
        noisy, clean = corpus.mixtures(args.steps * args.batch, n, seed=args.seed * 1000 + epoch)
        model.train()
        losses = []
        for s in range(args.steps):
            sl = slice(s * args.batch, (s + 1) * args.batch)
            est = run(torch.from_numpy(noisy[sl]))
            ref = torch.from_numpy(clean[sl])
            loss = (
                denoise_loss(est, ref, args.under_weight)
                if args.loss == "sisnr-mrstft"
                else LOSSES[args.loss](est, ref)
            )
            losses.append(train_step(model, opt, sched, loss))
        model.eval()
        with torch.no_grad():
            val = si_snr(run(vn_t), vc_t).mean().item() - base
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "val_sisnr_gain": val})
        print(
            f"epoch {epoch:3d} loss {np.mean(losses):.4f} val SI-SNR gain {val:+.2f} dB "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        if val > best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    val_quality = _val_quality(run, corpus)
    print(f"best epoch on validation: {val_quality}", flush=True)
    info = {
        "params": params,
        "train_seconds": round(time.perf_counter() - t0, 1),
        "val_sisnr_gain_db": round(best, 3),
        "val_input_sisnr_db": round(base, 3),
        "val_quality": val_quality,
        "history": history,
        "train_files": corpus.train_files,
        "noise_files": corpus.noise_files,
        "mix_law": {k: getattr(law, k) for k in law.__dataclass_fields__},
        "arch": args.arch,
        "config": {
            k: getattr(cfg, k)
            for k in (
                "window",
                "hop",
                "fft_size",
                "context_frames",
                "channels",
                "latent_channels",
                "exponent",
                "noise_floor",
                "mask_floor",
                "tree",
                "recurrent",
            )
        },
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "model_config": config_asdict(model.config),
    }
    return model, info


def _val_quality(run: Any, corpus: SpeechCorpus) -> dict[str, float]:
    """Mean SI-SNR/PESQ-wb/STOI gains over 16 validation mixtures of 3 s (edgeae.metrics)."""
    from edgeae.metrics import speech_scores

    noisy, clean = corpus.mixtures(16, 3 * RATE, seed=10_001, val=True)
    with torch.no_grad():
        est = run(torch.from_numpy(noisy)).numpy()
    gains: dict[str, list[float]] = {"sisnr": [], "pesq": [], "stoi": []}
    for x, y, c in zip(noisy, est, clean, strict=True):
        a = speech_scores(c, x, RATE, tuple(gains))
        b = speech_scores(c, y, RATE, tuple(gains))
        for k in gains:
            gains[k].append(b[k] - a[k])
    return {f"{k}_gain": round(float(np.nanmean(v)), 4) for k, v in gains.items()}


def val_items(model: torch.nn.Module, count: int, seed: int) -> np.ndarray:
    """Model items ``(N, bins, columns)`` from validation mixtures (parity + calibration data),
    made by the runtime's own front-end (a recurrent model's with its own states)."""
    from edgeae_runtime.manifest import SignalSpec
    from edgeae_runtime.spectral import signal_items

    cfg = model.config
    signal = SignalSpec(sample_rate=RATE, channels=1, window=cfg.window, hop=cfg.hop)
    noisy, _ = SpeechCorpus.load().mixtures(8, 3 * RATE, seed=seed, val=True)
    streams = [signal_items(x, signal, spectral_spec(cfg))[1] for x in noisy]
    if cfg.recurrent:
        streams = [model.with_states(torch.from_numpy(s)).numpy() for s in streams]
    return sample_items(np.concatenate(streams), count, seed)


def time_windows(count: int, seed: int) -> np.ndarray:
    """Raw 256-sample windows ``(N, 1, 256)`` of validation mixtures (time-domain candidate)."""
    from edgeae_runtime.framing import frame_signal

    noisy, _ = SpeechCorpus.load().mixtures(8, 3 * RATE, seed=seed, val=True)
    allx = np.concatenate([np.asarray(frame_signal(x[None], 256, 128)) for x in noisy])
    return sample_items(allx, count, seed)


def _export_info(model: torch.nn.Module, info: dict) -> tuple[Any, np.ndarray, np.ndarray]:
    """The exporter's description of the model, parity items and calibration items."""
    from edgeae_export import ExportInfo
    from edgeae_runtime.manifest import SignalSpec

    cfg = model.config
    if isinstance(model, TimeDomain):
        einfo = ExportInfo(
            arch="conv1d",
            layout="NCW",
            item_shape=(1, 256),
            latent_shape=cfg.latent_shape,
            arch_config=info["model_config"],
            signal=SignalSpec(sample_rate=RATE, channels=1, window=256, hop=128),
            source="speech_data.py mixtures (time-domain candidate)",
        )
        return einfo, time_windows(512, 20_000), time_windows(2048, 30_000)
    einfo = ExportInfo(
        arch="spectral",
        layout="NCW",
        item_shape=tuple(cfg.item_shape),
        latent_shape=cfg.latent_shape,
        arch_config=info["config"],
        signal=SignalSpec(
            sample_rate=RATE, channels=1, window=cfg.window, hop=cfg.hop, synthesis_window="hann"
        ),
        spectral=spectral_spec(cfg),
        output_shape=cfg.output_shape,
        source="LJSpeech + VoiceBank-DEMAND p287 (4 pairs) speech; Speech Commands background, "
        "DEMAND (those pairs) + synthetic noise (benchmarks/speech_data.py)",
    )
    return einfo, val_items(model, 512, seed=20_000), val_items(model, 2048, seed=30_000)


def export(model: torch.nn.Module, out: Path, info: dict) -> dict:
    """Float export with the parity gate, static int8 QDQ, both into ``out``."""
    from edgeae_export import QuantizeRequest, export_autoencoder, quantize_model

    einfo, x, calib = _export_info(model, info)
    if isinstance(model, TimeDomain):
        model = model.ae
    out.mkdir(parents=True, exist_ok=True)
    res = export_autoencoder(model, out_dir=out, example_inputs=x, info=einfo, force=True)
    q = quantize_model(
        QuantizeRequest(
            out / "model.onnx",
            out / "model.int8.onnx",
            calibration=calib,
            calibration_name="validation mixtures (LJSpeech val files)",
            calibration_size=2048,
            reduce_range=True,  # 7-bit weights: exact on x86 with or without VNNI
            force=True,
        )
    )
    for w in q.warnings:
        print("quantize:", w, flush=True)
    return {
        "float_bytes": q.float_bytes,
        "int8_bytes": q.quantized_bytes,
        "parity_max_abs_error": max(f.parity.max_abs_error for f in res.files),
        "speedup": (q.speed.speedup(q.speed.batches[-1]) if q.speed else None),
    }


def parser() -> argparse.ArgumentParser:
    """The command line (also what benchmarks/bench_recurrent.py trains with)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", choices=("spectral", "conv1d"), default="spectral")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--steps", type=int, default=40, help="optimizer steps per epoch")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=1.5, help="segment length")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--window", type=int, default=320)
    ap.add_argument(
        "--context", type=int, default=None, help="context frames [1 recurrent, else 8]"
    )
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument(
        "--latent", type=int, default=None, help="latent channels = GRU state [80; conv: 48]"
    )
    ap.add_argument(
        "--noise-floor", type=float, default=0.02, help="noise-floor tracker rate (0: off)"
    )
    ap.add_argument(
        "--mask-floor", type=float, default=0.0, help="lowest gain per bin (0: the bare mask)"
    )
    ap.add_argument(
        "--tree",
        type=int,
        nargs="*",
        default=[],
        help="temporal tree: kernel=stride per level, product = context + floor column "
        "(none: one depthwise layer)",
    )
    ap.add_argument(
        "--recurrent",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a GRU of --latent units carries the past (the shipped design); --no-recurrent: "
        "the 8-frame conv mask shipped before it",
    )
    ap.add_argument("--loss", choices=sorted(LOSSES), default="sisnr-mrstft")
    ap.add_argument(
        "--under-weight",
        type=float,
        default=0.0,
        help="sisnr-mrstft: extra weight of the STFT loss on removed speech (estimate below "
        "the clean magnitude; 0: symmetric)",
    )
    ap.add_argument("--snr", type=float, nargs=2, default=(-5.0, 20.0), metavar=("LO", "HI"))
    ap.add_argument(
        "--speed",
        type=float,
        nargs=2,
        default=(0.88, 1.15),
        metavar=("LO", "HI"),
        help="speed/pitch perturbation range of the training speech",
    )
    ap.add_argument(
        "--recorded", type=float, default=0.35, help="share of recorded noise (else synthetic)"
    )
    ap.add_argument(
        "--rumble",
        type=float,
        default=MixOptions().rumble,
        help="share of synthetic noise that is rumble",
    )
    ap.add_argument(
        "--noise-eq", type=float, default=0.5, help="share of noises put through a random EQ"
    )
    ap.add_argument(
        "--noise-pair", type=float, default=0.3, help="share of mixtures with a second noise"
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "-o",
        "--out",
        type=Path,
        default=None,
        help="export directory (default: a temporary one; the int8 model is "
        "copied into the runtime package unless --no-install)",
    )
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument(
        "--from-checkpoint", type=Path, default=None, help="skip training: export this checkpoint"
    )
    return ap


def main() -> None:
    args = parser().parse_args()
    if args.from_checkpoint:
        blob = torch.load(args.from_checkpoint, weights_only=True)  # tensors and plain values only
        info = blob["info"]
        if info.get("arch") == "spectral":  # the checkpoint's own model, whatever the flags
            model = build_model("spectral", config_from_dict("spectral", info["model_config"]))
        else:
            model = build(args)
        model.load_state_dict(blob["state_dict"])
        model.eval()
    else:
        model, info = train(args)
        ckpt = (args.out or PRETRAINED.parent.parent.parent / "build") / "speech-checkpoint.pt"
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": model.state_dict(), "info": info}, ckpt)
        print(f"saved {ckpt}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        info["export"] = export(model, out, info)
        print(json.dumps({k: v for k, v in info.items() if k != "history"}, indent=1))
        if not args.no_install and args.arch == "spectral":
            PRETRAINED.mkdir(exist_ok=True)
            (PRETRAINED / "speech-denoiser.onnx").write_bytes(
                (out / "model.int8.onnx").read_bytes()
            )
            (PRETRAINED / "speech-denoiser.json").write_text(json.dumps(info, indent=1) + "\n")
            print(f"installed {PRETRAINED / 'speech-denoiser.onnx'}")


if __name__ == "__main__":
    main()
