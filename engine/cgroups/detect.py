"""Which cgroup hierarchies this host has, and which driver to use.

Read from mountinfo, considering only mounts at or under one root (normally
/sys/fs/cgroup), so tests can describe any host with a temporary tree and a
made-up mountinfo. v2 is chosen when the unified hierarchy offers memory,
cpu and pids; a systemd "hybrid" host, whose unified hierarchy has no
controllers, uses its v1 hierarchies.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.cgroups import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

__all__ = ["REQUIRED_CONTROLLERS", "V1_CONTROLLERS", "CgroupSetup", "detect", "parse_mountinfo"]

V1_CONTROLLERS = frozenset({
    "blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory",
    "misc", "net_cls", "net_prio", "perf_event", "pids", "rdma",
})
REQUIRED_CONTROLLERS = frozenset({"memory", "cpu", "pids"})


@dataclass(frozen=True)
class CgroupSetup:
    """The hierarchies found under ``root``."""

    root: Path
    v1: dict[str, Path] = field(default_factory=dict)  # controller → mountpoint
    v2: Path | None = None  # the cgroup2 mountpoint
    v2_controllers: frozenset[str] = frozenset()  # its cgroup.controllers

    @property
    def mode(self) -> Literal["v1", "v2", "hybrid", "none"]:
        if self.v1 and self.v2 is not None:
            return "hybrid"
        if self.v1:
            return "v1"
        return "v2" if self.v2 is not None else "none"

    @property
    def driver(self) -> Literal["v1", "v2"] | None:
        """The hierarchy containers get their cgroups in; None if there is none."""
        if self.v2 is not None and self.v2_controllers >= REQUIRED_CONTROLLERS:
            return "v2"
        if self.v1:
            return "v1"
        return "v2" if self.v2 is not None else None


def detect(root: Path = Path("/sys/fs/cgroup"),
           mountinfo: Path = Path("/proc/self/mountinfo")) -> CgroupSetup:
    try:
        text = mountinfo.read_text()
    except OSError:
        return CgroupSetup(root)
    v1, v2 = parse_mountinfo(text, root)
    controllers: frozenset[str] = frozenset()
    if v2 is not None:
        controllers = frozenset((files.read(v2 / "cgroup.controllers") or "").split())
    return CgroupSetup(root, v1, v2, controllers)


def parse_mountinfo(text: str, root: Path) -> tuple[dict[str, Path], Path | None]:
    """v1 controller mountpoints and the cgroup2 mountpoint at or under ``root``.

    Lines come in mount order, so a later mount hides earlier ones at or
    below its mountpoint. Mountpoints stay text until the end: a host's mountinfo
    has hundreds of lines (a Path and a function call for each were ~2 ms of
    ``stats --no-stream``'s ~30 here).
    """
    top = os.path.normpath(root)
    under_top = top.rstrip("/") + "/"
    found: list[tuple[str, str, str]] = []  # (mountpoint, fstype, superoptions)
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index("-", 6)
            mountpoint = fields[4]
            fstype = fields[sep + 1]
        except (ValueError, IndexError):
            continue
        if "\\" in mountpoint:
            mountpoint = _unescape(mountpoint)
        mountpoint = os.path.normpath(mountpoint)
        options = fields[sep + 3] if len(fields) > sep + 3 else ""
        if found:  # what this mount hides: the mounts at or under it
            below = mountpoint.rstrip("/") + "/"
            found = [m for m in found if m[0] != mountpoint and not m[0].startswith(below)]
        if fstype in ("cgroup", "cgroup2") and (mountpoint == top
                                                or mountpoint.startswith(under_top)):
            found.append((mountpoint, fstype, options))
    v1: dict[str, Path] = {}
    v2: Path | None = None
    for mountpoint, fstype, options in found:
        if fstype == "cgroup2":
            if v2 is None or mountpoint == top:
                v2 = Path(mountpoint)
            continue
        for option in options.split(","):
            if option in V1_CONTROLLERS:
                v1.setdefault(option, Path(mountpoint))
    return v1, v2


def _unescape(text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)
