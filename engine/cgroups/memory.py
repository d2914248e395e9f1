"""Memory limit translation for cgroup v1 and v2.

A memory limit means no swap on top of it, as in docker: v1 limits
memory+swap to the same value, v2 sets ``memory.swap.max`` to 0. Both swap
files are absent when the kernel does no swap accounting; that is fine.
"""

from __future__ import annotations

from pathlib import Path

from engine import errors
from engine.cgroups.plan import Write

__all__ = [
    "MIN_BYTES",
    "check",
    "parse_v1_limit",
    "v1_writes",
    "v2_writes",
    "working_set",
]

MIN_BYTES = 6 * 1024 * 1024  # docker's minimum; less cannot even start a shell

# v1 reports "no limit" as the largest page-aligned long; anything this big is none.
_V1_UNLIMITED = 1 << 62


def check(limit: int | None) -> None:
    if limit is None:
        return
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise errors.InvalidArgument(f"memory limit {limit!r} is not a number of bytes")
    if limit < MIN_BYTES:
        raise errors.InvalidArgument(f"memory limit {_human(limit)} is too small: "
                                     f"the minimum is {_human(MIN_BYTES)}")


def v1_writes(limit: int | None) -> list[Write]:
    """The kernel keeps memsw >= memory at every step: lift memsw first, then
    set memory, then bring memsw down to it."""
    check(limit)
    value = "-1" if limit is None else str(limit)
    steps = [
        Write(Path("memory.memsw.limit_in_bytes"), "-1", "memory", optional=True),
        Write(Path("memory.limit_in_bytes"), value, "memory"),
    ]
    if limit is not None:
        steps.append(Write(Path("memory.memsw.limit_in_bytes"), value, "memory", optional=True))
    return steps


def v2_writes(limit: int | None) -> list[Write]:
    check(limit)
    return [
        Write(Path("memory.max"), "max" if limit is None else str(limit), "memory"),
        Write(Path("memory.swap.max"), "max" if limit is None else "0", "memory",
              optional=True),
    ]


def parse_v1_limit(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return None if value < 0 or value >= _V1_UNLIMITED else value


def working_set(usage: int, inactive_file: int) -> int:
    """Usage without reclaimable page cache, the number docker shows."""
    return usage - inactive_file if inactive_file < usage else usage


def _human(size: int) -> str:
    if size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    return f"{size} bytes"
