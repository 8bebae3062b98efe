"""Speech sources by name: ``builtin:speech``, ``mix:clean=DIR&noise=DIR&...``, paired folders.

:func:`load_speech` turns a source string into a :class:`~edgeae.data.corpus.SpeechCorpus`
(training segments with a fresh mixture every epoch, deterministic validation,
whole held-out files); :func:`corpus_dataset` frames one draw of it into a
:class:`~edgeae.data.dataset.Dataset` of windows for the generic trainer, with
the held-out files' windows marked (``holdout``) and a ``remix(epoch)`` hook
for a fresh training draw per epoch.

Source strings:

- ``builtin:speech[?snr=-5..20&level=-35..-15&seed=0]``: the shipped bundle;
- ``mix:clean=DIR&noise=DIR[&snr=LO..HI&level=LO..HI&val=0.2&seed=0]``: every
  audio file under the two folders, mixed on the fly;
- ``DIR`` holding ``noisy/`` and ``clean/``: recorded pairs (``pairs:DIR`` also works,
  with ``&val=0.2&seed=0``; ``val=1`` holds every pair out: evaluation only).

A value ``LO..HI`` is a range, a single number a fixed value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from edgeae.errors import DataError

from .builtin.speech import BUNDLE_RATE, load_speech_bundle
from .corpus import SegmentDataset, SpeechCorpus
from .dataset import Dataset, fingerprint
from .mixing import MixCorpus, MixOptions
from .pairs import PairCorpus, PairOptions, is_pair_folder
from .windows import frame_signal

__all__ = [
    "DEFAULT_SEGMENT_SECONDS",
    "MIX_PREFIX",
    "PAIRS_PREFIX",
    "corpus_dataset",
    "is_speech_source",
    "load_speech",
    "parse_range",
    "spectral_dataset",
    "spectral_items",
]

MIX_PREFIX, PAIRS_PREFIX, SPEECH_BUILTIN = "mix:", "pairs:", "builtin:speech"
#: Segment length :func:`corpus_dataset` draws, in seconds.
DEFAULT_SEGMENT_SECONDS = 1.0
_KEYS = {
    "mix": ("clean", "noise", "snr", "level", "noise_speed", "noise_eq", "noise_pair",
            "synthetic", "babble", "rumble", "speed", "val", "seed"),
    "builtin": ("snr", "level", "noise_speed", "noise_eq", "noise_pair", "synthetic", "babble",
                "rumble", "speed", "seed"),
    "pairs": ("val", "seed", "level"),
}


def is_speech_source(source: str) -> bool:
    """True for ``builtin:speech...``, ``mix:...``, ``pairs:...`` and folders with noisy/+clean/."""
    if source == SPEECH_BUILTIN or source.startswith(SPEECH_BUILTIN + "?"):
        return True
    if source.startswith((MIX_PREFIX, PAIRS_PREFIX)):
        return True
    return os.path.isdir(source) and is_pair_folder(source)


def parse_range(text: str, name: str, where: str) -> tuple[float, float]:
    """``"-5..20"`` -> ``(-5.0, 20.0)``; ``"10"`` -> ``(10.0, 10.0)``."""
    lo, sep, hi = text.partition("..")
    try:
        a = float(lo)
        b = float(hi) if sep else a
    except ValueError:
        raise DataError(f"{where}: {name}={text!r} is not a number or a range LO..HI") from None
    if b < a:
        raise DataError(f"{where}: {name}={text!r}: the range's low end is above its high end")
    return a, b


def _query(body: str, kind: str, where: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body))
    except ValueError:
        raise DataError(f"{where}: malformed options {body!r}; write name=value&...") from None
    out: dict[str, str] = {}
    for k, v in pairs:
        if k not in _KEYS[kind]:
            raise DataError(f"{where}: unknown option {k!r}; known: {', '.join(_KEYS[kind])}")
        if k in out:
            raise DataError(f"{where}: option {k!r} is given twice")
        out[k] = v
    return out


def _number(opts: Mapping[str, str], key: str, default: Any, where: str) -> Any:
    if key not in opts:
        return default
    try:
        return type(default)(opts[key])
    except ValueError:
        raise DataError(f"{where}: option {key}={opts[key]!r} is not a valid number") from None


def _mix_options(opts: Mapping[str, str], seed: int, where: str) -> MixOptions:
    base = MixOptions()
    return MixOptions(
        snr_db=parse_range(opts["snr"], "snr", where) if "snr" in opts else base.snr_db,
        level_db=parse_range(opts["level"], "level", where) if "level" in opts else base.level_db,
        noise_speed=(
            parse_range(opts["noise_speed"], "noise_speed", where)
            if "noise_speed" in opts else base.noise_speed
        ),
        speed=parse_range(opts["speed"], "speed", where) if "speed" in opts else base.speed,
        synthetic=_number(opts, "synthetic", base.synthetic, where),
        babble=_number(opts, "babble", base.babble, where),
        rumble=_number(opts, "rumble", base.rumble, where),
        noise_eq=_number(opts, "noise_eq", base.noise_eq, where),
        noise_pair=_number(opts, "noise_pair", base.noise_pair, where),
        val_fraction=_number(opts, "val", base.val_fraction, where),
        seed=_number(opts, "seed", seed, where),
    )


def load_speech(source: str, sample_rate: int = BUNDLE_RATE, *, seed: int = 0) -> SpeechCorpus:
    """The :class:`SpeechCorpus` a speech source string names (see the module docstring).

    Audio at any rate is resampled to ``sample_rate``; ``seed`` is the default of
    the source's ``seed`` option (mixing draws and the file split).
    """
    if source == SPEECH_BUILTIN or source.startswith(SPEECH_BUILTIN + "?"):
        opts = _query(source.partition("?")[2], "builtin", source)
        return load_speech_bundle(sample_rate, _mix_options(opts, seed, source))
    if source.startswith(MIX_PREFIX):
        opts = _query(source[len(MIX_PREFIX) :], "mix", source)
        for key in ("clean", "noise"):
            if not opts.get(key):
                raise DataError(
                    f"{source}: needs {key}=FOLDER; write mix:clean=SPEECH_DIR&noise=NOISE_DIR"
                )
        return MixCorpus.from_folders(
            opts["clean"], opts["noise"], sample_rate,
            options=_mix_options(opts, seed, source), name=source,
        )  # fmt: skip
    folder, opts = source, {}
    if source.startswith(PAIRS_PREFIX):
        folder, _, body = source[len(PAIRS_PREFIX) :].partition("&")
        opts = _query(body, "pairs", source)
    level = parse_range(opts["level"], "level", source) if "level" in opts else None
    options = PairOptions(
        val_fraction=_number(opts, "val", PairOptions.val_fraction, source),
        seed=_number(opts, "seed", seed, source),
        level_db=level,
    )
    return PairCorpus.from_folder(folder, sample_rate, options=options)


def spectral_dataset(
    source: str,
    signal: Any,
    spectral: Any,
    *,
    limit: int | None = None,
    seed: int = 0,
    states: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Dataset:
    """The held-out files of speech ``source`` as a spectral denoiser's items ``x``
    ``(N, bins, columns)`` (the runtime's own front-end, at the model's rate) with their
    ideal ratio masks ``target`` ``(N, bins, 1)`` (``|clean| / |noisy|`` per bin, clipped
    to [0, 1]): the parity, calibration and comparison data of such a model. ``limit``
    keeps that many frames spread evenly; ``corpus`` gives ``compare`` the whole files.
    A recurrent model (``spectral.state``) needs ``states``: one file's items -> the same
    items with the state column the model feeds itself (:func:`model_states`)."""
    from edgeae_runtime.framing import frame_signal as frames_of
    from edgeae_runtime.spectral import signal_items, stft_frames

    if not is_speech_source(source):
        raise DataError(
            f"{source}: a spectral denoiser takes speech sources (builtin:speech, "
            "mix:clean=DIR&noise=DIR, a noisy/+clean/ folder)"
        )
    if spectral.state > 0 and states is None:
        raise ValueError("spectral_dataset: a recurrent model's items need states=")
    corpus = load_speech(source, signal.sample_rate, seed=seed)
    pairs = corpus.validation_pairs()
    items, masks = [], []
    for p in pairs:
        noisy_spec, x = signal_items(p.noisy, signal, spectral)
        if states is not None and spectral.state > 0:
            x = states(x)
        clean_frames = frames_of(p.clean[None].astype(np.float32), signal.window, signal.hop)
        clean_spec = stft_frames(clean_frames[:, 0, :], spectral)
        ratio = np.abs(clean_spec) / np.maximum(np.abs(noisy_spec), 1e-8)
        items.append(x)
        masks.append(np.clip(ratio, 0.0, 1.0).astype(np.float32)[:, :, None])
    x, target = np.concatenate(items), np.concatenate(masks)
    if limit is not None and len(x) > limit:
        from edgeae_export.sampling import sample_indices

        pick = sample_indices(len(x), limit)
        x, target = x[pick], target[pick]
    return Dataset(
        name=f"{source} (masks vs the ideal ratio mask)",
        x=x.astype(np.float32),
        layout="NCW",
        fingerprint=fingerprint([x, target], {"source": source, "spectral": str(spectral)}),
        description=f"{len(x)} STFT frames of {len(pairs)} held-out files, target = the "
        "ideal ratio mask",
        target=target,
        sample_rate=signal.sample_rate,
        corpus=corpus,
    )


def model_states(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """``states=`` for :func:`spectral_dataset` from a recurrent model: a torch
    ``SpectralGRUMask`` (a checkpoint's) or a runtime ``Model`` path or object (an ONNX file's)."""
    if hasattr(model, "with_states"):
        import torch

        return lambda items: model.with_states(torch.from_numpy(items)).numpy()
    from edgeae_runtime import Model
    from edgeae_runtime.spectral import run_recurrent

    onnx_model = model if isinstance(model, Model) else Model(model)
    return lambda items: run_recurrent(onnx_model, items, None)[1]


def spectral_items(
    source: str,
    signal: Any,
    spectral: Any,
    *,
    limit: int,
    seed: int = 0,
    states: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, str]:
    """:func:`spectral_dataset`'s items alone, and a description for messages."""
    ds = spectral_dataset(source, signal, spectral, limit=limit, seed=seed, states=states)
    return ds.x, f"{len(ds)} frames of {len(ds.corpus.validation_pairs())} held-out files"


def _frame(segments: SegmentDataset, window: int, hop: int, where: str) -> tuple[np.ndarray, ...]:
    """Every segment framed on its own (no window straddles two segments)."""
    noisy, clean = segments.arrays()
    x = np.concatenate([frame_signal(s, window, hop, where=where) for s in noisy])
    t = np.concatenate([frame_signal(s, window, hop, where=where) for s in clean])
    return x, t, noisy, clean


def corpus_dataset(
    corpus: SpeechCorpus,
    *,
    window: int = 256,
    hop: int | None = None,
    layout: str | None = None,
    segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
    options: Mapping[str, Any] | None = None,
) -> Dataset:
    """Windows of epoch 0's training segments, then of the validation segments (``holdout``).

    ``x`` is noisy, ``target`` clean, ``(N, 1, window)`` (``layout="NF"``: flat).
    ``remix(epoch)`` returns a fresh ``(x, target)`` of training windows.
    """
    hop = max(window // 2, 1) if hop is None else hop
    if layout not in (None, "NCW", "NF"):
        raise DataError(f"{corpus.name}: speech is framed as NCW (or NF), not {layout}")
    segment = round(segment_seconds * corpus.sample_rate)
    if segment < window:
        raise DataError(
            f"{corpus.name}: segments of {segment} samples are shorter than the window {window}"
        )
    val = corpus.validation_set(segment)
    vx, vt, vn, vc = _frame(val, window, hop, corpus.name)
    train = corpus.train_set(segment) if corpus.train_files() else None
    if train is None:  # evaluation only (every file held out)
        tx, tt, tn, tc = vx[:0], vt[:0], vn[:0], vc[:0]
    else:
        tx, tt, tn, tc = _frame(train, window, hop, corpus.name)
    flat = layout == "NF"

    def shaped(a: np.ndarray) -> np.ndarray:
        return a.reshape(a.shape[0], -1) if flat else a

    def remix(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        assert train is not None
        train.set_epoch(epoch)
        x, t, _, _ = _frame(train, window, hop, corpus.name)
        return shaped(x), shaped(t)

    x, target = shaped(np.concatenate([tx, vx])), shaped(np.concatenate([tt, vt]))
    full = {**(options or {}), **corpus.describe(), "window": window, "hop": hop,
            "layout": layout or "NCW", "segment": segment}  # fmt: skip
    return Dataset(
        name=corpus.name,
        x=x,
        layout=layout or "NCW",
        fingerprint=fingerprint([tn, tc, vn, vc], full),
        description=_description(corpus),
        target=target,
        sample_rate=corpus.sample_rate,
        window=window,
        hop=hop,
        holdout=np.arange(tx.shape[0], x.shape[0], dtype=np.int64),
        remix=None if train is None else remix,
        corpus=corpus,
    )


def _description(corpus: SpeechCorpus) -> str:
    info = corpus.describe()
    if info["kind"] == "mix":
        lo, hi = info["snr_db"]
        return (
            f"speech mixed with noise on the fly at {lo:g}..{hi:g} dB SNR, a fresh mixture every "
            f"epoch; x = noisy, target = clean; validation = held-out files "
            f"({', '.join(corpus.validation_files())})"
        )
    return (
        "recorded (noisy, clean) pairs; x = noisy, target = clean; validation = held-out files "
        f"({', '.join(corpus.validation_files())})"
    )
