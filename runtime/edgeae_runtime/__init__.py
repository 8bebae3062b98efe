"""edgeae-runtime: run edgeae autoencoders on devices with numpy and onnxruntime only."""

from .anomaly import AnomalyEvent, AnomalyScorer, ScoreUpdate, StreamScorer
from .audio import AudioReader, AudioWriter, open_reader, open_writer, read_wav, write_wav
from .errors import EdgeAEError, InputError, ManifestError, ModelError, StreamError
from .manifest import (
    MANIFEST_KEY,
    SCHEMA_VERSION,
    AnomalySpec,
    CodecSpec,
    Manifest,
    Parity,
    Preprocessing,
    Provenance,
    QuantizationSpec,
    SignalSpec,
    TensorSpec,
)
from .model import Model
from .png import read_png, write_png
from .scores import LOG_EPS, anomaly_scores, calibrate_anomaly
from .framing import OverlapAdd, SignalFramer, synthesis_window
from .stream import StreamDenoiser, denoise_offline

__all__ = [
    "LOG_EPS",
    "MANIFEST_KEY",
    "SCHEMA_VERSION",
    "AnomalyEvent",
    "AnomalyScorer",
    "AnomalySpec",
    "AudioReader",
    "AudioWriter",
    "CodecSpec",
    "EdgeAEError",
    "InputError",
    "Manifest",
    "ManifestError",
    "Model",
    "ModelError",
    "OverlapAdd",
    "Parity",
    "Preprocessing",
    "Provenance",
    "QuantizationSpec",
    "ScoreUpdate",
    "SignalFramer",
    "SignalSpec",
    "StreamDenoiser",
    "StreamError",
    "StreamScorer",
    "TensorSpec",
    "__version__",
    "anomaly_scores",
    "calibrate_anomaly",
    "denoise_offline",
    "open_reader",
    "open_writer",
    "read_png",
    "read_wav",
    "synthesis_window",
    "write_png",
    "write_wav",
]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata on first use.

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
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
