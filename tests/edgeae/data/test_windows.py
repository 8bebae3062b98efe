"""Framing laws (hypothesis) and window labels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeae.data import MIN_ANOMALY_FRACTION, frame_signal, n_windows, window_labels
from edgeae.errors import DataError


@st.composite
def framings(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    window = draw(st.integers(1, 40))
    hop = draw(st.integers(1, window))
    samples = draw(st.integers(window, 300))
    channels = draw(st.integers(1, 3))
    signal = np.arange(channels * samples, dtype=np.float32).reshape(channels, samples) + 1
    return signal, window, hop


@given(framings())
def test_framing_laws(case: tuple[np.ndarray, int, int]) -> None:
    signal, window, hop = case
    channels, samples = signal.shape
    frames = frame_signal(signal, window, hop)
    n = frames.shape[0]
    # Shape and count: the fewest windows that cover every sample.
    assert frames.shape == (n, channels, window) and frames.dtype == np.float32
    assert n == n_windows(samples, window, hop)
    assert (n - 1) * hop + window >= samples > (n - 2) * hop + window
    # Window k is signal[k*hop : k*hop + window], zero-padded past the end.
    for k in range(n):
        part = signal[:, k * hop : k * hop + window]
        np.testing.assert_array_equal(frames[k, :, : part.shape[1]], part)
        assert not frames[k, :, part.shape[1] :].any()
    # Every sample is covered by at least one window.
    covered = np.zeros(samples, dtype=bool)
    for k in range(n):
        covered[k * hop : k * hop + window] = True
    assert covered.all()


def test_exact_fit_is_a_view_of_the_signal() -> None:
    signal = np.arange(1024, dtype=np.float32).reshape(1, -1)
    frames = frame_signal(signal, 256, 128)
    assert frames.shape == (7, 1, 256)
    assert np.shares_memory(frames, signal)
    assert not frames.flags.writeable


def test_one_dimensional_signal_is_mono() -> None:
    assert frame_signal(np.zeros(10), 4, 2).shape == (4, 1, 4)


@pytest.mark.parametrize(
    ("samples", "window", "hop", "fragment"),
    [(10, 20, 5, "longer than the signal"), (10, 4, 5, "hop must be"), (10, 0, 1, "window")],
)
def test_bad_framing(samples: int, window: int, hop: int, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        frame_signal(np.zeros((1, samples)), window, hop)


def test_window_labels_follow_overlap_fraction() -> None:
    labels = np.zeros(400, dtype=np.int64)
    labels[100:125] = 2  # 25 of 100 samples: exactly the threshold
    labels[300:310] = 3  # 10 of 100: below it
    got = window_labels(labels, 100, 100)
    assert MIN_ANOMALY_FRACTION == 0.25
    np.testing.assert_array_equal(got, [0, 2, 0, 0])
    np.testing.assert_array_equal(window_labels(labels, 100, 100, min_fraction=0.1), [0, 2, 0, 3])


def test_window_label_is_majority_kind() -> None:
    labels = np.zeros(100, dtype=np.int64)
    labels[:30] = 1
    labels[30:80] = 4
    assert window_labels(labels, 100, 100).tolist() == [4]
