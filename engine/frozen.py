"""``@frozen``: ``@dataclass(frozen=True)`` whose methods are shared, not generated.

Python 3.11's ``@dataclass`` writes the source of six methods for each frozen class
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``),
compiles it at import, and, for a class without a docstring, makes one with
``inspect.signature``: ~0.5-1 ms a class. The ~30 public model classes that ``skiff
ps``, ``images``, ``inspect`` and ``logs`` import cost a command run with no CLI server
up ~15-20 ms that way (of ~75 ms of CPU). A frozen class lets dataclasses collect the
fields only (``dataclasses.fields``, ``asdict`` and ``replace`` work as on any
dataclass) and takes these methods, written once, here; type checkers read it as
``@dataclass(frozen=True)``. Its ``__init__`` (by position or keyword, then
``__post_init__``) writes the instance's ``__dict__``, as a frozen class's own
``__setattr__`` refuses: as fast as a generated one, faster for wide classes.
engine/wire/record.py's keyword-only records share the other methods.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

__all__ = ["METHODS", "frozen"]

T = TypeVar("T")
_MISSING: Any = dataclasses.MISSING


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass, as ``@dataclass(frozen=True)`` does; what the
    class defines itself (``__str__``, say) it keeps."""
    documented = bool(cls.__doc__)
    if not documented:  # else dataclass makes one with inspect.signature
        cls.__doc__ = cls.__name__
    dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if not documented:
        cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in fields)})"
    for field in fields:
        if not field.init or field.kw_only:
            raise TypeError(f"{cls.__name__}.{field.name}: a frozen class's fields are all "
                            "given, by position or keyword")
    table = tuple((f.name, f.default, f.default_factory) for f in fields)
    setattr(cls, "__record_fields__", table)  # noqa: B010 (mypy: no such attribute)
    setattr(cls, "__record_post_init__", hasattr(cls, "__post_init__"))  # noqa: B010
    for name, method in {**METHODS, "__init__": _init}.items():
        if cls.__dict__.get(name) is None:
            setattr(cls, name, method)
    return cls


def _init(self: Any, *args: Any, **values: Any) -> None:
    table = self.__record_fields__
    slots = self.__dict__
    if args:
        if len(args) > len(table):
            raise TypeError(f"{type(self).__name__}() takes {len(table)} positional "
                            f"arguments but {len(args)} were given")
        for (name, _, _), value in zip(table, args, strict=False):
            if name in values:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument "
                                f"{name!r}")
            slots[name] = value
        table = table[len(args):]
    for name, default, factory in table:
        if name in values:
            slots[name] = values.pop(name)
        elif default is not _MISSING:
            slots[name] = default
        elif factory is not _MISSING:
            slots[name] = factory()
        else:
            raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
    if values:
        raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument "
                        f"{next(iter(values))!r}")
    if self.__record_post_init__:
        self.__post_init__()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name, _, _ in self.__record_fields__)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, _, _ in self.__record_fields__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


#: A frozen class's methods but ``__init__``, over its ``__record_fields__``:
#: (name, default, default_factory) of each field, in order.
METHODS = {"__repr__": _repr, "__eq__": _eq, "__hash__": _hash, "__setattr__": _setattr,
           "__delattr__": _delattr}
