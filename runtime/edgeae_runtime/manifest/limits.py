"""The bounds every manifest is held to, and the walkers that hold it to them.

A model file may be hostile: before a manifest's JSON is parsed its size and nesting
are bounded (:func:`_check_text_depth`), and once it is built every number in it must
be finite and of bounded magnitude, every list and shape bounded (:func:`_check_values`,
:func:`_check_shape`), so the runtime never allocates more than :data:`LIMITS` allow.
These checks know nothing of the schema's fields; :mod:`.checks` holds the ones that do.
"""

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from ..errors import ManifestError

#: The bounds every manifest is held to (a hostile file cannot make the runtime
#: allocate more than these allow): JSON text size and nesting, dimensions, element
#: counts per item/latent, signal framing, tensors, list lengths, integer magnitude.
LIMITS: Mapping[str, int] = {
    "json_bytes": 1 << 20,
    "json_depth": 32,
    "dim": 1 << 20,
    "item_elements": 1 << 24,
    "sample_rate": 10_000_000,
    "channels": 1024,
    "window": 1 << 20,
    "tensors": 16,
    "list": 1 << 16,
    "int": 1 << 53,
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _check_text_depth(text: str) -> None:
    """Refuse JSON nested deeper than ``LIMITS["json_depth"]`` before parsing it."""
    depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > LIMITS["json_depth"]:
            raise ManifestError(
                f"manifest: JSON nested deeper than {LIMITS['json_depth']} levels"
            )


def _check_depth(value: Any, where: str, depth: int) -> None:
    """The same bound for a manifest given as Python objects."""
    if depth > LIMITS["json_depth"]:
        raise ManifestError(f"{where}: nested deeper than {LIMITS['json_depth']} levels")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_depth(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_depth(v, f"{where}[{i}]", depth + 1)


def _check_values(value: Any, where: str, depth: int = 1) -> None:
    """Every number in the manifest finite and of bounded magnitude, the nesting bounded."""
    if depth > LIMITS["json_depth"]:
        raise ManifestError(f"{where}: nested deeper than {LIMITS['json_depth']} levels")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ManifestError(f"{where}: must be a finite number, got {value!r}")
    elif isinstance(value, int):
        if abs(value) > LIMITS["int"]:
            raise ManifestError(f"{where}: {_short(value)} is out of range")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _check_values(getattr(value, f.name), f"{where}.{f.name}", depth + 1)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _check_values(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        if len(value) > LIMITS["list"]:
            raise ManifestError(f"{where}: {len(value)} values, more than {LIMITS['list']}")
        for i, v in enumerate(value):
            _check_values(v, f"{where}[{i}]", depth + 1)


def _check_shape(shape: tuple[int, ...], name: str) -> None:
    if not 1 <= len(shape) <= 3:
        raise ManifestError(f"manifest.{name}: needs 1 to 3 dimensions, got {list(shape)}")
    if any(not 1 <= d <= LIMITS["dim"] for d in shape):
        raise ManifestError(
            f"manifest.{name}: dimensions must be in 1..{LIMITS['dim']}, got {list(shape)}"
        )
    if math.prod(shape) > LIMITS["item_elements"]:
        raise ManifestError(
            f"manifest.{name}: {math.prod(shape)} values per item, more than "
            f"{LIMITS['item_elements']}"
        )
