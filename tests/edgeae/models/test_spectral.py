"""Spectral-mask model: the torch front-end is the runtime's numpy one; sequence == item mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeae.errors import ConfigError
from edgeae.models import build_model
from edgeae.models.spectral import SpectralConfig, SpectralMaskAE, compress, istft, stft
from edgeae_runtime.framing import frame_signal
from edgeae_runtime.manifest import SpectralSpec
from edgeae_runtime.spectral import compress as np_compress
from edgeae_runtime.spectral import context_items, stft_frames, track_floor

CFG = SpectralConfig(
    window=64,
    hop=32,
    fft_size=64,
    context_frames=4,
    item_shape=(33, 4),
    channels=16,
    latent_channels=8,
)
SPEC = SpectralSpec(fft_size=64, context_frames=4)


@pytest.mark.parametrize("n", [1, 64, 65, 1000])
def test_torch_stft_is_the_runtime_stft(n: int) -> None:
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    ours = stft(torch.from_numpy(x)[None], CFG)[0].numpy().T
    frames = np.asarray(frame_signal(x[None], CFG.window, CFG.hop))[:, 0]
    theirs = stft_frames(frames, SPEC)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(
        compress(torch.from_numpy(np.abs(theirs)), CFG).numpy(),
        np_compress(np.abs(theirs), SPEC),
        atol=1e-6,
    )


def test_istft_inverts_stft_exactly() -> None:
    x = torch.randn(3, 777)
    np.testing.assert_allclose(istft(stft(x, CFG), CFG, 777).numpy(), x.numpy(), atol=1e-5)


@pytest.mark.parametrize("floor", [0.0, 0.05])
def test_sequence_mode_equals_item_mode(floor: float) -> None:
    import dataclasses

    torch.manual_seed(0)
    cfg = dataclasses.replace(CFG, noise_floor=floor, item_shape=(33, 4 + (floor > 0)))
    model = SpectralMaskAE(cfg).eval()
    x = np.random.default_rng(0).standard_normal(900).astype(np.float32)
    spec = stft(torch.from_numpy(x)[None], CFG)
    feats = compress(spec.abs(), CFG)
    with torch.no_grad():
        seq = model.mask_sequence(feats)[0].numpy().T  # (T, bins)
        hist = np.zeros((CFG.context_frames - 1, CFG.bins), np.float32)
        f = feats[0].numpy().T.copy()
        items = context_items(f, hist)
        if floor:
            floors, _ = track_floor(f, None, floor)
            items = np.concatenate([items, floors[:, :, None]], axis=2)
        item = model(torch.from_numpy(items))[:, :, 0].numpy()
    np.testing.assert_allclose(seq, item, atol=1e-5)
    assert item.min() >= 0 and item.max() <= 1


def test_registry_builds_it_and_config_is_checked() -> None:
    model = build_model("spectral", CFG)
    assert model.config.latent_shape == (8, 1)
    with pytest.raises(ConfigError, match="item_shape"):
        SpectralConfig(item_shape=(10, 8))
    with pytest.raises(ConfigError, match="hop"):
        SpectralConfig(hop=400)


def test_mask_floor_is_the_runtime_gain() -> None:
    from dataclasses import replace

    from edgeae.models.spectral import mask_gain
    from edgeae_runtime.spectral import mask_gain as np_mask_gain

    m = np.random.default_rng(0).random((5, 33)).astype(np.float32)
    for floor in (0.0, 0.1):
        ours = mask_gain(torch.from_numpy(m), replace(CFG, mask_floor=floor)).numpy()
        theirs = np_mask_gain(m, replace(SPEC, mask_floor=floor))
        np.testing.assert_allclose(ours, theirs, atol=1e-7)
        assert ours.min() >= floor
    with pytest.raises(ConfigError, match="mask_floor"):
        replace(CFG, mask_floor=1.0)
