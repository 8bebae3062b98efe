"""The registry of built-in datasets (``builtin:NAME?option=value&...``) and their options.

Built-ins need no network: ``digits`` and ``speech`` are real data shipped in the
package, ``sensor`` and ``tones`` are generated with numpy, deterministically from a seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from edgeae.errors import DataError

from ..assemble import items_dataset, signal_dataset
from ..dataset import Dataset
from ..windows import MIN_ANOMALY_FRACTION, n_windows
from .digits import DIGITS_RANGE, load_digits
from .sensor import ANOMALY_KINDS, SensorOptions, make_sensor
from .speech import BUNDLE_RATE as SPEECH_RATE
from .tones import TonesOptions, make_tones

__all__ = ["BuiltinInfo", "builtin_names", "list_builtins", "load_builtin"]

# Source-string aliases for option names.
_ALIASES = {"snr": "snr_db"}
_WINDOW, _HOP = 256, 128


@dataclass(frozen=True)
class BuiltinInfo:
    """What ``edgeae data list`` shows about one built-in dataset (at its default options)."""

    name: str
    kind: str
    layout: str
    n_items: int
    item_shape: tuple[int, ...]
    sample_rate: int | None
    window: int | None
    hop: int | None
    options: Mapping[str, str]
    description: str

    @property
    def source(self) -> str:
        """The source string that selects it."""
        return f"builtin:{self.name}"


def _coerce(name: str, raw: Any, default: Any, dataset: str) -> Any:
    """Convert a source-string option value to the type of its default."""
    if isinstance(raw, type(default)) and not isinstance(raw, bool):
        return raw
    try:
        return type(default)(raw)
    except (TypeError, ValueError):
        kind = type(default).__name__
        raise DataError(f"builtin:{dataset}: option {name}={raw!r} is not a valid {kind}") from None


def _options(cls: type, given: Mapping[str, Any], seed: int, dataset: str) -> Any:
    """Build the options dataclass ``cls`` from source-string options and the seed."""
    fields = {f.name: f.default for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {"seed": seed} if "seed" in fields else {}
    for key, raw in given.items():
        name = _ALIASES.get(key, key)
        if name not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise DataError(f"builtin:{dataset}: unknown option {key!r}; known options: {known}")
        values[name] = _coerce(key, raw, fields[name], dataset)
    return cls(**values)


def _framing(kw: Mapping[str, Any]) -> tuple[int, int | None]:
    """Window and hop: the built-in defaults, or the caller's (hop then defaults to window/2)."""
    window, hop = kw.get("window"), kw.get("hop")
    if window is None:
        return _WINDOW, _HOP if hop is None else hop
    return window, hop


def _digits(opts: Mapping[str, Any], seed: int, **kw: Any) -> Dataset:
    if opts:
        raise DataError(f"builtin:digits takes no options, got: {', '.join(opts)}")
    if kw.get("window") is not None or kw.get("hop") is not None:
        raise DataError("builtin:digits: images are not windowed; drop --window/--hop")
    images, labels = load_digits()
    return items_dataset(
        "builtin:digits",
        images,
        options={"source": "builtin:digits"},
        layout=kw.get("layout"),
        limit=kw.get("limit"),
        labels=labels,
        description=_DESCRIPTIONS["digits"],
    )


def _sensor(opts: Mapping[str, Any], seed: int, **kw: Any) -> Dataset:
    o = _options(SensorOptions, opts, seed, "sensor")
    window, hop = _framing(kw)
    signal, sample_labels = make_sensor(o)
    return signal_dataset(
        "builtin:sensor",
        signal,
        options={"source": "builtin:sensor", **dataclasses.asdict(o)},
        window=window,
        hop=hop,
        layout=kw.get("layout"),
        limit=kw.get("limit"),
        sample_rate=o.sample_rate,
        sample_labels=sample_labels,
        description=_DESCRIPTIONS["sensor"],
    )


def _tones(opts: Mapping[str, Any], seed: int, **kw: Any) -> Dataset:
    o = _options(TonesOptions, opts, seed, "tones")
    window, hop = _framing(kw)
    noisy, clean = make_tones(o)
    return signal_dataset(
        "builtin:tones",
        noisy,
        options={"source": "builtin:tones", **dataclasses.asdict(o)},
        window=window,
        hop=hop,
        layout=kw.get("layout"),
        limit=kw.get("limit"),
        sample_rate=o.sample_rate,
        clean_signal=clean,
        description=_DESCRIPTIONS["tones"],
    )


def _speech(opts: Mapping[str, Any], seed: int, **kw: Any) -> Dataset:
    from ..speech import corpus_dataset, load_speech

    if kw.get("limit") is not None:
        raise DataError("builtin:speech: --limit does not apply to a speech corpus")
    query = "&".join(f"{k}={v}" for k, v in opts.items())
    corpus = load_speech("builtin:speech" + (f"?{query}" if query else ""), seed=seed)
    window, hop = _framing(kw)
    return corpus_dataset(
        corpus, window=window, hop=hop, layout=kw.get("layout"),
        options={"source": "builtin:speech"},
    )  # fmt: skip


def _speech_windows() -> int:
    """Windows ``builtin:speech`` yields at its defaults (1 s segments, 256/128 framing)."""
    import soundfile

    from .speech import HELD_OUT_CLEAN, TRAIN_CLEAN, bundle_dir

    def seconds(names: tuple[str, ...]) -> int:
        frames = sum(
            soundfile.info(str(bundle_dir() / "clean" / f"{n}.flac")).frames for n in names
        )
        return frames // SPEECH_RATE

    segments = max(1, seconds(TRAIN_CLEAN)) + max(8, seconds(HELD_OUT_CLEAN))
    return segments * n_windows(SPEECH_RATE, _WINDOW, _HOP)


_DESCRIPTIONS = {
    "digits": (
        f"Real 8x8 handwritten digits (UCI, CC BY 4.0), values {DIGITS_RANGE[0]:g}.."
        f"{DIGITS_RANGE[1]:g}, labels = digit class; layout='NF' gives 64 features"
    ),
    "sensor": (
        "Synthetic vibration: harmonics of a drifting ~25 Hz shaft plus noise; the first half "
        "is normal, then labeled anomaly segments (" + ", ".join(ANOMALY_KINDS[1:]) + "); a "
        f"window is anomalous when >= {MIN_ANOMALY_FRACTION:.0%} of its samples are"
    ),
    "tones": (
        "Synthetic 16 kHz audio: chirps, vibrato tones, formant bursts, silences; x = noisy "
        "windows, target = clean windows, at exactly snr_db dB SNR (white or pink noise)"
    ),
    "speech": (
        "Real speech (LJSpeech, public domain) mixed on the fly with real noise (Speech "
        "Commands background, CC BY 4.0) at -5..20 dB SNR, 16 kHz; x = noisy windows, "
        "target = clean; validation = held-out files (3 clips, 2 noise stretches)"
    ),
}
_OPTION_HELP = {
    "digits": {},
    "sensor": {
        "seconds": "length of the recording (default 180)",
        "channels": "number of sensor channels (default 3)",
        "sample_rate": "samples per second (default 1000)",
        "normal_fraction": "leading fraction with no anomaly (default 0.5)",
        "seed": "random seed (default: the seed argument, 0)",
    },
    "tones": {
        "seconds": "length of the audio (default 24)",
        "snr_db": "signal-to-noise ratio in dB, alias snr (default 10)",
        "noise": "white or pink (default white)",
        "sample_rate": "samples per second (default 16000)",
        "seed": "random seed (default: the seed argument, 0)",
    },
    "speech": {
        "snr": "SNR range LO..HI in dB, or one value (default -5..20)",
        "level": "mixture RMS range LO..HI in dBFS: the random gain (default -35..-15)",
        "seed": "random seed of the mixtures (default: the seed argument, 0)",
    },
}
_LOADERS: dict[str, Callable[..., Dataset]] = {
    "digits": _digits,
    "sensor": _sensor,
    "tones": _tones,
    "speech": _speech,
}


def builtin_names() -> list[str]:
    """Names of the built-in datasets."""
    return sorted(_LOADERS)


def load_builtin(name: str, options: Mapping[str, Any], *, seed: int = 0, **kw: Any) -> Dataset:
    """Load built-in ``name`` with source-string ``options`` (window/hop/layout/limit in ``kw``)."""
    if name not in _LOADERS:
        raise DataError(
            f"unknown built-in dataset {name!r}; known: "
            + ", ".join(f"builtin:{n}" for n in builtin_names())
        )
    return _LOADERS[name](options, seed, **kw)


def list_builtins() -> list[BuiltinInfo]:
    """Describe every built-in dataset at its default options (without generating it)."""
    sensor, tones = SensorOptions(), TonesOptions()
    n_sensor = n_windows(int(sensor.seconds * sensor.sample_rate), _WINDOW, _HOP)
    n_tones = n_windows(int(tones.seconds * tones.sample_rate), _WINDOW, _HOP)
    return [
        BuiltinInfo("digits", "images", "NCHW", 1797, (1, 8, 8), None, None, None,
                    _OPTION_HELP["digits"], _DESCRIPTIONS["digits"]),
        BuiltinInfo("sensor", "signal (anomaly)", "NCW", n_sensor, (sensor.channels, _WINDOW),
                    sensor.sample_rate, _WINDOW, _HOP, _OPTION_HELP["sensor"],
                    _DESCRIPTIONS["sensor"]),
        BuiltinInfo("tones", "audio (denoising)", "NCW", n_tones, (1, _WINDOW),
                    tones.sample_rate, _WINDOW, _HOP, _OPTION_HELP["tones"],
                    _DESCRIPTIONS["tones"]),
        BuiltinInfo("speech", "speech (denoising)", "NCW", _speech_windows(), (1, _WINDOW),
                    SPEECH_RATE, _WINDOW, _HOP, _OPTION_HELP["speech"],
                    _DESCRIPTIONS["speech"]),
    ]  # fmt: skip
