"""Rebuild the ``builtin:speech`` bundle (edgeae/data/files/speech/) from ../shared/data/speech.

    .venv/bin/python scripts/make_speech_bundle.py [--shared ../shared/data/speech]

Clean speech: LJSpeech clips (public domain). Noise: the two Speech Commands
background recordings (CC BY 4.0), each cut into a training stretch and a later,
non-overlapping held-out stretch. Everything is mono 16 kHz FLAC (PCM 16). The
selection is the one in edgeae/data/builtin/speech.py (TRAIN_CLEAN, HELD_OUT_CLEAN,
NOISE_CUTS); the attribution lives in edgeae/data/files/SPEECH-ATTRIBUTION.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile

from edgeae.data.audio import read_audio
from edgeae.data.builtin.speech import BUNDLE_RATE, HELD_OUT_CLEAN, NOISE_CUTS, TRAIN_CLEAN

OUT = Path(__file__).resolve().parents[1] / "edgeae" / "data" / "files" / "speech"


def _write(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), samples, BUNDLE_RATE, subtype="PCM_16", format="FLAC")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared/data/speech")
    )
    shared = Path(ap.parse_args().shared)
    for name in (*TRAIN_CLEAN, *HELD_OUT_CLEAN):
        x, _ = read_audio(shared / "clean" / "ljspeech" / f"{name}.wav", BUNDLE_RATE, mono=True)
        _write(OUT / "clean" / f"{name}.flac", x[0])
    for out_name, (source, start, stop) in NOISE_CUTS.items():
        x, _ = read_audio(shared / "noise" / "speech_commands_bg" / source, BUNDLE_RATE, mono=True)
        _write(
            OUT / "noise" / f"{out_name}.flac",
            x[0, int(start * BUNDLE_RATE) : int(stop * BUNDLE_RATE)],
        )
    total = sum(p.stat().st_size for p in OUT.rglob("*.flac"))
    print(f"{OUT}: {len(list(OUT.rglob('*.flac')))} files, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
