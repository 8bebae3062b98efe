"""The frozen record base of the manifest's dataclasses (:class:`_Record`, :data:`_record`).

Every schema class in :mod:`.schema` is a dataclass whose methods (``__init__``, ``repr``,
``==``, ``hash``, immutability) are written once here instead of being generated and
compiled anew for each class at import: these classes are on every device's model-load
path (bench_runtime's footprint).
"""

import dataclasses
from dataclasses import dataclass
from typing import Any


class _Record:
    """The methods of the manifest's frozen dataclasses, written once for all of them.

    What ``@dataclass(frozen=True)`` would generate per class, with the same results:
    ``__init__`` (positional or keyword arguments in field order, defaults and default
    factories, then ``__post_init__``), ``repr`` (the fields in order), ``==`` (same
    class, equal fields), ``hash`` and immutability (assigning or deleting an attribute
    raises ``dataclasses.FrozenInstanceError``). Shared instead of compiled anew for each
    of the twelve classes at import: defining a dataclass compiles every method it
    generates, and these classes are on every device's model-load path (bench_runtime's
    footprint). ``dataclasses.fields``, ``replace`` and ``asdict`` work as on any
    dataclass.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        spec = _INIT.get(cls)
        if spec is None:
            spec = _INIT[cls] = tuple(
                (f.name, f.default, f.default_factory) for f in dataclasses.fields(cls)
            )
        name = cls.__qualname__
        if len(args) > len(spec):
            raise TypeError(
                f"{name}() takes {len(spec)} positional arguments but {len(args)} were given"
            )
        for (field_name, _, _), value in zip(spec, args, strict=False):
            if field_name in kwargs:
                raise TypeError(f"{name}() got multiple values for argument {field_name!r}")
            kwargs[field_name] = value
        if len(kwargs) > len(args):
            known = {n for n, _, _ in spec}
            for key in kwargs:
                if key not in known:
                    raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
        for field_name, default, factory in spec:
            if field_name in kwargs:
                value = kwargs[field_name]
            elif default is not dataclasses.MISSING:
                value = default
            elif factory is not dataclasses.MISSING:
                value = factory()
            else:
                raise TypeError(f"{name}() missing required argument: {field_name!r}")
            object.__setattr__(self, field_name, value)
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr
        )
        return f"{type(self).__qualname__}({shown})"

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.compare)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._key() == other._key()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())


_INIT: dict[type, tuple[tuple[str, Any, Any], ...]] = {}

#: The manifest's record classes: dataclasses (fields, defaults) whose methods are
#: :class:`_Record`'s, frozen like ``@dataclass(frozen=True)``.
_record = dataclass(init=False, repr=False, eq=False)
