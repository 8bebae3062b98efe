"""edgeae-runtime: run edgeae autoencoders on devices with numpy and onnxruntime only.

The public API (docs/api.md) is :data:`__all__`: what a device program needs.
Everything else lives in its module (``edgeae_runtime.framing``,
``edgeae_runtime.audio``, ``edgeae_runtime.metrics``, ...) for the sibling
packages and is not part of the API; the few such names the package root used
to export still resolve (lazily, for one release) but are not listed.

Every name is imported from its module on first use (PEP 562), so
``from edgeae_runtime import Model`` loads the model's modules only, not the
codec's or the anomaly scorer's: a device program pays for what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type checkers and IDEs see the names; at run time __getattr__ imports them
    from .anomaly import AnomalyScorer, ClipScorer, StreamScorer
    from .codec import StreamDecoder, StreamEncoder
    from .errors import (
        EdgeAEError,
        InputError,
        ManifestError,
        ModelError,
        OutputError,
        ParameterError,
        StreamError,
    )
    from .manifest import AnomalySpec, CodecSpec, Manifest, Preprocessing, SignalSpec
    from .model import Model
    from .stream import StreamDenoiser

    __version__: str

__all__ = [
    "AnomalyScorer",
    "AnomalySpec",
    "ClipScorer",
    "CodecSpec",
    "EdgeAEError",
    "InputError",
    "Manifest",
    "ManifestError",
    "Model",
    "ModelError",
    "OutputError",
    "ParameterError",
    "Preprocessing",
    "SignalSpec",
    "StreamDecoder",
    "StreamDenoiser",
    "StreamEncoder",
    "StreamError",
    "StreamScorer",
    "__version__",
]

# The module of each public name.
_PUBLIC = {
    "AnomalyScorer": "anomaly",
    "ClipScorer": "anomaly",
    "StreamScorer": "anomaly",
    "StreamDecoder": "codec",
    "StreamEncoder": "codec",
    "EdgeAEError": "errors",
    "InputError": "errors",
    "ManifestError": "errors",
    "ModelError": "errors",
    "OutputError": "errors",
    "ParameterError": "errors",
    "StreamError": "errors",
    "AnomalySpec": "manifest",
    "CodecSpec": "manifest",
    "Manifest": "manifest",
    "Preprocessing": "manifest",
    "SignalSpec": "manifest",
    "Model": "model",
    "StreamDenoiser": "stream",
}

# Names the package root exported before the API was made small: module of each.
_INTERNAL = {
    "AnomalyEvent": "anomaly",
    "ScoreUpdate": "anomaly",
    "AudioReader": "audio",
    "AudioWriter": "audio",
    "open_reader": "audio",
    "open_writer": "audio",
    "read_wav": "audio",
    "write_wav": "audio",
    "MANIFEST_KEY": "manifest",
    "SCHEMA_VERSION": "manifest",
    "Parity": "manifest",
    "Provenance": "manifest",
    "QuantizationSpec": "manifest",
    "TensorSpec": "manifest",
    "read_png": "png",
    "write_png": "png",
    "LOG_EPS": "scores",
    "anomaly_scores": "scores",
    "calibrate_anomaly": "scores",
    "OverlapAdd": "framing",
    "SignalFramer": "framing",
    "synthesis_window": "framing",
    "denoise_offline": "stream",
}


def __getattr__(name: str) -> object:
    """A public name or an old internal one, imported from its module on first use, and
    ``__version__`` (read from the installed metadata on first use).

    importlib.metadata costs ~5 MB of RSS; a device importing the runtime should
    not pay it unless it asks for the version.
    """
    module = _PUBLIC.get(name) or _INTERNAL.get(name)
    if module is not None:
        import importlib

        value = getattr(importlib.import_module(f".{module}", __name__), name)
    elif name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("edgeae-runtime")
        except PackageNotFoundError:  # running from a source tree without installing
            value = "0+unknown"
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
