"""StreamDenoiser laws (hypothesis): chunking-invariant, equal to offline, exact length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeae_runtime import InputError, Model, ModelError, SignalSpec, StreamDenoiser
from edgeae_runtime.framing import OverlapAdd, synthesis_window
from edgeae_runtime.stream import denoise_offline
from tests.runtime.onnx_models import make_autoencoder

LAWS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _signal(channels: int, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((channels, n)).astype(np.float32)


def _cuts(n: int, sizes: list[int]) -> list[int]:
    """Cut points that split n samples into chunks of the given sizes (cycled)."""
    cuts, i, k = [], 0, 0
    while i < n:
        i = min(n, i + sizes[k % len(sizes)])
        cuts.append(i)
        k += 1
    return cuts


def _stream(model: Model, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    den = StreamDenoiser(model)
    parts, start = [], 0
    for end in _cuts(x.shape[1], sizes):
        parts.append(den.push(x[:, start:end]))
        start = end
    parts.append(den.flush())
    return np.concatenate(parts, axis=1)


chunk_sizes = st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=8).filter(
    lambda s: any(s)
)


@LAWS
@given(n=st.integers(1, 600), sizes=chunk_sizes, seed=st.integers(0, 2**16))
def test_stream_equals_offline_whatever_the_chunking(
    conv: Model, n: int, sizes: list[int], seed: int
) -> None:
    x = _signal(1, n, seed)
    y = _stream(conv, x, sizes)
    assert y.shape == x.shape  # exact length after flush
    np.testing.assert_allclose(y, denoise_offline(conv, x), atol=2e-5, rtol=1e-5)


@LAWS
@given(n=st.integers(1, 400), a=chunk_sizes, b=chunk_sizes, seed=st.integers(0, 2**16))
def test_two_chunkings_agree_multichannel(
    stereo: Model, n: int, a: list[int], b: list[int], seed: int
) -> None:
    x = _signal(2, n, seed)
    np.testing.assert_allclose(_stream(stereo, x, a), _stream(stereo, x, b), atol=2e-5)
    np.testing.assert_allclose(_stream(stereo, x, a), denoise_offline(stereo, x), atol=2e-5)


@LAWS
@given(n=st.integers(1, 500), sizes=chunk_sizes, seed=st.integers(0, 2**16))
def test_identity_model_gives_the_signal_back(
    identity: Model, n: int, sizes: list[int], seed: int
) -> None:
    x = _signal(1, n, seed)
    np.testing.assert_allclose(_stream(identity, x, sizes), x, atol=1e-5)


@pytest.mark.parametrize(
    ("window", "hop", "kind"), [(32, 32, "rect"), (16, 5, "hann"), (24, 7, "rect"), (8, 1, "hann")]
)
def test_overlap_add_is_exact_for_any_hop(tmp_path: Path, window: int, hop: int, kind: str) -> None:
    path = make_autoencoder(
        tmp_path / "id.onnx", kind="identity", window=window, hop=hop, synthesis_window=kind
    )
    m = Model(path)
    x = _signal(1, 301, 3)
    np.testing.assert_allclose(_stream(m, x, [13, 1, 50]), x, atol=1e-5)


def test_output_is_final_after_latency(conv: Model) -> None:
    den = StreamDenoiser(conv)
    assert den.latency_samples == 31
    assert den.latency_ms == pytest.approx(1000 * 31 / 16000)
    x = _signal(1, 1000, 5)
    ref = denoise_offline(conv, x)
    got = 0
    for i in range(1000):  # sample by sample
        got += den.push(x[:, i : i + 1]).shape[1]
        # every sample n with n + latency <= i is out; later ones may not be
        assert got >= i + 1 - den.latency_samples
    tail = den.flush()
    assert got + tail.shape[1] == 1000
    np.testing.assert_allclose(tail, ref[:, got:], atol=2e-5)


def test_hann_is_positive_and_constant_overlap_at_half_hop() -> None:
    w = synthesis_window("hann", 64)
    assert (w > 0).all()
    np.testing.assert_allclose(w[:32] + w[32:], 1.0, atol=1e-6)


@pytest.mark.parametrize(("window", "hop"), [(256, 128), (16, 5), (8, 8)])
def test_overlap_add_of_constant_windows_is_constant_however_split(window: int, hop: int) -> None:
    ola = OverlapAdd.of(SignalSpec(16000, 2, window, hop))
    parts = [ola.add(np.full((k, 2, window), 3.0, np.float32)) for k in (1, 2, 1, 7, 0, 3)]
    parts.append(ola.finish())
    out = np.concatenate(parts, axis=1)
    assert out.shape[1] == 14 * hop + (-(-window // hop) - 1) * hop
    np.testing.assert_allclose(out[:, : 13 * hop + window], 3.0, rtol=1e-6)


def test_flush_resets_and_empty_stream_is_empty(conv: Model) -> None:
    den = StreamDenoiser(conv)
    assert den.flush().shape == (1, 0)
    assert den.push(np.ones(40, np.float32)).shape == (1, 16)  # one window done: one hop final
    assert den.flush().shape == (1, 24)
    assert den.samples_in == 0  # flush ended the stream; the next push starts a new one


def test_bad_chunks_are_refused(conv: Model, stereo: Model) -> None:
    den = StreamDenoiser(conv)
    den.push(np.zeros(10, np.float32))
    bad = np.zeros(5, np.float32)
    bad[3] = np.nan
    with pytest.raises(InputError, match=r"sample 13 \(channel 0\) is NaN"):
        den.push(bad)
    with pytest.raises(InputError, match=r"chunk shape must be \(2, samples\)"):
        StreamDenoiser(stereo).push(np.zeros(10, np.float32))
    with pytest.raises(InputError, match="2 channel"):
        StreamDenoiser(stereo).push(np.zeros((3, 10), np.float32))
    inf = np.zeros((2, 4), np.float32)
    inf[1, 2] = np.inf
    with pytest.raises(InputError, match=r"sample 2 \(channel 1\) is Inf"):
        StreamDenoiser(stereo).push(inf)
    with pytest.raises(InputError, match="sample rate 8000 Hz does not match the model's 16000"):
        StreamDenoiser(conv, sample_rate=8000)
    with pytest.raises(InputError, match="empty input"):
        denoise_offline(conv, np.zeros(0, np.float32))


def test_denoiser_needs_autoencoder_with_signal(model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="full autoencoder"):
        StreamDenoiser(Model(model_dir / "encoder.onnx"))
    dense = Model(make_autoencoder(tmp_path / "d.onnx", kind="dense"))
    from edgeae_runtime import ManifestError

    with pytest.raises(ManifestError, match=r"manifest\.signal"):
        StreamDenoiser(dense)
    # a dense model over mono windows works once the caller gives the framing
    m = Model(tmp_path / "d.onnx", signal=SignalSpec(16000, 1, 16, 8))
    x = _signal(1, 100, 0)
    np.testing.assert_allclose(_stream(m, x, [7]), denoise_offline(m, x), atol=2e-5)
