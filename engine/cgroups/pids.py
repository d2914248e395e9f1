"""Process count limit; ``pids.max`` reads and writes the same in v1 and v2."""

from __future__ import annotations

from pathlib import Path

from engine import errors
from engine.cgroups.plan import Write

__all__ = ["check", "writes"]


def check(limit: int | None) -> None:
    if limit is None:
        return
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise errors.InvalidArgument(f"pids limit {limit!r} is not a number")
    if limit < 1:
        raise errors.InvalidArgument(f"pids limit {limit} is too small: use at least 1, "
                                     "or no limit")


def writes(limit: int | None) -> list[Write]:
    check(limit)
    return [Write(Path("pids.max"), "max" if limit is None else str(limit), "pids")]
