"""The cgroup v1 driver: one directory per controller hierarchy.

The container's cgroup is made in the memory, cpu, cpuacct, pids, blkio,
freezer and devices hierarchies that are mounted (cpu and cpuacct are often one
hierarchy, so one directory). Limits need their controller; usage
counters come from whichever of these exist.
"""

from __future__ import annotations

import functools
from pathlib import Path

from engine import errors
from engine.cgroups import blkio, cpu, devices, files, freezer, memory, pids
from engine.cgroups.base import CgroupStats, Limits, check_component
from engine.cgroups.detect import CgroupSetup
from engine.cgroups.plan import Mkdir, Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

__all__ = ["CONTROLLERS", "V1Reader"]

CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "blkio", "freezer", "devices")

_BLKIO_FILES = ("blkio.throttle.io_service_bytes_recursive", "blkio.io_service_bytes_recursive")


class V1Reader:
    """What the engine may do with a container's cgroup: read it, and plan its changes."""

    version: Literal[1, 2] = 1

    def __init__(self, name: str, parent: str, setup: CgroupSetup) -> None:
        self.name = check_component(name, "name")
        self.parent = check_component(parent, "parent")
        self.setup = setup
        self._where = f"{parent}/{name}"
        # Stats read these once a second; keep them as ready strings (building the
        # Paths of every controller was half of priming `stats` of 100 containers).
        dirs = {c: f"{setup.v1[c]}/{parent}/{name}" for c in CONTROLLERS if c in setup.v1}
        mem = dirs.get("memory")
        self._mem = f"{mem}/" if mem else None
        acct = dirs.get("cpuacct")
        self._cpuacct = f"{acct}/cpuacct.usage" if acct else None
        pid_dir = dirs.get("pids")
        self._pids = f"{pid_dir}/pids.current" if pid_dir else None
        io = dirs.get("blkio")
        self._blkio = [f"{io}/{f}" for f in _BLKIO_FILES] if io else []

    @functools.cached_property
    def _paths(self) -> dict[str, Path]:
        return {c: self.setup.v1[c] / self.parent / self.name
                for c in CONTROLLERS if c in self.setup.v1}

    @functools.cached_property
    def _dirs(self) -> list[Path]:
        """Co-mounted controllers share a directory: each directory once, in order."""
        return list(dict.fromkeys(self._paths.values()))

    def __repr__(self) -> str:
        return f"V1Reader({self.name!r}, {self.parent!r})"

    @property
    def paths(self) -> dict[str, Path]:
        return dict(self._paths)

    # -- plans (applied by the helper, engine/helper/cgroups/) -----------------
    def plan_create(self, limits: Limits) -> list[Step]:
        wanted = {"memory": limits.memory, "cpu": limits.nano_cpus or limits.cpu_shares,
                  "pids": limits.pids,
                  "devices": limits.devices}
        for controller, value in wanted.items():
            if value is not None and controller not in self._paths:
                raise errors.KernelFeatureMissing(
                    f"cgroup controller '{controller}' is not available: it is not mounted "
                    f"under {self.setup.root} (cgroup v1), so the {controller} limit cannot "
                    "be applied")
        steps: list[Step] = []
        for directory in self._dirs:
            steps += [Mkdir(directory.parent), Mkdir(directory)]
        return steps + self.plan_update(limits)

    def plan_update(self, limits: Limits) -> list[Step]:
        """The limit writes alone, for a cgroup that exists (docker update)."""
        writes: list[Step] = []
        if "memory" in self._paths:
            writes += [w.under(self._paths["memory"]) for w in memory.v1_writes(limits.memory)]
        if "cpu" in self._paths:
            writes += [w.under(self._paths["cpu"]) for w in cpu.v1_writes(limits.nano_cpus)]
            writes += [w.under(self._paths["cpu"])
                       for w in cpu.shares_writes(limits.cpu_shares, 1)]
        if "pids" in self._paths:
            writes += [w.under(self._paths["pids"]) for w in pids.writes(limits.pids)]
        if "devices" in self._paths:
            writes += [w.under(self._paths["devices"])
                       for w in devices.v1_writes(limits.devices)]
        return writes

    def frozen(self) -> bool:
        directory = self._paths.get("freezer")
        return directory is not None and freezer.v1_frozen(
            files.read(directory / "freezer.state"))



    # -- reading ---------------------------------------------------------------
    def exists(self) -> bool:
        return any(d.is_dir() for d in self._dirs)

    def procs(self) -> list[int]:
        return sorted(set().union(*(files.procs_of(d) for d in self._dirs)))

    def oom_killed(self) -> bool:
        return self._oom_kills() > 0

    def _oom_kills(self) -> int:
        if self._mem is None:
            return 0
        return files.read_keyed(self._mem + "memory.oom_control").get("oom_kill", 0)

    def stats(self) -> CgroupStats:
        usage, limit = 0, None
        if self._mem is not None:
            usage = files.read_int(self._mem + "memory.usage_in_bytes") or 0
            inactive = files.read_keyed(self._mem + "memory.stat").get("total_inactive_file", 0)
            usage = memory.working_set(usage, inactive)
            limit = memory.parse_v1_limit(files.read(self._mem + "memory.limit_in_bytes"))
        io_text = None
        for path in self._blkio:
            io_text = files.read(path)
            if io_text is not None:
                break
        read, write = blkio.parse_v1(io_text)
        return CgroupStats(
            memory_usage=usage,
            memory_limit=limit,
            cpu_usage_ns=self.cpu_usage_ns(),
            pids=(files.read_int(self._pids) or 0) if self._pids else 0,
            blkio_read=read,
            blkio_write=write,
            oom_kills=self._oom_kills(),
        )

    def cpu_usage_ns(self) -> int:
        return (files.read_int(self._cpuacct) or 0) if self._cpuacct else 0

    def limits(self) -> Limits:
        mem_dir, cpu_dir, pids_dir = (self._paths.get(c) for c in ("memory", "cpu", "pids"))
        return Limits(
            memory=memory.parse_v1_limit(files.read(mem_dir / "memory.limit_in_bytes"))
            if mem_dir else None,
            nano_cpus=cpu.from_v1(files.read_int(cpu_dir / "cpu.cfs_quota_us"),
                                  files.read_int(cpu_dir / "cpu.cfs_period_us"))
            if cpu_dir else None,
            pids=files.parse_max(files.read(pids_dir / "pids.max")) if pids_dir else None,
        )
