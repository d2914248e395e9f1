"""Container cgroups, v1 or v2 behind one interface, chosen by probing the host.

Here is what the engine may do: read a cgroup (``open_cgroup`` gives a reader)
and plan its changes as data. Writing (create, add, freeze, destroy) is the
privileged helper's and the per-container monitor's (engine/helper/cgroups/,
imported right after exec: stdlib only, no asyncio). Reading (stats, limits,
procs) works unprivileged and costs a few
small file reads per call; keep the ``Cgroup`` object between polls.

    cg = open_cgroup(container_id, "skiff")
    cg.create(Limits(memory=256 << 20, nano_cpus=500_000_000, pids=512))
    cg.add(pid)
"""

from __future__ import annotations

import functools

from engine import errors
from engine.cgroups.base import CgroupStats, Limits, check_component
from engine.cgroups.detect import CgroupSetup, detect
from engine.cgroups.v1 import V1Reader
from engine.cgroups.v2 import V2Reader

TYPE_CHECKING = False
if TYPE_CHECKING:  # a Protocol: a type only (engine/cgroups/base.py)
    from engine.cgroups.base import CgroupReader

__all__ = [
    "CgroupSetup",
    "CgroupStats",
    "Limits",
    "V1Reader",
    "V2Reader",
    "detect",
    "driver",
    "host_setup",
    "open_cgroup",
]


@functools.cache
def host_setup() -> CgroupSetup:
    """This host's setup, probed once per process (mounts do not move under us)."""
    return detect()


def driver(name: str, parent: str, setup: CgroupSetup | None) -> tuple[str, CgroupSetup]:
    """The driver ("v1" or "v2") and setup for ``<parent>/<name>``, its names checked."""
    check_component(name, "name")
    check_component(parent, "parent")
    setup = setup if setup is not None else host_setup()
    if setup.driver in ("v1", "v2"):
        return setup.driver, setup
    raise errors.KernelFeatureMissing(
        f"no cgroup hierarchy is mounted under {setup.root}: container limits, stats and "
        "pause need cgroups (mount cgroup2 there, or the v1 controllers)")


def open_cgroup(name: str, parent: str, setup: CgroupSetup | None = None) -> CgroupReader:
    """The cgroup ``<parent>/<name>`` in the hierarchies ``setup`` picks, to read;
    opening touches nothing."""
    kind, setup = driver(name, parent, setup)
    return V2Reader(name, parent, setup) if kind == "v2" else V1Reader(name, parent, setup)
