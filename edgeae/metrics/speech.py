"""Speech quality of a denoised signal against its clean reference: SNR, SI-SNR, PESQ-wb, STOI.

PESQ (ITU-T P.862.2 wideband, the ``pesq`` package) runs at 16 kHz and STOI
(the ``pystoi`` package) at its own 10 kHz; signals at other rates are
resampled with the runtime's polyphase filter first (PESQ) or by pystoi
(STOI). Both packages are the optional ``metrics`` extra; asking for them
without it raises :class:`~edgeae.errors.ConfigError` saying what to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from edgeae.errors import ConfigError, DataError
from edgeae_runtime.metrics import si_snr_db, snr_db
from edgeae_runtime.resample import resample

__all__ = ["SPEECH_METRICS", "metric_function", "pesq_wb", "speech_scores", "stoi"]

#: Names :func:`metric_function` resolves (higher is better for every one).
SPEECH_METRICS = ("snr", "sisnr", "pesq", "stoi")
_PESQ_RATE = 16000
_EXTRA = "pip install 'edgeae[metrics]'"


def _module(name: str, metric: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigError(
            f"{metric} needs the optional '{name}' package of the metrics extra: {_EXTRA}"
        ) from None


def _mono(reference: np.ndarray, estimate: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(reference, dtype=np.float64).reshape(-1)
    est = np.asarray(estimate, dtype=np.float64).reshape(-1)
    if ref.shape != est.shape:
        raise DataError(
            f"{what}: reference and estimate differ in length: {ref.size} vs {est.size}"
        )
    if ref.size == 0:
        raise DataError(f"{what}: empty signals")
    return ref, est


def pesq_wb(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Wideband PESQ (MOS-LQO, about 1.0..4.64) of ``estimate`` against clean ``reference``."""
    pesq = _module("pesq", "PESQ")
    ref, est = _mono(reference, estimate, "PESQ")
    if sample_rate != _PESQ_RATE:
        ref, est = resample(ref, sample_rate, _PESQ_RATE), resample(est, sample_rate, _PESQ_RATE)
    if ref.size < _PESQ_RATE // 4:
        raise DataError(f"PESQ: needs at least 0.25 s of audio, got {ref.size / _PESQ_RATE:.3f} s")
    try:
        return float(pesq.pesq(_PESQ_RATE, ref, est, "wb"))
    except Exception as exc:  # the package raises its own types (NoUtterancesError, ...)
        raise DataError(f"PESQ: cannot score this signal ({type(exc).__name__}: {exc})") from None


def stoi(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Short-time objective intelligibility (0..1) of ``estimate`` against ``reference``."""
    pystoi = _module("pystoi", "STOI")
    ref, est = _mono(reference, estimate, "STOI")
    return float(pystoi.stoi(ref, est, sample_rate, extended=False))


def _snr(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    return snr_db(*_mono(reference, estimate, "SNR"))


def _sisnr(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    return si_snr_db(*_mono(reference, estimate, "SI-SNR"))


_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "snr": _snr,
    "sisnr": _sisnr,
    "pesq": pesq_wb,
    "stoi": stoi,
}


def metric_function(name: str) -> Callable[[np.ndarray, np.ndarray, int], float]:
    """``f(reference, estimate, sample_rate) -> float`` for a name in :data:`SPEECH_METRICS`.

    PESQ and STOI check that their package is installed here, so a missing
    extra is reported before any work starts.
    """
    if name not in _FUNCTIONS:
        raise ConfigError(f"unknown speech metric {name!r}; use one of {', '.join(SPEECH_METRICS)}")
    if name == "pesq":
        _module("pesq", "PESQ")
    if name == "stoi":
        _module("pystoi", "STOI")
    return _FUNCTIONS[name]


def speech_scores(
    reference: np.ndarray,
    estimate: np.ndarray,
    sample_rate: int,
    metrics: Sequence[str] = SPEECH_METRICS,
) -> dict[str, float]:
    """Every metric in ``metrics`` of one (reference, estimate) pair, by name."""
    return {m: metric_function(m)(reference, estimate, sample_rate) for m in metrics}
