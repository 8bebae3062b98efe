"""builtin:sensor's generator: more normal running of the same machine (make_sensor_normal)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeae.data.builtin.sensor import SensorOptions, make_sensor, make_sensor_normal
from edgeae.errors import DataError


def _harmonics(x: np.ndarray, sr: int) -> np.ndarray:
    """Per channel, the spectrum's energy around the shaft's 1x..5x (about 25 Hz steps)."""
    spec = np.abs(np.fft.rfft(x, axis=1)) ** 2
    f = np.fft.rfftfreq(x.shape[1], 1 / sr)
    bands = [(f > 25 * k * 0.88) & (f < 25 * k * 1.12) for k in range(1, 6)]
    return np.stack([spec[:, b].sum(axis=1) for b in bands], axis=1) / x.shape[1]


def test_normal_stream_is_the_recordings_machine_with_fresh_noise() -> None:
    opts = SensorOptions(seconds=60, channels=2)
    rec, labels = make_sensor(opts)
    normal = rec[:, : int(0.5 * rec.shape[1])]  # the normal prefix
    assert (labels[: normal.shape[1]] == 0).all()
    more = make_sensor_normal(opts, 30, seed=7)
    assert more.shape == (2, 30 * opts.sample_rate) and more.dtype == np.float32
    # the same harmonics per sensor (amplitudes drawn from opts.seed), within the drift
    np.testing.assert_allclose(_harmonics(more, 1000), _harmonics(normal, 1000), rtol=0.35)
    np.testing.assert_allclose(more.std(axis=1), normal.std(axis=1), rtol=0.1)
    # another machine (seed) differs more than that
    other = make_sensor_normal(SensorOptions(seconds=60, channels=2, seed=1), 30, seed=7)
    assert np.abs(_harmonics(other, 1000) / _harmonics(normal, 1000) - 1).max() > 0.35
    # deterministic per seed, fresh across seeds, never a copy of the recording
    np.testing.assert_array_equal(more, make_sensor_normal(opts, 30, seed=7))
    assert not np.allclose(more, make_sensor_normal(opts, 30, seed=8))
    assert not np.allclose(more[:, :1000], rec[:, :1000])


def test_normal_stream_refuses_a_length_by_name() -> None:
    with pytest.raises(DataError, match="seconds"):
        make_sensor_normal(SensorOptions(), 0.5, seed=0)
