"""The model manifest: the one JSON document every exported model carries.

This package is the single source of truth for the schema. The exporter builds a
:class:`Manifest` and stores ``manifest.to_json()`` under :data:`MANIFEST_KEY` in
the ONNX file's ``metadata_props``; the runtime reads it back through
onnxruntime alone (``session.get_modelmeta().custom_metadata_map``), so a device
needs no side file and no flags. The schema is documented in docs/manifest.md.

The package holds one part each: :mod:`.schema` (the records and their versions),
:mod:`.record` (the frozen record base they share), :mod:`.coerce` (JSON values ->
records), :mod:`.limits` (the bounds on sizes, nesting and numbers), :mod:`.checks`
(the cross-field rules every manifest passes) and :mod:`.graph` (the manifest against
an ONNX graph's inputs and outputs). Everyone imports from here.
"""

from .graph import check_graph as check_graph
from .limits import LIMITS as LIMITS
from .schema import MANIFEST_KEY as MANIFEST_KEY
from .schema import SCHEMA_VERSION as SCHEMA_VERSION
from .schema import AnomalySpec as AnomalySpec
from .schema import CodecSpec as CodecSpec
from .schema import EntropySpec as EntropySpec
from .schema import ExecutionAdvice as ExecutionAdvice
from .schema import LogMelSpec as LogMelSpec
from .schema import Manifest as Manifest
from .schema import Parity as Parity
from .schema import Preprocessing as Preprocessing
from .schema import Provenance as Provenance
from .schema import QuantizationSpec as QuantizationSpec
from .schema import SensorLogSpec as SensorLogSpec
from .schema import SignalSpec as SignalSpec
from .schema import SpectralSpec as SpectralSpec
from .schema import TensorSpec as TensorSpec
from .schema import ThresholdMethod as ThresholdMethod
from .schema import WindowSpec as WindowSpec
from .schema import input_shape_of as input_shape_of

__all__ = [
    "LIMITS",
    "MANIFEST_KEY",
    "SCHEMA_VERSION",
    "AnomalySpec",
    "CodecSpec",
    "EntropySpec",
    "ExecutionAdvice",
    "LogMelSpec",
    "Manifest",
    "Parity",
    "Preprocessing",
    "Provenance",
    "QuantizationSpec",
    "SensorLogSpec",
    "SignalSpec",
    "SpectralSpec",
    "TensorSpec",
    "ThresholdMethod",
    "WindowSpec",
    "check_graph",
    "input_shape_of",
]
