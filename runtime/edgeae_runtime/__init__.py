"""edgeae-runtime: run edgeae autoencoders on devices with numpy and onnxruntime only.

The public API (docs/api.md) is :data:`__all__`: what a device program needs.
Everything else lives in its module (``edgeae_runtime.framing``,
``edgeae_runtime.audio``, ``edgeae_runtime.metrics``, ...) for the sibling
packages and is not part of the API; the few such names the package root used
to export still resolve (lazily, for one release) but are not listed.
"""

from .anomaly import AnomalyScorer, StreamScorer
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

__all__ = [
    "AnomalyScorer",
    "AnomalySpec",
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
    """``__version__`` (read from the installed metadata on first use), and the old
    internal names, imported from their module on first use.

    importlib.metadata costs ~5 MB of RSS; a device importing the runtime should
    not pay it unless it asks for the version.
    """
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("edgeae-runtime")
        except PackageNotFoundError:  # running from a source tree without installing
            value = "0+unknown"
        globals()["__version__"] = value
        return value
    if name in _INTERNAL:
        import importlib

        value = getattr(importlib.import_module(f".{_INTERNAL[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
