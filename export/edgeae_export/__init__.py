"""edgeae-export: torch -> ONNX with a parity gate, quantization against an accuracy budget."""

from importlib.metadata import PackageNotFoundError, version

from .bench import Latency as Latency
from .bench import measure_onnx as measure_onnx
from .budget import BudgetReport as BudgetReport
from .budget import Validation as Validation
from .calibration import CalibrationReader as CalibrationReader
from .calibration import CalibrationSource as CalibrationSource
from .compare import Comparison as Comparison
from .compare import compare_models as compare_models
from .cpu import CpuInfo as CpuInfo
from .cpu import default_quant_types as default_quant_types
from .cpu import detect_cpu as detect_cpu
from .errors import CalibrationError, ExportError, ParityError, QuantizationError, SpeedGateError
from .exporter import DEFAULT_TOLERANCE as DEFAULT_TOLERANCE
from .exporter import FILE_NAMES as FILE_NAMES
from .exporter import ExportedFile as ExportedFile
from .exporter import ExportResult as ExportResult
from .exporter import check_export_targets as check_export_targets
from .exporter import export_autoencoder as export_autoencoder
from .fingerprint import model_fingerprint as model_fingerprint
from .inspect import format_inspection as format_inspection
from .inspect import inspect_model as inspect_model
from .manifest_build import ExportInfo as ExportInfo
from .node_error import NodeError as NodeError
from .node_error import node_errors as node_errors
from .onnx_io import check_onnx as check_onnx
from .onnx_io import load_onnx as load_onnx
from .onnx_io import read_manifest as read_manifest
from .onnx_io import require_manifest as require_manifest
from .onnx_io import write_onnx as write_onnx
from .onnx_io import write_onnx_files as write_onnx_files
from .optimize import optimize_model as optimize_model
from .quantize import QuantizeRequest as QuantizeRequest
from .quantize import QuantizeResult as QuantizeResult
from .quantize import quantize_model as quantize_model
from .speed import SpeedReport as SpeedReport
from .torch_export import DEFAULT_OPSET as DEFAULT_OPSET

try:
    __version__ = version("edgeae-export")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_OPSET",
    "DEFAULT_TOLERANCE",
    "FILE_NAMES",
    "BudgetReport",
    "CalibrationError",
    "CalibrationReader",
    "CalibrationSource",
    "Comparison",
    "CpuInfo",
    "ExportError",
    "ExportInfo",
    "ExportResult",
    "ExportedFile",
    "Latency",
    "NodeError",
    "ParityError",
    "QuantizationError",
    "QuantizeRequest",
    "QuantizeResult",
    "SpeedGateError",
    "SpeedReport",
    "Validation",
    "__version__",
    "check_export_targets",
    "check_onnx",
    "compare_models",
    "default_quant_types",
    "detect_cpu",
    "export_autoencoder",
    "format_inspection",
    "inspect_model",
    "load_onnx",
    "measure_onnx",
    "model_fingerprint",
    "node_errors",
    "optimize_model",
    "quantize_model",
    "read_manifest",
    "require_manifest",
    "write_onnx",
    "write_onnx_files",
]
