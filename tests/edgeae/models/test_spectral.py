"""Spectral-mask model: the torch front-end is the runtime's numpy one; sequence == item mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    ("tree", "context", "floor"),
    [((2, 2), 3, 0.05), ((2, 2, 2), 8, 0.0), ((4, 2), 7, 0.05), ((3, 2), 5, 0.1)],
)
def test_tree_sequence_mode_equals_item_mode(
    tree: tuple[int, ...], context: int, floor: float
) -> None:
    """The temporal tree's dilated sequence form is the item-mode graph frame by frame."""
    import dataclasses

    torch.manual_seed(1)
    cols = context + (floor > 0)
    cfg = dataclasses.replace(
        CFG, context_frames=context, noise_floor=floor, item_shape=(33, cols), tree=tree
    )
    model = SpectralMaskAE(cfg).eval()
    for p in model.parameters():  # non-trivial weights everywhere, biases included
        p.data.normal_(0.0, 0.3)
    x = np.random.default_rng(2).standard_normal(700).astype(np.float32)
    feats = compress(stft(torch.from_numpy(x)[None], cfg).abs(), cfg)
    with torch.no_grad():
        seq = model.mask_sequence(feats)[0].numpy().T
        f = feats[0].numpy().T.copy()
        items = context_items(f, np.zeros((context - 1, cfg.bins), np.float32))
        if floor:
            floors, _ = track_floor(f, None, floor)
            items = np.concatenate([items, floors[:, :, None]], axis=2)
        item = model(torch.from_numpy(items))[:, :, 0].numpy()
    np.testing.assert_allclose(seq, item, atol=1e-5)
    assert np.ptp(item) > 0.01  # the masks vary: the comparison is not between constants


def test_tree_config_is_checked_and_costs_are_counted() -> None:
    import dataclasses

    with pytest.raises(ConfigError, match="tree"):
        dataclasses.replace(CFG, tree=(2, 3))  # 6 != 4 columns
    with pytest.raises(ConfigError, match="tree"):
        dataclasses.replace(CFG, tree=(4, 1))
    flat = SpectralMaskAE(CFG)
    tree = SpectralMaskAE(dataclasses.replace(CFG, tree=(2, 2)))
    f, c, lat = CFG.bins, CFG.channels, CFG.latent_channels
    decoder = lat * c + c * c + c * f
    assert flat.macs_per_frame() == f * c * 4 + c * 4 + c * c + c * lat + decoder
    assert tree.macs_per_frame() == f * c * 4 + (4 + 2) * c + (2 + 1) * c * c + c * lat + decoder


def test_exported_tree_model_streams_like_the_torch_training_path(tmp_path) -> None:
    """A tree model through edgeae_export and the runtime's stream gives the waveform the
    trainer optimised (stft -> mask_sequence -> istft in torch): same items, same floor."""
    import dataclasses

    from edgeae_export import ExportInfo, export_autoencoder
    from edgeae_runtime import Model
    from edgeae_runtime.manifest import SignalSpec
    from edgeae_runtime.spectral import SpectralDenoiser

    torch.manual_seed(3)
    cfg = dataclasses.replace(
        CFG, context_frames=7, noise_floor=0.05, item_shape=(33, 8), tree=(2, 4)
    )
    model = SpectralMaskAE(cfg).eval()
    for p in model.parameters():
        p.data.normal_(0.0, 0.3)
    info = ExportInfo(
        arch="spectral",
        layout="NCW",
        item_shape=cfg.item_shape,
        latent_shape=cfg.latent_shape,
        signal=SignalSpec(
            sample_rate=16000, channels=1, window=64, hop=32, synthesis_window="hann"
        ),
        spectral=SpectralSpec(fft_size=64, context_frames=7, noise_floor=0.05),
        output_shape=cfg.output_shape,
    )
    x = (0.3 * np.random.default_rng(4).standard_normal(1500)).astype(np.float32)
    with torch.no_grad():
        xs = torch.from_numpy(x)[None]
        s = stft(xs, cfg)
        want = istft(s * model.mask_sequence(compress(s.abs(), cfg)), cfg, len(x))[0].numpy()
    items = torch.rand(64, 33, 8).numpy()  # parity-gate items
    export_autoencoder(model, out_dir=tmp_path, example_inputs=items, info=info)
    den = SpectralDenoiser(Model(tmp_path / "model.onnx"))
    got = np.concatenate([den.push(x[:700]), den.push(x[700:]), den.flush()], axis=1)[0]
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert np.abs(got - x).max() > 1e-2  # the mask did something


_SHAPES = [((), 4, 0.0), ((), 4, 0.05), ((2, 2), 3, 0.05), ((2, 2, 2), 8, 0.0), ((4, 2), 7, 0.05)]


@settings(max_examples=25, deadline=None)
@given(
    shape=st.sampled_from(_SHAPES),
    n=st.integers(1, 40),
    seed=st.integers(0, 2**16),
)
def test_the_exported_fold_is_the_model(
    shape: tuple[tuple[int, ...], int, float], n: int, seed: int
) -> None:
    """``for_export()`` (the batch folded into the length axis after the temporal layers)
    gives every item's latent and mask as the model does, at every batch size."""
    import dataclasses

    tree, context, floor = shape
    cfg = dataclasses.replace(
        CFG,
        context_frames=context,
        noise_floor=floor,
        item_shape=(33, context + (floor > 0)),
        tree=tree,
    )
    torch.manual_seed(seed)
    model = SpectralMaskAE(cfg).eval()
    for p in model.parameters():
        p.data.normal_(0.0, 0.3)
    folded = model.for_export().eval()
    x = torch.rand(n, *cfg.item_shape)
    with torch.no_grad():
        z = model.encode(x)
        torch.testing.assert_close(folded.encode(x), z, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(folded.decode(z), model.decode(z), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(folded(x), model(x), atol=1e-5, rtol=1e-5)
    # every item's mask is its own: shuffling the batch shuffles the masks
    perm = torch.randperm(n)
    with torch.no_grad():
        torch.testing.assert_close(folded(x[perm]), folded(x)[perm], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("context", "floor"), [(1, 0.02), (3, 0.0)])
def test_recurrent_sequence_mode_equals_the_cell_fed_its_own_state(
    context: int, floor: float
) -> None:
    """The GRU over a sequence == the exported cell frame by frame, each item carrying the
    previous latent in its last column (the runtime's law), and with_states builds those items."""
    from edgeae.models.spectral import track_floor as torch_floor
    from edgeae.models.spectral_gru import SpectralGRUMask

    torch.manual_seed(0)
    cols = context + (floor > 0) + 1
    cfg = SpectralConfig(item_shape=(33, cols), window=64, hop=32, fft_size=64, channels=16,
                         latent_channels=6, context_frames=context, noise_floor=floor,
                         recurrent=True)  # fmt: skip
    model = build_model("spectral", cfg).eval()
    assert isinstance(model, SpectralGRUMask)
    feats = torch.rand(33, 40)
    pad = torch.nn.functional.pad(feats, (context - 1, 0))
    columns = [pad[:, j : j + 40] for j in range(context)]
    if floor:
        columns.append(torch_floor(feats[None], floor)[0])
    items = torch.stack([*columns, torch.zeros(33, 40)], -1).permute(1, 0, 2)
    with torch.no_grad():
        want = model.mask_sequence(feats[None])[0].T
        state, got = torch.zeros(6), []
        for t in range(40):
            x = items[t : t + 1].clone()
            x[0, :6, -1] = state
            z = model.encode(x)
            got.append(model.decode(z)[0, :, 0])
            state = z[0, :, 0]
        fed = model.with_states(items)
    np.testing.assert_allclose(torch.stack(got).numpy(), want.numpy(), atol=1e-5)
    np.testing.assert_allclose(model(fed)[:, :, 0].detach().numpy(), want.numpy(), atol=1e-5)


def test_recurrent_config_is_checked() -> None:
    with pytest.raises(ConfigError, match="recurrent"):
        SpectralConfig(item_shape=(33, 3), window=64, hop=32, fft_size=64, context_frames=1,
                       noise_floor=0.02, latent_channels=40, recurrent=True)  # fmt: skip
    with pytest.raises(ConfigError, match="item_shape"):
        SpectralConfig(item_shape=(33, 2), window=64, hop=32, fft_size=64, context_frames=1,
                       noise_floor=0.02, latent_channels=8, recurrent=True)  # fmt: skip
