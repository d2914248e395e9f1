"""Container cgroups, v1 or v2 behind one interface, chosen by probing the host.

Writing (create, add, freeze, destroy) is for the privileged helper and the
per-container monitor, which imports this right after exec: stdlib only, no
asyncio. Reading (stats, limits, procs) works unprivileged and costs a few
small file reads per call; keep the ``Cgroup`` object between polls.

    cg = open_cgroup(container_id, "skiff")
    cg.create(Limits(memory=256 << 20, nano_cpus=500_000_000, pids=512))
    cg.add(pid)
"""

from __future__ import annotations

import functools

from engine import errors
from engine.cgroups.base import Cgroup, CgroupStats, Limits, check_component
from engine.cgroups.detect import CgroupSetup, detect
from engine.cgroups.v1 import V1Cgroup
from engine.cgroups.v2 import V2Cgroup

__all__ = [
    "Cgroup",
    "CgroupSetup",
    "CgroupStats",
    "Limits",
    "V1Cgroup",
    "V2Cgroup",
    "detect",
    "host_setup",
    "open_cgroup",
]


@functools.cache
def host_setup() -> CgroupSetup:
    """This host's setup, probed once per process (mounts do not move under us)."""
    return detect()


def open_cgroup(name: str, parent: str, setup: CgroupSetup | None = None) -> Cgroup:
    """The cgroup ``<parent>/<name>`` in the hierarchies ``setup`` picks; opening
    touches nothing, ``create`` makes it."""
    check_component(name, "name")
    check_component(parent, "parent")
    setup = setup if setup is not None else host_setup()
    if setup.driver == "v2":
        return V2Cgroup(name, parent, setup)
    if setup.driver == "v1":
        return V1Cgroup(name, parent, setup)
    raise errors.KernelFeatureMissing(
        f"no cgroup hierarchy is mounted under {setup.root}: container limits, stats and "
        "pause need cgroups (mount cgroup2 there, or the v1 controllers)")
