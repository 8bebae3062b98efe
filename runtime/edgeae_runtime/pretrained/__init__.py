"""Pretrained models shipped inside the runtime package (package data, no download).

``speech-denoiser``: the streaming speech denoiser (spectral mask, 16 kHz,
20 ms latency, int8), rebuilt by ``python benchmarks/train_speech_denoiser.py``;
its training record (data, schedule, validation score) is
``speech-denoiser.json`` next to it. See docs/speech.md.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelError

__all__ = ["PRETRAINED", "pretrained_path"]

#: name -> file in this folder.
PRETRAINED = {"speech-denoiser": "speech-denoiser.onnx"}

_HERE = Path(__file__).resolve().parent


def pretrained_path(name: str) -> Path:
    """The file of the pretrained model ``name`` (ModelError naming the choices)."""
    try:
        path = _HERE / PRETRAINED[name]
    except KeyError:
        raise ModelError(
            f"no pretrained model {name!r}; choose one of {', '.join(sorted(PRETRAINED))}"
        ) from None
    if not path.is_file():
        raise ModelError(f"{path}: the pretrained model {name!r} is missing from this install")
    return path
