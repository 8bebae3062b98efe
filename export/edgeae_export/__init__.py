"""edgeae-export: torch -> ONNX with a parity gate, quantization against an accuracy budget."""

from importlib.metadata import PackageNotFoundError, version

from .errors import CalibrationError, ExportError, ParityError, QuantizationError, SpeedGateError
from .exporter import DEFAULT_TOLERANCE as DEFAULT_TOLERANCE
from .exporter import FILE_NAMES as FILE_NAMES
from .exporter import ExportedFile as ExportedFile
from .exporter import ExportResult as ExportResult
from .exporter import export_autoencoder as export_autoencoder
from .fingerprint import model_fingerprint as model_fingerprint
from .latent_codec import calibrate_codec as calibrate_codec
from .manifest_build import ExportInfo as ExportInfo
from .onnx_io import check_onnx as check_onnx
from .onnx_io import load_onnx as load_onnx
from .onnx_io import read_manifest as read_manifest
from .onnx_io import require_manifest as require_manifest
from .onnx_io import write_onnx as write_onnx
from .onnx_io import write_onnx_files as write_onnx_files
from .optimize import optimize_model as optimize_model
from .torch_export import DEFAULT_OPSET as DEFAULT_OPSET

try:
    __version__ = version("edgeae-export")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_OPSET",
    "DEFAULT_TOLERANCE",
    "FILE_NAMES",
    "CalibrationError",
    "ExportError",
    "ExportInfo",
    "ExportResult",
    "ExportedFile",
    "ParityError",
    "QuantizationError",
    "SpeedGateError",
    "__version__",
    "calibrate_codec",
    "check_onnx",
    "export_autoencoder",
    "load_onnx",
    "model_fingerprint",
    "optimize_model",
    "read_manifest",
    "require_manifest",
    "write_onnx",
    "write_onnx_files",
]
