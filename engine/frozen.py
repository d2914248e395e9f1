"""``@frozen`` and ``@record``: frozen dataclasses made without the dataclasses module.

Importing ``dataclasses`` imports ``inspect`` (and with it ast, dis and tokenize):
~50 M instructions, a quarter of a ``skiff ps`` that runs with no CLI server up
(README's figures). And Python 3.11's ``@dataclass`` writes the source of six
methods for each frozen class and compiles it: ~0.5 ms a class, for ~30 model
classes and the protocol's ~40 requests and specs. These decorators read a class's
annotations and defaults themselves and give it methods written once, here:

- ``@frozen`` is ``@dataclass(frozen=True)``: built by position or keyword, then
  ``__post_init__``;
- ``@record`` is ``@dataclass(frozen=True, kw_only=True)``, for requests and specs.

Type checkers read them as those (``dataclass_transform``). To the dataclasses
module they are dataclasses still: ``__dataclass_fields__`` is made on first use,
so ``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` work on them;
this module's ``fields``, ``replace`` and ``asdict`` do the same without importing it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing's own costs a cold command ~20 M instructions
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:
    def dataclass_transform(**_marks: object) -> object:
        """typing's marker, which only type checkers read."""
        return lambda decorated: decorated

__all__ = ["MISSING", "FieldSpec", "asdict", "field", "fields", "frozen", "record", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: A field's default or default factory when it has none.
MISSING: Any = _Missing()


class FieldSpec:
    """One field of a frozen class: what ``field()`` says of it, then its name and
    annotation. The attributes are those of a ``dataclasses.Field``."""

    __slots__ = ("default", "default_factory", "metadata", "name", "type")

    def __init__(self, default: Any = MISSING, default_factory: Callable[[], Any] = MISSING,
                 metadata: dict[str, Any] | None = None) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.default = default
        self.default_factory = default_factory
        self.metadata = metadata or {}
        self.name = ""
        self.type: object = None

    def __repr__(self) -> str:
        return f"FieldSpec(name={self.name!r}, default={self.default!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] = MISSING,
          metadata: dict[str, Any] | None = None) -> Any:
    """A field's default (or the factory of a new one each time) and metadata, as
    ``dataclasses.field`` says them."""
    return FieldSpec(default, default_factory, metadata)


@dataclass_transform(frozen_default=True, field_specifiers=(field, FieldSpec))
def frozen(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass built by position or keyword; what the class
    defines itself (``__str__``, say) it keeps."""
    return _made(cls, _init, keyword_only=False)


@dataclass_transform(kw_only_default=True, frozen_default=True,
                     field_specifiers=(field, FieldSpec))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass built by keyword only."""
    return _made(cls, _init_by_keyword, keyword_only=True)


def fields(class_or_instance: object) -> tuple[FieldSpec, ...]:
    """A frozen class's fields, in order (``dataclasses.fields``)."""
    specs: tuple[FieldSpec, ...] = getattr(class_or_instance, "__record_fields__")  # noqa: B009
    return specs


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of ``obj`` with ``changes`` (``dataclasses.replace``)."""
    for spec in fields(obj):
        if spec.name not in changes:
            changes[spec.name] = getattr(obj, spec.name)
    made: T = type(obj)(**changes)
    return made


def asdict(obj: object) -> dict[str, Any]:
    """``obj``'s fields as a dict, nested frozen objects, lists, tuples and dicts as
    such too (``dataclasses.asdict``)."""
    return {spec.name: _plain(getattr(obj, spec.name)) for spec in fields(obj)}


def _plain(value: Any) -> Any:
    kind = type(value)
    if hasattr(kind, "__record_fields__"):
        return asdict(value)
    if kind is list:
        return [_plain(item) for item in value]
    if kind is dict:
        return {_plain(key): _plain(item) for key, item in value.items()}
    if kind is tuple:
        return tuple(_plain(item) for item in value)
    if "dataclasses" in sys.modules and sys.modules["dataclasses"].is_dataclass(value):
        return sys.modules["dataclasses"].asdict(value)  # another kind of dataclass
    return value


def _made(cls: type[T], init: Callable[..., None], keyword_only: bool) -> type[T]:
    specs = _collect(cls)
    names = tuple(spec.name for spec in specs)
    if not cls.__doc__:
        given = f"*, {', '.join(names)}" if keyword_only else ", ".join(names)
        cls.__doc__ = f"{cls.__name__}({given})"
    extra = {"__record_fields__": specs, "__record_kw_only__": keyword_only,
             "__record_post_init__": hasattr(cls, "__post_init__"),
             "__dataclass_fields__": _DataclassFields()}
    if not keyword_only:
        extra["__match_args__"] = names
    for name, value in extra.items():
        setattr(cls, name, value)
    for name, method in {**_METHODS, "__init__": init}.items():
        if cls.__dict__.get(name) is None:  # None: what defining __eq__ leaves as __hash__
            setattr(cls, name, method)
    return cls


def _collect(cls: type) -> tuple[FieldSpec, ...]:
    """The fields of ``cls``'s frozen bases, then its own annotated names in order (a
    name its bases have keeps their place), as dataclasses collects them."""
    found: dict[str, FieldSpec] = {}
    for base in reversed(cls.__mro__[1:]):
        for spec in base.__dict__.get("__record_fields__", ()):
            found[spec.name] = spec
    own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 (not inspect: see above)
    for name, kind in own.items():
        if isinstance(kind, str) and kind.startswith(("ClassVar", "typing.ClassVar")):
            continue
        spec = _spec(cls.__dict__.get(name, MISSING))
        spec.name, spec.type = name, kind
        if spec.default is not MISSING:
            if type(spec.default).__hash__ is None:
                raise ValueError(f"mutable default {type(spec.default)} for field {name} is "
                                 "not allowed: use default_factory")
            setattr(cls, name, spec.default)
        elif name in cls.__dict__:
            delattr(cls, name)
        found[name] = spec
    return tuple(found.values())


def _spec(value: Any) -> FieldSpec:
    """A class attribute as the field it makes: a ``field()``, a ``dataclasses.field()``
    (the tests build the same class both ways) or a plain default."""
    if isinstance(value, FieldSpec):
        return FieldSpec(value.default, value.default_factory, value.metadata)
    dataclasses = sys.modules.get("dataclasses")
    if dataclasses is not None and isinstance(value, dataclasses.Field):
        missing = dataclasses.MISSING
        return FieldSpec(MISSING if value.default is missing else value.default,
                         MISSING if value.default_factory is missing else value.default_factory,
                         dict(value.metadata))
    return FieldSpec(value)


class _DataclassFields:
    """A frozen class's ``__dataclass_fields__``, made when the dataclasses module
    first asks (it is imported by then), in place of this descriptor."""

    def __get__(self, instance: object, owner: type) -> dict[str, Any]:
        import dataclasses

        made = {}
        for spec in fields(owner):
            given: Any = dataclasses.field(
                default=dataclasses.MISSING if spec.default is MISSING else spec.default,
                default_factory=(dataclasses.MISSING if spec.default_factory is MISSING
                                 else spec.default_factory),
                metadata=spec.metadata, kw_only=getattr(owner, "__record_kw_only__"))  # noqa: B009
            given.name, given.type = spec.name, spec.type
            given._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # as @dataclass's
            made[spec.name] = given
        setattr(owner, "__dataclass_fields__", made)  # noqa: B010
        return made


def _init(self: Any, *args: Any, **values: Any) -> None:
    if args:
        specs = self.__record_fields__
        if len(args) > len(specs):
            raise TypeError(f"{type(self).__name__}() takes {len(specs)} positional "
                            f"arguments but {len(args)} were given")
        for spec, value in zip(specs, args, strict=False):
            if spec.name in values:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument "
                                f"{spec.name!r}")
            values[spec.name] = value
    _fill(self, values)


def _init_by_keyword(self: Any, **values: Any) -> None:
    _fill(self, values)


def _fill(self: Any, values: dict[str, Any]) -> None:
    """Into the instance's ``__dict__``, as a frozen class's own ``__setattr__``
    refuses: as fast as a generated ``__init__``, faster for wide classes."""
    slots = self.__dict__
    for spec in self.__record_fields__:
        name = spec.name
        if name in values:
            slots[name] = values.pop(name)
        elif spec.default is not MISSING:
            slots[name] = spec.default
        elif spec.default_factory is not MISSING:
            slots[name] = spec.default_factory()
        else:
            keyword = "keyword " if self.__record_kw_only__ else ""
            raise TypeError(f"{type(self).__name__}() missing {keyword}argument {name!r}")
    if values:
        raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument "
                        f"{next(iter(values))!r}")
    if self.__record_post_init__:
        self.__post_init__()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, spec.name) for spec in self.__record_fields__)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{spec.name}={getattr(self, spec.name)!r}"
                      for spec in self.__record_fields__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


class FrozenInstanceError(AttributeError):
    """dataclasses' own, when that module is imported; else this one."""


def _frozen_error() -> type[AttributeError]:
    dataclasses = sys.modules.get("dataclasses")
    return FrozenInstanceError if dataclasses is None else dataclasses.FrozenInstanceError


def _setattr(self: Any, name: str, value: Any) -> None:
    raise _frozen_error()(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise _frozen_error()(f"cannot delete field {name!r}")


_METHODS = {"__repr__": _repr, "__eq__": _eq, "__hash__": _hash, "__setattr__": _setattr,
            "__delattr__": _delattr}
