"""Built-in datasets that need no network: ``digits`` (real, shipped), ``sensor``, ``tones``."""

from .registry import BuiltinInfo as BuiltinInfo
from .registry import builtin_names as builtin_names
from .registry import list_builtins as list_builtins
from .registry import load_builtin as load_builtin
from .sensor import ANOMALY_KINDS as ANOMALY_KINDS

__all__ = ["ANOMALY_KINDS", "BuiltinInfo", "builtin_names", "list_builtins", "load_builtin"]
