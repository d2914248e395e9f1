"""The cgroup v1 driver's writes: create, update, add, freeze, thaw, destroy.

Only the helper and the code it runs (monitors, exec processes) change cgroups;
the engine reads them through ``V1Reader`` (engine/cgroups/v1.py), whose plans
these methods apply.
"""

from __future__ import annotations

from pathlib import Path

from engine import errors
from engine.cgroups import freezer
from engine.cgroups.base import Limits
from engine.cgroups.plan import Write
from engine.cgroups.v1 import V1Reader
from engine.helper.cgroups import teardown
from engine.helper.cgroups.apply import apply, apply_create
from engine.helper.cgroups.wait import poll

__all__ = ["JOIN_FILE", "V1Cgroup"]

# Where a process with one thread moves itself by writing "0": a thread's move spares
# the kernel the lock for moving a whole process (cgroup.procs), whose RCU grace period
# cost each container start ~5-20 ms here (0.3 ms through tasks for 8 hierarchies,
# 9 ms median through cgroup.procs, the writes 0.3 s apart).
JOIN_FILE = "tasks"


class V1Cgroup(V1Reader):
    """A container's cgroup as the helper manages it."""

    def __repr__(self) -> str:
        return f"V1Cgroup({self.name!r}, {self.parent!r})"

    def create(self, limits: Limits) -> None:
        apply_create(self.plan_create(limits))

    def update(self, limits: Limits) -> None:
        apply(self.plan_update(limits))

    def add(self, pid: int) -> None:
        apply(Write(d / "cgroup.procs", str(int(pid)), "") for d in self._dirs)

    def join(self) -> None:
        apply(Write(d / JOIN_FILE, "0", "") for d in self._dirs)

    def freeze(self) -> None:
        directory = self._freezer()
        step = freezer.v1_write(True).under(directory)
        apply([step])
        # Tasks that were forking when the freeze began can leave it at
        # FREEZING; asking again finishes the job.
        if not poll(self.frozen, freezer.FREEZE_TIMEOUT, retry=lambda: apply([step])):
            self.thaw()
            raise errors.SkiffError(
                f"cannot pause cgroup {self._where}: its processes did not all stop within "
                f"{freezer.FREEZE_TIMEOUT:g} s; it was resumed")

    def thaw(self) -> None:
        apply([freezer.v1_write(False).under(self._freezer())])

    def destroy(self) -> None:
        if "freezer" in self._paths and (self._paths["freezer"] / "freezer.state").exists():
            self.thaw()  # frozen tasks would not act on SIGKILL
        teardown.kill_all(self._dirs, self._where)
        for directory in self._dirs:
            teardown.remove(directory, self._where)
        for directory in self._dirs:
            teardown.remove_parent(directory.parent)

    def _freezer(self) -> Path:
        directory = self._paths.get("freezer")
        if directory is None:
            raise errors.KernelFeatureMissing(
                f"cgroup controller 'freezer' is not available: it is not mounted under "
                f"{self.setup.root} (cgroup v1), so containers cannot be paused")
        return directory
