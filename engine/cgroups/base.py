"""What every cgroup driver offers, and the values that cross it.

One container gets one cgroup, ``<parent>/<name>``, in every hierarchy the
driver uses. Callers name it; they never give a path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine import errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal, Protocol

__all__ = ["CgroupStats", "Limits", "check_component"]


@dataclass(frozen=True)
class Limits:
    """None is "no limit"."""

    memory: int | None = None  # bytes, and no swap beyond it
    nano_cpus: int | None = None  # 1_000_000_000 is one CPU
    pids: int | None = None
    # docker's --cpu-shares (2..262144, 1024 the default weight); None: left as it is
    cpu_shares: int | None = None
    # Devices the container may use, as cgroup v1 rules ("c 1:3 rwm"); every other is
    # denied. None leaves device access alone (cgroup v2 has no devices controller).
    devices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CgroupStats:
    """Counters since the cgroup was created; 0 where the kernel has no controller."""

    memory_usage: int  # bytes, without reclaimable page cache
    memory_limit: int | None
    cpu_usage_ns: int
    pids: int
    blkio_read: int  # bytes
    blkio_write: int
    oom_kills: int


if TYPE_CHECKING:  # a type only: a Protocol at run time would import typing
    class CgroupReader(Protocol):
        """A container's cgroup as anyone may see it: read, never changed (the helper
        changes it: engine/helper/cgroups/)."""

        name: str
        parent: str
        version: Literal[1, 2]

        @property
        def paths(self) -> dict[str, Path]:
            """Hierarchy ("memory", "cpu"... for v1, "unified" for v2) → directory, for display."""
            ...

        def frozen(self) -> bool: ...

        def procs(self) -> list[int]: ...

        def oom_killed(self) -> bool:
            """Whether the kernel OOM killer has killed a process in the cgroup."""
            ...

        def stats(self) -> CgroupStats:
            """A few small file reads, no privileges needed."""
            ...

        def cpu_usage_ns(self) -> int:
            """The CPU time used so far (one file of what ``stats`` reads); 0 if unknown."""
            ...

        def limits(self) -> Limits:
            """The limits the kernel has, read back."""
            ...

        def exists(self) -> bool: ...


_COMPONENT = re.compile(r"[A-Za-z0-9_.-]{1,255}")


def check_component(value: str, what: str) -> str:
    """A single path component we are willing to create under a cgroup root."""
    if not isinstance(value, str) or not _COMPONENT.fullmatch(value) or value in (".", ".."):
        raise errors.InvalidArgument(
            f"invalid cgroup {what} {value!r}: use letters, digits, '_', '.' and '-' "
            "(not '.' or '..')")
    return value
