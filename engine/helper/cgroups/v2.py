"""The cgroup v2 driver's writes: create, update, add, freeze, thaw, destroy.

Only the helper and the code it runs (monitors, exec processes) change cgroups;
the engine reads them through ``V2Reader`` (engine/cgroups/v2.py), whose plans
these methods apply.
"""

from __future__ import annotations

from engine import errors
from engine.cgroups import freezer
from engine.cgroups.base import Limits
from engine.cgroups.plan import Write
from engine.cgroups.v2 import V2Reader
from engine.helper.cgroups import teardown
from engine.helper.cgroups.apply import apply, apply_create
from engine.helper.cgroups.wait import poll

__all__ = ["V2Cgroup"]


class V2Cgroup(V2Reader):
    """A container's cgroup as the helper manages it."""

    def __repr__(self) -> str:
        return f"V2Cgroup({self.name!r}, {self.parent!r})"

    def create(self, limits: Limits) -> None:
        apply_create(self.plan_create(limits))

    def update(self, limits: Limits) -> None:
        apply(self.plan_update(limits))

    def add(self, pid: int) -> None:
        apply([Write(self._path / "cgroup.procs", str(int(pid)), "")])

    def join(self) -> None:
        # cgroup.threads moves a thread only within a threaded subtree: a whole process.
        apply([Write(self._path / "cgroup.procs", "0", "")])

    def freeze(self) -> None:
        self._check_freezer()
        apply([freezer.v2_write(True).under(self._path)])
        if not poll(self.frozen, freezer.FREEZE_TIMEOUT):
            self.thaw()
            raise errors.SkiffError(
                f"cannot pause cgroup {self._where}: its processes did not all stop within "
                f"{freezer.FREEZE_TIMEOUT:g} s; it was resumed")

    def thaw(self) -> None:
        self._check_freezer()
        apply([freezer.v2_write(False).under(self._path)])
        poll(lambda: not self.frozen(), freezer.FREEZE_TIMEOUT)

    def destroy(self) -> None:
        if (self._path / "cgroup.freeze").exists():
            apply([freezer.v2_write(False).under(self._path)])
        kill = self._path / "cgroup.kill"
        if kill.exists():  # Linux 5.14+: kills the whole subtree, racing no fork
            apply([Write(kill, "1", "")])
        teardown.kill_all([self._path], self._where)
        teardown.remove(self._path, self._where)
        teardown.remove_parent(self._path.parent)

    def _check_freezer(self) -> None:
        if self._path.is_dir() and not (self._path / "cgroup.freeze").exists():
            raise errors.KernelFeatureMissing(
                "the cgroup v2 freezer is not available (cgroup.freeze needs Linux 5.2 or "
                "later), so containers cannot be paused")
