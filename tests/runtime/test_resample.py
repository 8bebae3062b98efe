"""The polyphase resampler: scipy's law, its properties, and chunk-invariant streaming."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime.errors import InputError
from edgeae_runtime.resample import (
    StreamResampler,
    design_filter,
    rational_ratio,
    resample,
    resample_poly,
)

RATES = [(48000, 16000), (16000, 48000), (44100, 16000), (8000, 16000), (22050, 16000),
         (16000, 8000), (32000, 16000), (16000, 44100)]  # fmt: skip


CASES = [
    (1, 3, 1000),
    (3, 1, 333),
    (160, 441, 4410),
    (2, 3, 7),
    (441, 160, 200),
    (1, 2, 1),
    (5, 4, 0),
]


@pytest.mark.parametrize(("up", "down", "n"), CASES)
def test_matches_scipy_resample_poly(up: int, down: int, n: int) -> None:
    signal = pytest.importorskip("scipy.signal")
    x = np.random.default_rng(n).standard_normal((2, n))
    ours = resample_poly(x, up, down)
    ref = signal.resample_poly(x, up, down, axis=-1)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("src", "dst"), RATES)
def test_length_and_dc_gain(src: int, dst: int) -> None:
    n = src // 4 + 3
    y = resample(np.ones(n), src, dst)
    assert y.shape == (-(-n * dst // src),)
    # Far from the edges a constant stays the same constant (unit DC gain).
    edge = 50 * max(src, dst) // min(src, dst)
    assert np.max(np.abs(y[edge:-edge] - 1.0)) < 1e-3


@pytest.mark.parametrize(("src", "dst"), [(48000, 16000), (44100, 16000), (16000, 8000)])
def test_passband_tone_kept_and_alias_removed(src: int, dst: int) -> None:
    t = np.arange(src) / src
    nyq = dst / 2
    keep = resample(np.sin(2 * np.pi * 0.25 * nyq * t), src, dst)[500:-500]
    assert abs(np.sqrt(2 * np.mean(keep**2)) - 1.0) < 0.01  # a tone at Nyquist/4 passes
    # A tone 25 % above the new Nyquist would alias; the filter removes >= 40 dB of it.
    alias = resample(np.sin(2 * np.pi * 1.25 * nyq * t), src, dst)[500:-500]
    assert 20 * np.log10(np.sqrt(2 * np.mean(alias**2))) < -40.0


def test_upsampling_leaves_no_image() -> None:
    src, dst = 16000, 48000
    t = np.arange(src) / src
    y = resample(np.sin(2 * np.pi * 3000 * t), src, dst)[1000:-1000]
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    freqs = np.fft.rfftfreq(y.size, 1 / dst)
    image = spec[(freqs > 9000)].max() / spec.max()
    assert 20 * np.log10(image) < -40.0  # the 13 kHz image of a 3 kHz tone is gone


def test_dtype_shape_and_errors() -> None:
    x32 = np.zeros((3, 2, 480), np.float32)
    assert resample(x32, 48000, 16000).dtype == np.float32
    assert resample(x32, 48000, 16000).shape == (3, 2, 160)
    assert resample(np.zeros(10, np.int16), 16000, 16000).dtype == np.float64
    assert rational_ratio(44100, 16000) == (160, 441)
    h = design_filter(1, 3)
    assert h.size == 61 and abs(h.sum() - 1.0) < 1e-12 and not h.flags.writeable
    with pytest.raises(InputError, match="from_rate"):
        resample(np.zeros(4), 0, 16000)
    with pytest.raises(InputError, match="NaN"):
        resample(np.array([0.0, np.nan]), 48000, 16000)
    with pytest.raises(InputError, match="too long"):
        resample_poly(np.zeros(4), 100003, 1)


@settings(max_examples=40, deadline=None)
@given(
    rates=st.sampled_from(RATES),
    n=st.integers(0, 3000),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
    channels=st.integers(1, 2),
)
def test_streaming_is_chunk_invariant_and_equals_offline(
    rates: tuple[int, int], n: int, cuts: list[int], channels: int
) -> None:
    src, dst = rates
    x = np.random.default_rng(n).standard_normal((channels, n)).astype(np.float32)
    stream = StreamResampler(src, dst, channels)
    edges = [0, *sorted(c for c in cuts if c <= n), n]
    parts = [stream.process(x[:, a:b]) for a, b in itertools.pairwise(edges)]
    parts.append(stream.flush())
    got = np.concatenate(parts, axis=1)
    np.testing.assert_array_equal(got, resample(x, src, dst))
    assert stream.samples_out == got.shape[1] and stream.samples_in == n


def test_stream_emits_with_its_delay_and_refuses_after_flush() -> None:
    stream = StreamResampler(48000, 16000)
    assert stream.delay == 30.0
    first = stream.process(np.zeros(480, np.float32))  # 1-D in, 1-D out for one channel
    # Output j waits for input floor((3j + 30) / 1): after 480 inputs, j < 150 are known.
    assert first.shape == (150,) and first.dtype == np.float32
    stream.flush()
    with pytest.raises(InputError, match="flushed"):
        stream.process(np.zeros(3))
    with pytest.raises(InputError, match="shape"):
        StreamResampler(48000, 16000, channels=2).process(np.zeros((3, 4)))
