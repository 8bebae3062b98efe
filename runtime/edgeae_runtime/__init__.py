"""edgeae-runtime: run edgeae autoencoders on devices with numpy and onnxruntime only."""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("edgeae-runtime")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "MANIFEST_KEY",
    "SCHEMA_VERSION",
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
    "Parity",
    "Preprocessing",
    "Provenance",
    "QuantizationSpec",
    "SignalSpec",
    "StreamError",
    "TensorSpec",
    "__version__",
    "open_reader",
    "open_writer",
    "read_wav",
    "write_wav",
]
