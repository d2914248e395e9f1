"""``@frozen`` behaves as the ``@dataclass(frozen=True)`` it replaces: the same class,
made both ways, compared."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

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


def test_its_own_functions_match_the_dataclass_ones() -> None:
    from engine import frozen as module

    @frozen
    class Line:
        start: Any
        points: list[Any] = module.field(default_factory=list)
        meta: dict[str, Any] = module.field(default_factory=dict, metadata={"unit": "px"})

    line = Line(FROZEN(1), [FROZEN(2), (FROZEN(3),)], {"a": [FROZEN(4)]})
    assert module.asdict(line) == dataclasses.asdict(line)
    assert module.replace(line, start=FROZEN(5)) == dataclasses.replace(line, start=FROZEN(5))
    assert [(f.name, f.metadata) for f in module.fields(Line)] == [
        (f.name, dict(f.metadata)) for f in dataclasses.fields(Line)]
    with pytest.raises(TypeError, match="unexpected keyword argument 'end'"):
        module.replace(line, end=1)


def test_it_refuses_a_mutable_default_and_skips_class_variables() -> None:
    with pytest.raises(ValueError, match="mutable default"):
        @frozen
        class Bad:
            items: list[int] = []

    @frozen
    class Counted:
        LIMIT: ClassVar[int] = 3
        size: int = 1

    assert [f.name for f in dataclasses.fields(Counted)] == ["size"]
    assert Counted.LIMIT == 3 and Counted().size == 1


def test_the_read_path_models_import_no_dataclasses() -> None:
    """dataclasses imports inspect: ~50 M instructions of a cold ``skiff ps``."""
    code = ("import sys, engine.containers.config, engine.containers.details, "
            "engine.images.model, engine.wire.containerspec, engine.wire.statusfile\n"
            "print(' '.join(sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True, cwd=Path(__file__).parents[2]).stdout.split()
    assert "dataclasses" not in loaded and "inspect" not in loaded
