"""The container's own cgroups at /sys/fs/cgroup, read-only, as Docker shows them.

Programs size themselves from there (a JVM's heap, Go's GOMAXPROCS, `nproc` in
a build), and `cat /sys/fs/cgroup/memory.max` is how a tutorial shows what
`--memory` did. The container gets a cgroup namespace made once it is in its
cgroup, so each mount's root is the container's own cgroup and
/proc/self/cgroup reads "/" instead of the host's path.

A pure cgroup v2 host gets one cgroup2 mount. A host whose controllers are on
cgroup v1 gets Docker's v1 layout: a tmpfs with one mount per hierarchy the
container was placed in (comounted controllers linked by each name), all
read-only. A hierarchy the container is not placed in (its path is "/") is not
shown: it would show the host's whole tree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from engine.helper import syscalls as sc
from engine.helper.runtime.mounts import MountStep

__all__ = ["Membership", "parse_membership", "plan_cgroupfs"]

_FLAGS = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
_READ_ONLY = _FLAGS | sc.MS_RDONLY


@dataclass(frozen=True)
class Membership:
    """One line of /proc/PID/cgroup: a hierarchy's controllers ("" for cgroup v2)
    and the process's cgroup in it."""

    controllers: str
    path: str


def parse_membership(text: str) -> list[Membership]:
    found = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            found.append(Membership(parts[1], parts[2]))
    return found


def plan_cgroupfs(target: str, memberships: list[Membership]) -> list[MountStep]:
    """The mounts at ``target`` (the rootfs's /sys/fs/cgroup, as a host path)
    for a process with these ``memberships``, read before its cgroup namespace."""
    v1 = [m for m in memberships if m.controllers and m.path != "/"]
    if v1:
        return _v1_layout(target, v1)
    if any(not m.controllers and m.path != "/" for m in memberships):
        return [MountStep("cgroup", target, "cgroup2", _READ_ONLY)]
    return []


def _v1_layout(target: str, hierarchies: list[Membership]) -> list[MountStep]:
    steps = [MountStep("tmpfs", target, "tmpfs", _FLAGS, "mode=755")]
    for hierarchy in hierarchies:
        name = hierarchy.controllers.removeprefix("name=")
        options = hierarchy.controllers
        if options.startswith("name="):
            options = f"none,{options}"  # a named hierarchy without controllers
        steps.append(MountStep("cgroup", os.path.join(target, name), "cgroup", _READ_ONLY,
                               options))
        if "," in name:  # cpu,cpuacct: also reachable as cpu and as cpuacct
            steps.extend(MountStep(name, os.path.join(target, each), None, kind="symlink")
                         for each in name.split(","))
    steps.append(MountStep(None, target, None, sc.MS_REMOUNT | _READ_ONLY))
    return steps
