"""edgeae-runtime: run edgeae autoencoders on devices with numpy and onnxruntime only."""

from importlib.metadata import PackageNotFoundError, version

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
from .stream import OverlapAdd, SignalFramer, StreamDenoiser, denoise_offline, synthesis_window

try:
    __version__ = version("edgeae-runtime")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
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
    "denoise_offline",
    "open_reader",
    "open_writer",
    "read_wav",
    "synthesis_window",
    "write_wav",
]
