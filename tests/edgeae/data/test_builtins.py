"""Built-in datasets: shapes, labels, determinism, options, and the tones SNR."""

from __future__ import annotations

import numpy as np
import pytest

from edgeae.data import ANOMALY_KINDS, list_builtins, load_source, normal_split
from edgeae.errors import DataError


def test_digits() -> None:
    ds = load_source("builtin:digits")
    assert ds.x.shape == (1797, 1, 8, 8) and ds.layout == "NCHW" and ds.x.dtype == np.float32
    assert float(ds.x.min()) == 0.0 and float(ds.x.max()) == 16.0
    assert ds.labels is not None and sorted(set(ds.labels.tolist())) == list(range(10))
    flat = load_source("builtin:digits", layout="NF")
    assert flat.x.shape == (1797, 64) and flat.fingerprint != ds.fingerprint


def test_sensor_defaults_and_every_anomaly_kind() -> None:
    ds = load_source("builtin:sensor")
    assert ds.layout == "NCW" and ds.item_shape == (3, 256)
    assert (ds.sample_rate, ds.window, ds.hop) == (1000, 256, 128)
    assert ds.signal is not None and ds.signal.shape == (3, 180_000)
    assert ds.sample_labels is not None and ds.labels is not None and len(ds.labels) == len(ds)
    assert set(ds.sample_labels.tolist()) == set(range(len(ANOMALY_KINDS)))
    assert set(ds.labels.tolist()) == set(range(len(ANOMALY_KINDS)))
    # The first half is normal: training there sees no anomaly.
    assert not ds.sample_labels[:90_000].any()
    train, calib = normal_split(ds.labels, 0.2, gap=2)
    for idx in (train, calib):
        starts = idx * 128
        assert not any(ds.sample_labels[s : s + 256].any() for s in starts)


def test_sensor_anomalies_change_the_signal() -> None:
    ds = load_source("builtin:sensor?seconds=120")
    assert ds.signal is not None and ds.sample_labels is not None
    rms = np.sqrt(np.mean(ds.signal.astype(np.float64) ** 2, axis=0))
    normal = rms[ds.sample_labels == 0].mean()
    assert rms[ds.sample_labels == 4].mean() < 0.05 * normal  # dropout: dead sensor
    peak = np.abs(ds.signal).max(axis=0)
    assert peak[ds.sample_labels == 1].max() > 1.5 * peak[ds.sample_labels == 0].max()


def test_sensor_options_and_seed() -> None:
    a = load_source("builtin:sensor?seconds=30&channels=2&seed=3")
    b = load_source("builtin:sensor", options={"seconds": 30, "channels": 2}, seed=3)
    c = load_source("builtin:sensor?seconds=30&channels=2&seed=4")
    assert a.item_shape == (2, 256) and a.fingerprint == b.fingerprint
    np.testing.assert_array_equal(a.x, b.x)
    assert a.fingerprint != c.fingerprint and not np.array_equal(a.x, c.x)


@pytest.mark.parametrize(("snr", "noise"), [(10.0, "white"), (5.0, "pink"), (0.0, "white")])
def test_tones_snr_is_as_requested(snr: float, noise: str) -> None:
    ds = load_source(f"builtin:tones?snr={snr}&noise={noise}&seconds=8")
    assert ds.signal is not None and ds.clean_signal is not None and ds.target is not None
    clean = ds.clean_signal.astype(np.float64)
    noise_part = ds.signal.astype(np.float64) - clean
    measured = 10 * np.log10(np.sum(clean**2) / np.sum(noise_part**2))
    assert abs(measured - snr) < 0.5
    assert ds.x.shape == ds.target.shape == (len(ds), 1, 256)
    np.testing.assert_array_equal(ds.target[10, 0], ds.clean_signal[0, 1280:1536])


def test_tones_defaults_and_keyword_snr() -> None:
    ds = load_source("builtin:tones", options={"snr_db": 5})
    assert ds.sample_rate == 16000 and ds.signal is not None
    assert 20 <= ds.signal.shape[1] / 16000 <= 30
    again = load_source("builtin:tones?snr_db=5")
    assert ds.fingerprint == again.fingerprint


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("builtin:nope", "known: builtin:digits, builtin:sensor, builtin:speech, builtin:tones"),
        ("builtin:tones?snr=loud", "not a valid float"),
        ("builtin:tones?color=red", "unknown option 'color'"),
        ("builtin:sensor?channels=0", "channels must be"),
        ("builtin:tones?noise=brown", "white' or 'pink"),
        ("builtin:digits?seed=1", "takes no options"),
        ("builtin:sensor?seconds=5&seconds=6", "given twice"),
        ("builtin:sensor?junk", "malformed options"),
    ],
)
def test_bad_builtin_sources(source: str, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        load_source(source)


def test_window_longer_than_builtin_signal() -> None:
    with pytest.raises(DataError, match="longer than the signal"):
        load_source("builtin:sensor?seconds=4", window=8000)


def test_list_builtins_matches_what_loads() -> None:
    infos = {b.name: b for b in list_builtins()}
    assert set(infos) == {"digits", "sensor", "speech", "tones"}
    for info in infos.values():
        ds = load_source(info.source)
        assert (len(ds), ds.item_shape, ds.layout) == (info.n_items, info.item_shape, info.layout)
        assert ds.sample_rate == info.sample_rate and info.description
