"""Speech metrics: PESQ-wb and STOI from the metrics extra, SNR/SI-SNR from the runtime."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from edgeae.errors import ConfigError, DataError
from edgeae.metrics import metric_function, pesq_wb, speech_scores, stoi
from edgeae.metrics.denoise import available_metrics


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, np.ndarray]:
    from edgeae.data.speech import load_speech

    pair = load_speech("builtin:speech").validation_pairs()[2]  # LJ001-0030 at 10 dB
    return pair.clean[: 3 * 16000], pair.noisy[: 3 * 16000]


def test_pesq_and_stoi_order_clean_above_noisy(speech: tuple[np.ndarray, np.ndarray]) -> None:
    pytest.importorskip("pesq")
    pytest.importorskip("pystoi")
    clean, noisy = speech
    assert pesq_wb(clean, clean, 16000) > 4.4
    assert 1.0 <= pesq_wb(clean, noisy, 16000) < 3.0
    assert stoi(clean, clean, 16000) == pytest.approx(1.0, abs=1e-6)
    assert 0.5 < stoi(clean, noisy, 16000) < 0.99
    scores = speech_scores(clean, noisy, 16000)
    assert set(scores) == {"snr", "sisnr", "pesq", "stoi"}
    assert 5.0 < scores["snr"] < 20.0 and scores["sisnr"] <= scores["snr"] + 0.1


def test_pesq_resamples_other_rates(speech: tuple[np.ndarray, np.ndarray]) -> None:
    pytest.importorskip("pesq")
    from edgeae_runtime.resample import resample

    clean, noisy = speech
    at48 = pesq_wb(resample(clean, 16000, 48000), resample(noisy, 16000, 48000), 48000)
    assert at48 == pytest.approx(pesq_wb(clean, noisy, 16000), abs=0.05)


def test_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pesq", "pystoi"):  # None in sys.modules makes the import fail
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ConfigError, match=r"PESQ needs .*pip install 'edgeae\[metrics\]'"):
        metric_function("pesq")
    with pytest.raises(ConfigError, match="STOI needs"):
        stoi(np.ones(100), np.ones(100), 16000)
    assert metric_function("sisnr")(np.arange(10.0), np.arange(10.0) * 2, 16000) == float("inf")


def test_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="unknown speech metric 'mos'"):
        metric_function("mos")
    with pytest.raises(DataError, match="differ in length"):
        metric_function("snr")(np.ones(10), np.ones(11), 16000)
    if "pesq" in available_metrics():
        with pytest.raises(DataError, match=r"at least 0\.25 s"):
            pesq_wb(np.ones(100), np.ones(100), 16000)
