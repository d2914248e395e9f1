"""``@record``: a frozen, keyword-only dataclass whose methods are shared, not generated.

Python 3.11's ``@dataclass`` writes the source of six methods for each frozen class
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``)
and compiles it at import: ~0.5 ms a class, so the protocol's 35 requests and 6 spec
classes cost every process that imports them ~25 ms (of the helper's ~100 ms of imports
before its first answer, and of the CLI's and the window's ``Engine``). A record lets
dataclasses collect the fields only (``dataclasses.fields``, ``asdict`` and ``replace``
work as on any dataclass) and takes these methods, written once, here. Type checkers
read it as ``@dataclass(frozen=True, kw_only=True)``.

For classes built a few times a command (a request, a container's spec): a shared
``__init__`` loops over the fields, ~1 µs slower than a generated one. The other
methods are engine/frozen.py's, which does the same for positional classes.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

from engine.frozen import METHODS

__all__ = ["record"]

T = TypeVar("T")
_MISSING: Any = dataclasses.MISSING


@dataclass_transform(kw_only_default=True, frozen_default=True,
                     field_specifiers=(dataclasses.field,))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass built by keyword only."""
    documented = bool(cls.__doc__)
    if not documented:  # else dataclass makes one with inspect.signature: ~0.4 ms a class
        cls.__doc__ = cls.__name__
    dataclasses.dataclass(init=False, repr=False, eq=False, kw_only=True)(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if not documented:
        cls.__doc__ = f"{cls.__name__}(*, {', '.join(f.name for f in fields)})"
    for field in fields:
        if not field.init:
            raise TypeError(f"{cls.__name__}.{field.name}: a record's fields are all given")
    table = tuple((f.name, f.default, f.default_factory) for f in fields)
    setattr(cls, "__record_fields__", table)  # noqa: B010 (mypy: no such attribute)
    for name, method in _METHODS.items():
        setattr(cls, name, method)
    return cls


def _init(self: Any, **values: Any) -> None:
    for name, default, factory in self.__record_fields__:
        if name in values:
            value = values.pop(name)
        elif default is not _MISSING:
            value = default
        elif factory is not _MISSING:
            value = factory()
        else:
            raise TypeError(f"{type(self).__name__}() missing keyword argument {name!r}")
        object.__setattr__(self, name, value)
    if values:
        raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument "
                        f"{next(iter(values))!r}")


_METHODS = {"__init__": _init, **METHODS}
