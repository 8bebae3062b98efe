"""The exporter's exceptions, rooted in the runtime's ``EdgeAEError``.

Each derives from one of the runtime's kinds of failure, which decide the CLI's
exit code (:data:`edgeae_runtime.errors.EXIT_CODES`): a failed parity check,
budget or speed gate is a verdict (1), a bad argument a :class:`ParameterError` (2),
the rest bad input (3).
"""

from __future__ import annotations

from edgeae_runtime.errors import EdgeAEError, ParameterError, VerdictError

__all__ = [
    "BudgetError",
    "CalibrationError",
    "ExistsError",
    "ExportError",
    "ExportParameterError",
    "ParameterError",
    "ParityError",
    "QuantizationError",
    "QuantizationParameterError",
    "SpeedGateError",
]


class ExportError(EdgeAEError):
    """A model cannot be exported (bad input file, unwritable output, existing file...)."""


class ExportParameterError(ExportError, ParameterError):
    """An export argument has a bad value (opset, tolerance, output folder): exit 2."""


class ExistsError(ExportError, ParameterError):
    """An output exists and overwriting it was not asked for (a usage error, exit 2)."""


class ParityError(ExportError, VerdictError):
    """The ONNX model's outputs differ from the reference by more than the tolerance."""


class QuantizationError(EdgeAEError):
    """Quantization failed (a model it cannot quantize, a step onnxruntime refused...)."""


class QuantizationParameterError(QuantizationError, ParameterError):
    """A quantization argument has a bad value (mode, method, budget, exclusions): exit 2."""


class CalibrationError(QuantizationError):
    """Calibration data is missing or has the wrong shape for the model."""


class BudgetError(QuantizationError, VerdictError):
    """The quantized model cannot meet the requested accuracy budget."""


class SpeedGateError(QuantizationError, VerdictError):
    """The quantized model is not faster than the float one on this CPU."""
