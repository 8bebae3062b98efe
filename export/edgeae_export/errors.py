"""The exporter's exceptions, rooted in the runtime's ``EdgeAEError``."""

from __future__ import annotations

from edgeae_runtime.errors import EdgeAEError

__all__ = ["CalibrationError", "ExportError", "ParityError", "QuantizationError", "SpeedGateError"]


class ExportError(EdgeAEError):
    """A model cannot be exported (bad input file, unwritable output, existing file...)."""


class ParityError(ExportError):
    """The ONNX model's outputs differ from the reference by more than the tolerance."""


class QuantizationError(EdgeAEError):
    """Quantization failed or cannot meet the requested accuracy budget."""


class CalibrationError(QuantizationError):
    """Calibration data is missing or has the wrong shape for the model."""


class SpeedGateError(QuantizationError):
    """The quantized model is not faster than the float one on this CPU."""
