"""The cgroup v2 driver: one directory in the unified hierarchy.

Controllers must be enabled top-down through ``cgroup.subtree_control``
(the mount's root, then our parent) before the container's cgroup gets
their files. cpu.stat's usage, cgroup.freeze and cgroup.kill are core
files, there with or without controllers.
"""

from __future__ import annotations

from pathlib import Path

from engine import errors
from engine.cgroups import blkio, cpu, files, freezer, memory, pids
from engine.cgroups.base import CgroupStats, Limits, check_component
from engine.cgroups.detect import CgroupSetup
from engine.cgroups.plan import Mkdir, Step, Write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

__all__ = ["CONTROLLERS", "V2Reader"]

CONTROLLERS = ("memory", "cpu", "pids", "io")


class V2Reader:
    """What the engine may do with a container's cgroup: read it, and plan its changes."""

    version: Literal[1, 2] = 2

    def __init__(self, name: str, parent: str, setup: CgroupSetup) -> None:
        self.name = check_component(name, "name")
        self.parent = check_component(parent, "parent")
        if setup.v2 is None:
            raise errors.KernelFeatureMissing(
                f"cgroup v2 is not available: no cgroup2 file system is mounted under "
                f"{setup.root}")
        self.setup = setup
        self._mount = setup.v2
        self._path = setup.v2 / parent / name
        self._where = f"{parent}/{name}"
        self._controllers = [c for c in CONTROLLERS if c in setup.v2_controllers]
        self._base = f"{self._path}/"

    def __repr__(self) -> str:
        return f"V2Reader({self.name!r}, {self.parent!r})"

    @property
    def paths(self) -> dict[str, Path]:
        return {"unified": self._path}

    # -- plans (applied by the helper, engine/helper/cgroups/) -----------------
    def plan_create(self, limits: Limits) -> list[Step]:
        self._check_controllers(limits)
        if limits.devices is not None:
            raise errors.KernelFeatureMissing(
                "cgroup v2 has no devices controller, so device rules cannot be applied "
                "there; containers on it keep to their devices through nodev mounts")
        parent = self._path.parent
        steps: list[Step] = [Write(self._mount / "cgroup.subtree_control", f"+{c}", c)
                             for c in self._controllers]
        steps.append(Mkdir(parent))
        steps += [Write(parent / "cgroup.subtree_control", f"+{c}", c)
                  for c in self._controllers]
        steps.append(Mkdir(self._path))
        return steps + self.plan_update(limits)

    def _check_controllers(self, limits: Limits) -> None:
        """Every limit asked for has its controller here (KernelFeatureMissing if not)."""
        wanted = {"memory": limits.memory, "cpu": limits.nano_cpus or limits.cpu_shares,
                  "pids": limits.pids}
        for controller, value in wanted.items():
            if value is not None and controller not in self._controllers:
                raise errors.KernelFeatureMissing(
                    f"cgroup controller '{controller}' is not available: it is not listed in "
                    f"{self._mount / 'cgroup.controllers'} (cgroup v2), so the {controller} "
                    "limit cannot be applied")

    def plan_update(self, limits: Limits) -> list[Step]:
        """The limit writes alone, for a cgroup that exists (docker update)."""
        self._check_controllers(limits)
        writes: list[Write] = []
        if "memory" in self._controllers:
            writes += memory.v2_writes(limits.memory)
        if "cpu" in self._controllers:
            writes += cpu.v2_writes(limits.nano_cpus)
            writes += cpu.shares_writes(limits.cpu_shares, 2)
        if "pids" in self._controllers:
            writes += pids.writes(limits.pids)
        return [w.under(self._path) for w in writes]

    def frozen(self) -> bool:
        return freezer.v2_frozen(files.read(self._base + "cgroup.events"))



    # -- reading ---------------------------------------------------------------
    def exists(self) -> bool:
        return self._path.is_dir()

    def procs(self) -> list[int]:
        return sorted(files.procs_of(self._path))

    def oom_killed(self) -> bool:
        return self._oom_kills() > 0

    def _oom_kills(self) -> int:
        return files.read_keyed(self._base + "memory.events").get("oom_kill", 0)

    def stats(self) -> CgroupStats:
        base = self._base
        usage = files.read_int(base + "memory.current") or 0
        if usage:
            inactive = files.read_keyed(base + "memory.stat").get("inactive_file", 0)
            usage = memory.working_set(usage, inactive)
        read, write = blkio.parse_v2(files.read(base + "io.stat"))
        return CgroupStats(
            memory_usage=usage,
            memory_limit=files.parse_max(files.read(base + "memory.max")),
            cpu_usage_ns=self.cpu_usage_ns(),
            pids=files.read_int(base + "pids.current") or 0,
            blkio_read=read,
            blkio_write=write,
            oom_kills=self._oom_kills(),
        )

    def cpu_usage_ns(self) -> int:
        return files.read_keyed(self._base + "cpu.stat").get("usage_usec", 0) * 1000

    def limits(self) -> Limits:
        return Limits(
            memory=files.parse_max(files.read(self._base + "memory.max")),
            nano_cpus=cpu.from_v2(files.read(self._base + "cpu.max")),
            pids=files.parse_max(files.read(self._base + "pids.max")),
        )
