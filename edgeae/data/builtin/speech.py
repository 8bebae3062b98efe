"""``builtin:speech``: real clean speech and real noise shipped with the package, mixed on the fly.

The bundle (``edgeae/data/files/speech/``, about 3.8 MB of 16 kHz mono FLAC,
see ``files/SPEECH-ATTRIBUTION.md``) holds 19 LJSpeech clips (public domain)
and stretches of the two Speech Commands background-noise recordings
(CC BY 4.0). The held-out split is fixed here, by file: three speech clips
(one from another chapter of the book) and a later, non-overlapping stretch
of each noise recording are never trained on. Rebuilt from ``../shared`` by
``scripts/make_speech_bundle.py``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from edgeae.errors import DataError

from ..mixing import MixCorpus, MixOptions, load_utterances

__all__ = [
    "BUNDLE_RATE",
    "HELD_OUT_CLEAN",
    "HELD_OUT_NOISE",
    "NOISE_CUTS",
    "TRAIN_CLEAN",
    "bundle_dir",
    "load_speech_bundle",
]

BUNDLE_RATE = 16000
TRAIN_CLEAN = tuple(f"LJ001-{i:04d}" for i in range(1, 17))
HELD_OUT_CLEAN = ("LJ001-0030", "LJ001-0031", "LJ050-0131")
#: Noise files: name -> (Speech Commands recording, start s, stop s).
NOISE_CUTS = {
    "dishes_train": ("doing_the_dishes.wav", 0.0, 20.0),
    "bike_train": ("exercise_bike.wav", 0.0, 20.0),
    "dishes_heldout": ("doing_the_dishes.wav", 60.0, 68.0),
    "bike_heldout": ("exercise_bike.wav", 40.0, 48.0),
}
HELD_OUT_NOISE = ("dishes_heldout", "bike_heldout")


def bundle_dir() -> Path:
    """The folder holding ``clean/`` and ``noise/`` of the bundle."""
    return Path(str(resources.files("edgeae.data").joinpath("files").joinpath("speech")))


def load_speech_bundle(
    sample_rate: int = BUNDLE_RATE, options: MixOptions | None = None
) -> MixCorpus:
    """The bundle as a :class:`MixCorpus` at ``sample_rate``, with its fixed held-out files."""
    root = bundle_dir()
    clean = [root / "clean" / f"{n}.flac" for n in (*TRAIN_CLEAN, *HELD_OUT_CLEAN)]
    noise = [root / "noise" / f"{n}.flac" for n in NOISE_CUTS]
    missing = [p.name for p in (*clean, *noise) if not p.is_file()]
    if missing:
        raise DataError(
            f"builtin:speech: bundle files missing from {root}: {', '.join(missing)}; "
            "reinstall edgeae or run scripts/make_speech_bundle.py"
        )
    return MixCorpus(
        load_utterances(clean, sample_rate),
        load_utterances(noise, sample_rate),
        sample_rate,
        options=options,
        name="builtin:speech",
        val_clean=[f"{n}.flac" for n in HELD_OUT_CLEAN],
        val_noise=[f"{n}.flac" for n in HELD_OUT_NOISE],
    )
