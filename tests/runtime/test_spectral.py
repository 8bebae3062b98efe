"""The spectral-mask stream: chunking law, exact reconstruction, manifest bounds, any-rate edges,
and the pretrained speech denoiser shipped in the package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgeae_runtime import Manifest, ManifestError, Model, SignalSpec
from edgeae_runtime.manifest import MANIFEST_KEY, Provenance, SpectralSpec, TensorSpec
from edgeae_runtime.metrics import si_snr_db
from edgeae_runtime.pretrained import pretrained_path
from edgeae_runtime.spectral import SpectralDenoiser, denoise_spectral_offline
from edgeae_runtime.speech import denoise_signal, open_denoiser
from tests.runtime.chunks import stream_in_chunks

LAWS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WINDOW, HOP, CTX = 32, 16, 3
BINS = WINDOW // 2 + 1
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "speech"


def _manifest(floor: float = 0.0, mask_floor: float = 0.0, **over) -> dict:
    cols = CTX + (1 if floor else 0)
    m = Manifest(
        role="autoencoder",
        arch="spectral",
        layout="NCW",
        inputs=(TensorSpec("input", (None, BINS, cols)),),
        outputs=(TensorSpec("reconstruction", (None, BINS, 1)), TensorSpec("latent", (None, 4, 1))),
        item_shape=(BINS, cols),
        latent_shape=(4, 1),
        provenance=Provenance(fingerprint="test"),
        signal=SignalSpec(sample_rate=16000, channels=1, window=WINDOW, hop=HOP),
        spectral=SpectralSpec(
            fft_size=WINDOW, context_frames=CTX, noise_floor=floor, mask_floor=mask_floor
        ),
    ).to_dict()
    m.update(over)
    return m


def _model(
    path: Path,
    *,
    ones: bool = False,
    zeros: bool = False,
    seed: int = 0,
    floor: float = 0.0,
    mask_floor: float = 0.0,
) -> Path:
    """Conv(bins->4, kernel K) = latent, Conv(4->bins, 1) + Sigmoid = mask (ones: mask == 1,
    zeros: mask == 0)."""
    rng = np.random.default_rng(seed)
    cols = CTX + (1 if floor else 0)
    w1 = rng.standard_normal((4, BINS, cols)).astype(np.float32) * 0.3
    w2 = rng.standard_normal((BINS, 4, 1)).astype(np.float32) * (0.0 if ones or zeros else 0.5)
    b2 = np.full(BINS, 40.0 if ones else -40.0 if zeros else 0.0, np.float32)
    inits = [
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(np.zeros(4, np.float32), "b1"),
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array(b2, "b2"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["latent"]),
        helper.make_node("Conv", ["latent", "w2", "b2"], ["pre"]),
        helper.make_node("Sigmoid", ["pre"], ["reconstruction"]),
    ]
    graph = helper.make_graph(
        nodes,
        "spectral",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, BINS, cols])],
        [
            helper.make_tensor_value_info("reconstruction", TensorProto.FLOAT, [None, BINS, 1]),
            helper.make_tensor_value_info("latent", TensorProto.FLOAT, [None, 4, 1]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    import json

    helper.set_model_props(model, {MANIFEST_KEY: json.dumps(_manifest(floor, mask_floor))})
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def spectral(tmp_path_factory: pytest.TempPathFactory) -> Model:
    return Model(_model(tmp_path_factory.mktemp("sp") / "model.onnx"))


@pytest.fixture(scope="module")
def floored(tmp_path_factory: pytest.TempPathFactory) -> Model:
    return Model(_model(tmp_path_factory.mktemp("spf") / "model.onnx", floor=0.05))


@pytest.fixture(scope="module")
def ones(tmp_path_factory: pytest.TempPathFactory) -> Model:
    return Model(_model(tmp_path_factory.mktemp("sp1") / "model.onnx", ones=True))


sizes_st = st.lists(st.integers(0, 70), min_size=1, max_size=6).filter(any)


@LAWS
@given(n=st.integers(1, 400), sizes=sizes_st, seed=st.integers(0, 2**16))
def test_stream_equals_offline_whatever_the_chunking(
    spectral: Model, n: int, sizes: list[int], seed: int
) -> None:
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    ref = denoise_spectral_offline(spectral, x)
    out = stream_in_chunks(SpectralDenoiser(spectral), x, sizes)
    assert out.shape == (1, n)
    np.testing.assert_allclose(out, ref, atol=2e-5, rtol=1e-5)
    again = stream_in_chunks(SpectralDenoiser(spectral), x, [n])
    np.testing.assert_allclose(out, again, atol=2e-5, rtol=1e-5)


@LAWS
@given(n=st.integers(1, 400), sizes=sizes_st, seed=st.integers(0, 2**16))
def test_noise_floor_column_keeps_the_law(
    floored: Model, n: int, sizes: list[int], seed: int
) -> None:
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    ref = denoise_spectral_offline(floored, x)
    np.testing.assert_allclose(
        stream_in_chunks(SpectralDenoiser(floored), x, sizes), ref, atol=2e-5, rtol=1e-5
    )


def test_noise_floor_follows_noise_down_fast_and_speech_up_slowly() -> None:
    from edgeae_runtime.spectral import track_floor

    f = np.concatenate([np.full((50, 2), 1.0), np.full((5, 2), 10.0), np.full((20, 2), 1.0)])
    floors, _ = track_floor(f.astype(np.float32), None, 0.02)
    assert floors[54, 0] < 2.0  # a 5-frame burst barely lifts it
    assert abs(floors[-1, 0] - 1.0) < 0.05  # and it is back at the noise soon after
    a, state = track_floor(f[:30].astype(np.float32), None, 0.02)
    b, _ = track_floor(f[30:].astype(np.float32), state, 0.02)
    np.testing.assert_array_equal(np.concatenate([a, b]), floors)


def test_mask_of_ones_gives_the_signal_back(ones: Model) -> None:
    x = np.random.default_rng(1).standard_normal(500).astype(np.float32)
    np.testing.assert_allclose(denoise_spectral_offline(ones, x)[0], x, atol=1e-5)
    streamed = stream_in_chunks(SpectralDenoiser(ones), x, [7, 33])
    np.testing.assert_allclose(streamed[0], x, atol=1e-5)


def test_mask_floor_bounds_the_attenuation(tmp_path: Path) -> None:
    """A mask of zeros with ``mask_floor`` 0.1 passes a tenth of the signal; stream == offline."""
    model = Model(_model(tmp_path / "m.onnx", zeros=True, mask_floor=0.1))
    x = np.random.default_rng(3).standard_normal(500).astype(np.float32)
    np.testing.assert_allclose(denoise_spectral_offline(model, x)[0], 0.1 * x, atol=1e-5)
    streamed = stream_in_chunks(SpectralDenoiser(model), x, [7, 33])
    np.testing.assert_allclose(streamed[0], 0.1 * x, atol=1e-5)
    plain = Model(_model(tmp_path / "z.onnx", zeros=True))
    assert np.max(np.abs(denoise_spectral_offline(plain, x))) < 1e-6


def test_context_restarts_after_flush(spectral: Model) -> None:
    x = np.random.default_rng(2).standard_normal(300).astype(np.float32)
    den = SpectralDenoiser(spectral)
    first = stream_in_chunks(den, x, [50])
    second = stream_in_chunks(den, x, [50])
    np.testing.assert_array_equal(first, second)
    assert den.latency_samples == WINDOW - 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("fft_size", 16, "fft_size|item_shape"),
        ("context_frames", 0, "context_frames"),
        ("exponent", 0.0, "exponent"),
        ("noise_floor", 2.0, "noise_floor"),
        ("mask_floor", 1.0, "mask_floor"),
        ("mask_floor", -0.1, "mask_floor"),
        ("fft_size", 64, "item_shape"),
    ],
)
def test_manifest_bounds_the_spectral_fields(field: str, value, message: str) -> None:
    data = _manifest()
    data["spectral"] = {**data["spectral"], field: value}
    with pytest.raises(ManifestError, match=message):
        Manifest.from_dict(data)


def test_spectral_needs_a_mono_signal_section() -> None:
    data = _manifest(signal=None)
    with pytest.raises(ManifestError, match=r"manifest\.spectral"):
        Manifest.from_dict(data)


@pytest.mark.parametrize("rate", [8000, 22050, 48000])
def test_other_rates_are_resampled_at_the_edges(ones: Model, rate: int) -> None:
    n = rate // 4
    t = np.arange(n) / rate
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    y = denoise_signal(ones, x, rate)
    assert y.shape == x.shape
    mid = slice(n // 8, -n // 8)  # a 440 Hz tone passes the 16 kHz model and both filters
    assert np.max(np.abs(y[mid] - x[mid])) < 0.02
    chunked = stream_in_chunks(open_denoiser(ones, rate), x, [37, 500])
    np.testing.assert_allclose(chunked[0], y, atol=2e-5)


def test_rates_outside_8_to_48_khz_are_refused(ones: Model) -> None:
    from edgeae_runtime import InputError

    with pytest.raises(InputError, match="8000-48000"):
        open_denoiser(ones, 96000)


# -- the shipped model ------------------------------------------------------------------------


def test_pretrained_speech_denoiser_ships_int8_with_its_manifest() -> None:
    path = pretrained_path("speech-denoiser")
    assert path.stat().st_size <= 300_000
    model = Model.default("speech-denoiser")
    m = model.manifest
    assert m.spectral is not None and m.signal is not None
    assert m.quantization.mode == "static"
    assert SpectralDenoiser(model).latency_ms <= 32.0
    assert not any(
        n.op_type in ("ConvTranspose", "LSTM", "GRU") for n in onnx.load(path).graph.node
    )


def test_unknown_pretrained_name_is_refused() -> None:
    from edgeae_runtime import ModelError

    with pytest.raises(ModelError, match="speech-denoiser"):
        Model.default("nope")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/speech is absent")
def test_pretrained_improves_real_noisy_pairs() -> None:
    """The DNS Challenge pairs (real noise, 0-2 dB, never trained on): SI-SNR up on average."""
    from edgeae_runtime.audio import read_wav

    pair = SHARED / "pairs" / "dns_challenge_mpsenet"
    model = Model.default("speech-denoiser")
    gains = []
    for f in sorted((pair / "clean").glob("*.wav")):
        clean, rate = read_wav(f)
        noisy, _ = read_wav(pair / "noisy" / f.name)
        n = min(clean.shape[1], noisy.shape[1])
        y = denoise_signal(model, noisy[0, :n], rate)
        gains.append(si_snr_db(clean[0, :n], y) - si_snr_db(clean[0, :n], noisy[0, :n]))
    assert np.mean(gains) > 1.0


@pytest.mark.parametrize("rate", [16000, 48000])
def test_cli_denoise_without_model_uses_the_pretrained_one(tmp_path: Path, rate: int) -> None:
    from click.testing import CliRunner

    from edgeae_runtime.audio import read_wav, write_wav
    from edgeae_runtime.cli import main

    t = np.arange(rate // 2) / rate
    x = 0.3 * np.sin(2 * np.pi * 300 * t) + 0.01 * np.random.default_rng(0).standard_normal(t.size)
    write_wav(tmp_path / "in.wav", x.astype(np.float32), rate)
    args = ["denoise", str(tmp_path / "in.wav"), "-o", str(tmp_path / "out.wav")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    y, out_rate = read_wav(tmp_path / "out.wav")
    assert out_rate == rate and y.shape == (1, x.size)
    x16, _ = read_wav(tmp_path / "in.wav")  # the PCM_16 samples the command read
    expected = denoise_signal(Model.default("speech-denoiser"), x16[0], rate)
    np.testing.assert_allclose(y[0], expected, atol=1e-4)  # PCM_16 output


def test_cli_denoise_keeps_a_stereo_recordings_channels(tmp_path: Path) -> None:
    """A mono model on a stereo 44.1 kHz WAV: each channel is what the mono stream makes of
    it alone, and OUT keeps both channels and the rate."""
    from click.testing import CliRunner

    from edgeae_runtime.audio import read_wav, write_wav
    from edgeae_runtime.cli import main

    rate = 44100
    rng = np.random.default_rng(3)
    t = np.arange(rate // 3) / rate
    x = np.stack([0.3 * np.sin(2 * np.pi * 300 * t), 0.2 * np.sin(2 * np.pi * 500 * t)])
    x = (x + 0.02 * rng.standard_normal(x.shape)).astype(np.float32)
    write_wav(tmp_path / "in.wav", x, rate, subtype="FLOAT")
    args = ["denoise", str(tmp_path / "in.wav"), "-o", str(tmp_path / "out.wav")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    y, out_rate = read_wav(tmp_path / "out.wav")
    assert out_rate == rate and y.shape == x.shape
    model = Model.default("speech-denoiser")
    for c in range(2):
        np.testing.assert_allclose(y[c], denoise_signal(model, x[c], rate), atol=1e-6)
    assert not np.allclose(y[0], y[1])
    den = open_denoiser(model, rate, channels=2)
    parts = [den.push(x[:, i : i + 441]) for i in range(0, x.shape[1], 441)]
    np.testing.assert_allclose(np.concatenate([*parts, den.flush()], axis=1), y, atol=1e-6)


def test_bench_streams_a_spectral_model(spectral: Model) -> None:
    """``edgeae-rt bench`` measures mask models through their own stream and front-end."""
    from edgeae_runtime.bench import bench_signal, raw_bound, stream_rtf

    x = bench_signal(spectral, 0.1)
    assert x.shape == (1, 1600)
    st = stream_rtf(spectral, x, 160)
    assert st.chunks == 10 and st.seconds == pytest.approx(0.1)
    assert np.isfinite(raw_bound(spectral, x, repeats=1))
