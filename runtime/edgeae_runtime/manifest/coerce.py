"""JSON values -> manifest records: the generic, type-driven coercion of :mod:`.schema`.

:func:`_build` makes a record class from a JSON object by reading the class's field
types back (``get_type_hints``) and :func:`_coerce` checks and converts each value to
its field's type (literals, optionals, unions, tuples, nested records, bounded numbers),
so one walk serves every record and every error names the offending field.
"""

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin, get_type_hints

from ..errors import ManifestError
from .limits import LIMITS, _short


def _build(cls: type, data: Mapping[str, Any], where: str) -> Any:
    """Recursively build dataclass ``cls`` from ``data``, checking every field's type."""
    if not isinstance(data, Mapping):
        raise ManifestError(f"{where}: expected an object, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ManifestError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ManifestError(f"{where}.{f.name}: required field is missing")
            continue
        kwargs[f.name] = _coerce(hints[f.name], data[f.name], f"{where}.{f.name}")
    try:
        return cls(**kwargs)
    except ManifestError:
        raise
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: {exc}") from None


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in args:
            raise ManifestError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if args and type(None) in args:  # Optional[X]
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0] if len(inner) == 1 else inner, value, where)
    if isinstance(tp, list):  # a union of several non-None types, e.g. int | None handled above
        return _first_fit(tp, value, where)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ManifestError(f"{where}: expected a list, got {type(value).__name__}")
        if len(value) > LIMITS["list"]:
            raise ManifestError(f"{where}: {len(value)} values, more than {LIMITS['list']}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ManifestError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(
            _coerce(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if origin is Mapping or tp is Mapping:
        if not isinstance(value, Mapping):
            raise ManifestError(f"{where}: expected an object")
        return dict(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ManifestError(f"{where}: expected a number, got {value!r}")
        if isinstance(value, int) and abs(value) > LIMITS["int"]:
            raise ManifestError(f"{where}: {_short(value)} is out of range")
        if not math.isfinite(value):
            raise ManifestError(f"{where}: must be a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ManifestError(f"{where}: expected an integer, got {value!r}")
        if abs(value) > LIMITS["int"]:
            raise ManifestError(f"{where}: {_short(value)} is out of range")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise ManifestError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    if get_origin(tp) is None and isinstance(tp, type):
        if not isinstance(value, tp):
            raise ManifestError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    return _first_fit(args, value, where)  # X | Y unions without None


def _first_fit(options: Any, value: Any, where: str) -> Any:
    """``value`` as the first of a union's ``options`` it fits, else the error naming it."""
    for option in options:
        try:
            return _coerce(option, value, where)
        except ManifestError:
            pass
    raise ManifestError(f"{where}: unexpected value {value!r}")
