"""edgeae-export: torch -> ONNX with a parity gate, quantization against an accuracy budget."""

from importlib.metadata import PackageNotFoundError, version

from .errors import CalibrationError, ExportError, ParityError, QuantizationError, SpeedGateError

try:
    __version__ = version("edgeae-export")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "CalibrationError",
    "ExportError",
    "ParityError",
    "QuantizationError",
    "SpeedGateError",
    "__version__",
]
