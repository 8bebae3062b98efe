"""The spectral-mask denoiser trains from a speech source through the package, exports,
quantizes and compares like any run, and the runtime runs exactly what torch trained."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from edgeae.cli import main
from edgeae.data import load_source
from edgeae.errors import ConfigError, DataError
from edgeae.train import TrainConfig, load_checkpoint, recipe_arch, train
from edgeae.train.denoiser import denoise_loss, enhance, mrstft_loss, si_snr, train_denoiser

SMALL = {"hidden": 16, "latent": 8}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two epochs of two steps of 4 fresh 1.5 s mixtures of builtin:speech."""
    out = tmp_path_factory.mktemp("speech") / "run"
    ds = load_source("builtin:speech")
    config = TrainConfig(epochs=2, batch_size=4, lr=3e-3, patience=0)
    train_denoiser(ds, SMALL, config, out, progress=False, data_source="builtin:speech",
                   steps_per_epoch=2)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def recurrent_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same schedule, a GRU state of 8 instead of context frames."""
    out = tmp_path_factory.mktemp("speech") / "gru"
    ds = load_source("builtin:speech")
    config = TrainConfig(epochs=2, batch_size=4, lr=3e-3, patience=0)
    train_denoiser(ds, {**SMALL, "recurrent": True}, config, out, progress=False,
                   data_source="builtin:speech", steps_per_epoch=2)  # fmt: skip
    return out


def test_speech_sources_train_the_spectral_arch_by_default() -> None:
    assert recipe_arch("builtin:speech") == "spectral"
    assert recipe_arch("mix:clean=a/&noise=b/") == "spectral"
    assert recipe_arch("builtin:digits") != "spectral"


@pytest.mark.slow
def test_the_run_directory_is_a_normal_run(run: Path) -> None:
    assert {p.name for p in run.iterdir()} >= {"checkpoint.pt", "config.json", "metrics.json"}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["arch"] == "spectral" and len(metrics["epochs"]) == 2
    assert np.isfinite(metrics["val_sisnr_gain_db"])
    ckpt = load_checkpoint(run)
    assert ckpt.spectral is not None and ckpt.signal is not None
    assert (ckpt.signal.window, ckpt.signal.hop, ckpt.spectral.fft_size) == (320, 160, 320)
    assert ckpt.model.config.channels == 16 and tuple(ckpt.item_shape) == (161, 9)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["run", "recurrent_run"])
def test_export_quantize_and_the_runtime_runs_what_torch_trained(
    which: str, request: pytest.FixtureRequest, tmp_path: Path, runner: CliRunner
) -> None:
    from edgeae_runtime import Model
    from edgeae_runtime.spectral import SpectralDenoiser, denoise_spectral_offline

    run = request.getfixturevalue(which)

    out = tmp_path / "models"
    res = runner.invoke(main, ["export", str(run), "-o", str(out), "--samples", "64"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["quantize", "-m", str(out / "model.onnx"), "-o",
                               str(out / "model.int8.onnx"), "--calibration", "builtin:speech",
                               "--allow-slower"])  # fmt: skip
    assert res.exit_code == 0, res.output
    model = Model(out / "model.onnx")
    assert model.manifest.spectral is not None
    assert model.manifest.quantization.mode == "float32"
    assert Model(out / "model.int8.onnx").manifest.quantization.mode == "static"
    noisy = load_source("builtin:speech").corpus.validation_pairs()[0].noisy[:8000]
    with torch.no_grad():
        want = enhance(load_checkpoint(run).model, torch.from_numpy(noisy[None]))[0].numpy()
    got = denoise_spectral_offline(model, noisy)[0]
    np.testing.assert_allclose(got, want, atol=2e-4)
    int8 = Model(out / "model.int8.onnx")
    den = SpectralDenoiser(int8)
    streamed = np.concatenate([den.push(noisy[i : i + 333]) for i in range(0, 8000, 333)]
                              + [den.flush()], axis=1)  # fmt: skip
    np.testing.assert_array_equal(streamed, denoise_spectral_offline(int8, noisy))
    assert si_snr(torch.from_numpy(streamed), torch.from_numpy(got[None])).item() > 10.0


def test_a_recurrent_run_carries_its_state_in_the_manifest(recurrent_run: Path) -> None:
    ckpt = load_checkpoint(recurrent_run)
    assert ckpt.model.config.recurrent and ckpt.spectral.state == 8
    assert tuple(ckpt.item_shape) == (161, 3) and tuple(ckpt.latent_shape) == (8, 1)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["run", "recurrent_run"])
def test_compare_reports_speech_metrics_for_a_spectral_model(
    which: str, request: pytest.FixtureRequest, tmp_path: Path, runner: CliRunner
) -> None:
    run = request.getfixturevalue(which)
    out = tmp_path / "models"
    assert runner.invoke(main, ["export", str(run), "-o", str(out)]).exit_code == 0
    a = str(out / "model.onnx")
    res = runner.invoke(main, ["compare", a, a, "--data", "builtin:speech", "--json",
                               "--no-memory", "--batch", "1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    speech = json.loads(res.stdout)["speech"]
    assert {"noisy input", "A", "B"} <= set(speech["rows"])
    assert speech["rows"]["A"]["sisnr"] == pytest.approx(speech["rows"]["B"]["sisnr"])


def test_recurrent_is_refused_for_item_models(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["train", "builtin:digits", "--recurrent", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "--recurrent" in res.output and "Traceback" not in res.output


def test_bad_requests_are_refused_by_name(tmp_path: Path) -> None:
    digits = load_source("builtin:digits")
    with pytest.raises(DataError, match="speech sources"):
        train_denoiser(digits, {}, TrainConfig(epochs=1), tmp_path / "r", progress=False)
    speech = load_source("builtin:speech")
    with pytest.raises(ConfigError, match="hidden"):
        train_denoiser(speech, {"hidden": (16, 16)}, TrainConfig(epochs=1), tmp_path / "r",
                       progress=False)  # fmt: skip
    with pytest.raises(ConfigError, match="--resume"):
        train(speech, "spectral", {}, TrainConfig(epochs=1), tmp_path / "r", resume=True)
    assert not (tmp_path / "r").exists()


def test_si_snr_is_scale_invariant_and_rises_with_less_noise() -> None:
    rng = np.random.default_rng(0)
    clean = torch.from_numpy(rng.normal(size=(1, 4000)).astype(np.float32))
    noise = torch.from_numpy(rng.normal(size=(1, 4000)).astype(np.float32))
    a, b = si_snr(clean + 0.5 * noise, clean), si_snr(clean + 0.1 * noise, clean)
    assert float(b) > float(a) + 10
    assert float(si_snr(3.0 * (clean + 0.5 * noise), clean)) == pytest.approx(float(a), abs=1e-4)


def test_under_weight_charges_removed_speech_more_than_passed_noise() -> None:
    """With ``under_weight`` an estimate missing part of the speech costs more than one
    carrying the same magnitude of extra noise; without it the two are about even."""
    rng = np.random.default_rng(1)
    t = np.arange(8000) / 16000
    clean = torch.from_numpy((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))[None]
    noise = torch.from_numpy(0.05 * rng.normal(size=(1, 8000)).astype(np.float32))
    thinned, noisy = 0.8 * clean, clean + noise
    flat = [float(mrstft_loss(e, clean)) for e in (thinned, noisy)]
    bent = [float(mrstft_loss(e, clean, under_weight=1.0)) for e in (thinned, noisy)]
    assert bent[0] - flat[0] > 2 * (bent[1] - flat[1]) > 0
    assert float(mrstft_loss(clean, clean, under_weight=1.0)) < 1e-3
    assert float(denoise_loss(noisy, clean, 1.0)) > float(denoise_loss(noisy, clean))
    with pytest.raises(ConfigError, match="under_weight"):
        mrstft_loss(clean, clean, under_weight=-1.0)


def test_the_cli_sets_the_stft_frame_from_window(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["train", "builtin:speech", "-o", str(tmp_path / "r"),
                               "--window", "256", "--hop", "100", "-q"])  # fmt: skip
    assert res.exit_code == 2 and "--hop" in res.output and "128" in res.output
    assert not (tmp_path / "r").exists()


def test_search_is_refused_for_the_spectral_denoiser(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["train", "builtin:speech", "-o", str(tmp_path / "r"), "--search"])
    assert res.exit_code == 2 and "--search" in res.output and "spectral" in res.output
    assert not (tmp_path / "r").exists()


def _mrstft_autograd(est: torch.Tensor, ref: torch.Tensor, under_weight: float) -> torch.Tensor:
    """The multi-resolution STFT loss written plainly, autograd doing every backward."""
    from edgeae.train.denoiser import _RESOLUTIONS

    total = est.new_zeros(())
    for n_fft, hop in _RESOLUTIONS:
        win = torch.hann_window(n_fft)
        e = torch.stft(est, n_fft, hop, window=win, return_complex=True).abs()
        r = torch.stft(ref, n_fft, hop, window=win, return_complex=True).abs()
        sc = torch.linalg.norm(r - e) / (torch.linalg.norm(r) + 1e-7)
        ec, rc = (e + 1e-8).pow(0.3), (r + 1e-8).pow(0.3)
        d = ec - rc
        if under_weight > 0:
            d = d.abs() + under_weight * torch.relu(-d)
        total = total + sc + d.abs().mean() / (rc.mean() + 1e-7)
    return total / len(_RESOLUTIONS)


@pytest.mark.parametrize("under_weight", [0.0, 1.0])
@pytest.mark.parametrize("length", [24000, 4001])
def test_mrstft_hand_written_backward_equals_autograd(under_weight: float, length: int) -> None:
    """The loss's STFT-magnitude and compression backward passes (written by hand for
    speed) give autograd's loss and gradient, silent stretches (|S| = 0) included."""
    rng = np.random.default_rng(3)
    ref = torch.from_numpy(0.05 * rng.normal(size=(3, length)).astype(np.float32))
    est = ref + torch.from_numpy(0.03 * rng.normal(size=(3, length)).astype(np.float32))
    est[1, 500:2500] = 0.0
    a, b = est.clone().requires_grad_(), est.clone().requires_grad_()
    want, got = _mrstft_autograd(a, ref, under_weight), mrstft_loss(b, ref, under_weight)
    want.backward()
    got.backward()
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
    assert a.grad is not None and b.grad is not None
    assert float((a.grad - b.grad).norm() / a.grad.norm()) < 1e-5


@pytest.mark.parametrize(("n", "hop"), [(512, 128), (320, 160), (300, 128)])
def test_overlap_add_equals_fold(n: int, hop: int) -> None:
    from edgeae.train.denoiser import _overlap_add

    frames = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 7, n)).astype(np.float32))
    total = 6 * hop + n
    fold = torch.nn.functional.fold(
        frames.transpose(1, 2), output_size=(1, total), kernel_size=(1, n), stride=(1, hop)
    ).reshape(2, total)
    assert torch.allclose(_overlap_add(frames, hop), fold, atol=1e-6)
