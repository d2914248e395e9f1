"""A record behaves as the frozen keyword-only dataclass it replaces."""

from __future__ import annotations

import dataclasses

import pytest

from engine.frozen import record


@record
class Base:
    name: str
    size: int | None = None


@record
class Child(Base):
    tags: list[str] = dataclasses.field(default_factory=list)


@record
class Documented:
    """Says what it is."""

    name: str


def test_it_is_built_by_keyword_with_defaults() -> None:
    child = Child(name="a")
    assert (child.name, child.size, child.tags) == ("a", None, [])
    assert Child(name="a").tags is not child.tags  # a factory's default is made each time
    with pytest.raises(TypeError, match="missing keyword argument 'name'"):
        Child()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        Child(name="a", colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Child("a")  # type: ignore[misc]


def test_it_is_frozen() -> None:
    child = Child(name="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        child.name = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del child.name  # type: ignore[misc]


def test_equality_hash_and_repr_are_by_fields() -> None:
    assert Base(name="a", size=1) == Base(name="a", size=1)
    assert Base(name="a", size=1) != Base(name="a", size=2)
    assert Base(name="a") != Child(name="a")  # another class is never equal
    assert hash(Base(name="a", size=1)) == hash(Base(name="a", size=1))
    assert len({Base(name="a"), Base(name="a"), Base(name="b")}) == 2
    assert repr(Child(name="a", size=2)) == "Child(name='a', size=2, tags=[])"


def test_dataclass_functions_work_on_it() -> None:
    child = Child(name="a", tags=["x"])
    assert dataclasses.is_dataclass(child)
    assert [f.name for f in dataclasses.fields(Child)] == ["name", "size", "tags"]
    assert dataclasses.asdict(child) == {"name": "a", "size": None, "tags": ["x"]}
    assert dataclasses.replace(child, size=3) == Child(name="a", size=3, tags=["x"])


def test_a_docstring_is_kept_or_made() -> None:
    assert Documented.__doc__ == "Says what it is."
    assert Child.__doc__ == "Child(*, name, size, tags)"
