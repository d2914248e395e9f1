"""Container cgroups as the helper manages them: created with their limits, joined,
frozen and thawed, updated, emptied and removed.

The engine only reads cgroups (engine/cgroups/: detection, readers, and the plans
as data); every write is here, done by the helper, the monitors and the exec
processes it starts (stdlib only, no asyncio: monitors import this right after
exec).

    cg = open_cgroup(container_id, "skiff")
    cg.create(Limits(memory=256 << 20, nano_cpus=500_000_000, pids=512))
    cg.add(pid)
"""

from __future__ import annotations

import os

from engine.cgroups import CgroupSetup, Limits, driver, host_setup
from engine.helper.cgroups.v1 import JOIN_FILE, V1Cgroup
from engine.helper.cgroups.v2 import V2Cgroup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from engine.cgroups import CgroupReader

__all__ = ["Limits", "V1Cgroup", "V2Cgroup", "host_setup", "join_file", "open_cgroup"]


if TYPE_CHECKING:  # a type only: a Protocol at run time would import typing
    class Cgroup(CgroupReader, Protocol):
        """A container's cgroup, to change."""

        def create(self, limits: Limits) -> None:
            """Make the cgroup (and its parent) and set exactly these limits."""
            ...

        def update(self, limits: Limits) -> None:
            """Set exactly these limits on the existing cgroup (docker update)."""
            ...

        def add(self, pid: int) -> None: ...

        def join(self) -> None:
            """Move the calling process into the cgroup. It must have one thread (a child
            just forked): on cgroup v1 only that thread moves (v1.py says why)."""
            ...

        def freeze(self) -> None:
            """Return once every process is stopped."""
            ...

        def thaw(self) -> None: ...

        def destroy(self) -> None:
            """Kill what is left, remove the cgroup, and the parent once it is empty."""
            ...


def open_cgroup(name: str, parent: str, setup: CgroupSetup | None = None) -> Cgroup:
    """The cgroup ``<parent>/<name>`` in the hierarchies ``setup`` picks; opening
    touches nothing, ``create`` makes it."""
    kind, setup = driver(name, parent, setup)
    return V2Cgroup(name, parent, setup) if kind == "v2" else V1Cgroup(name, parent, setup)


def join_file(directory: str | os.PathLike[str]) -> str:
    """The file of a cgroup's ``directory`` through which a process with one thread (a
    child just forked) moves itself by writing "0": ``tasks`` on cgroup v1 (v1.py says
    why), ``cgroup.procs`` on v2 (which has no ``tasks``)."""
    tasks = os.path.join(directory, JOIN_FILE)
    return tasks if os.path.exists(tasks) else os.path.join(directory, "cgroup.procs")
