"""``@frozen`` behaves as the ``@dataclass(frozen=True)`` it replaces: the same class,
made both ways, compared."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from engine.frozen import frozen


def _point(decorate: Any) -> Any:
    class Point:
        x: int
        y: int = 0
        tags: list[str] = dataclasses.field(default_factory=list)

        def __post_init__(self) -> None:
            if self.x < 0:
                raise ValueError("x < 0")

        def __str__(self) -> str:
            return f"<{self.x}>"

    return decorate(Point)


FROZEN = _point(frozen)
GENERATED = _point(dataclasses.dataclass(frozen=True))


@pytest.mark.parametrize("args, kwargs", [((1,), {}), ((1, 2), {}), ((1, 2, ["a"]), {}),
                                          ((), {"x": 1}), ((1,), {"tags": ["b"], "y": 3})])
def test_it_is_built_as_the_dataclass(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    ours, theirs = FROZEN(*args, **kwargs), GENERATED(*args, **kwargs)
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)  # the class's own methods are kept
    assert ours == FROZEN(*args, **kwargs)
    assert ours != theirs  # another class is never equal
    assert FROZEN(1).tags is not FROZEN(1).tags  # a factory's default is made each time


@pytest.mark.parametrize("args, kwargs", [((), {}), ((1, 2, [], 4), {}), ((1,), {"x": 2}),
                                          ((1,), {"z": 2})])
def test_it_refuses_what_the_dataclass_refuses(args: tuple[Any, ...],
                                               kwargs: dict[str, Any]) -> None:
    for cls in (FROZEN, GENERATED):
        with pytest.raises(TypeError):
            cls(*args, **kwargs)


def test_it_runs_post_init_and_stays_frozen() -> None:
    for cls in (FROZEN, GENERATED):
        with pytest.raises(ValueError, match="x < 0"):
            cls(-1)
        point = cls(1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            point.x = 2
        with pytest.raises(dataclasses.FrozenInstanceError):
            del point.x


def test_it_hashes_and_replaces_as_the_dataclass() -> None:
    assert hash(FROZEN(1, 2, ())) == hash(GENERATED(1, 2, ()))  # the fields' tuple's
    for cls in (FROZEN, GENERATED):
        with pytest.raises(TypeError):
            hash(cls(1))  # a list in a field: unhashable
    assert dataclasses.replace(FROZEN(1, 2), y=5) == FROZEN(1, 5)
    assert [f.name for f in dataclasses.fields(FROZEN)] == ["x", "y", "tags"]
    assert FROZEN.__match_args__ == ("x", "y", "tags")
    assert FROZEN.__doc__ == "Point(x, y, tags)"
