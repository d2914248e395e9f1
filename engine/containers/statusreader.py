"""The engine's reader of container status: what each monitor's status.json says,
judged against whether that monitor still lives.

Reading needs no helper: the status files are readable by the container's owner.
Files are parsed again only when they changed, and a monitor's life is asked of
/proc at most every half second, so listing many containers stays cheap.

"Changed" is told by (mtime, size, inode), and a file rewritten within one tick of
the filesystem's clock keeps its mtime, may keep its size and may take the inode its
version before last had: so a file is cached only once its mtime is older than any
such tick (git's "racy" entries are the same problem, met the same way).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from engine.containers.state import ContainerState, Status
from engine.containers.store import ContainerRecord
from engine.frozen import replace
from engine.processes import is_alive
from engine.wire.statusfile import ACTIVE, StatusRecord, monitor_death, read_status_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

__all__ = ["ACTIVE", "StatusReader"]

#: A status file this much older than now was not rewritten within its mtime's tick.
_SETTLED_NS = 100_000_000


class StatusReader:
    """``containers_dir`` says where this user's container directories are (the
    helper may name its root only once it started)."""

    def __init__(self, containers_dir: Callable[[], str | PathLike[str]]) -> None:
        self._containers_dir = containers_dir
        self._status_cache: dict[str, tuple[tuple[int, int, int] | None, StatusRecord]] = {}
        self._alive_cache: dict[int, float] = {}
        # Containers' directories made once per container (and again if the directory
        # moves), as plain strings: a list of many containers asks for them again and
        # again, and pathlib was a third of reading 201 containers' states.
        self._paths: dict[str, tuple[str | PathLike[str], str]] = {}

    def _dir_text(self, container_id: str) -> str:
        base = self._containers_dir()
        found = self._paths.get(container_id)
        if found is None or found[0] is not base:
            found = (base, f"{base}/{container_id}")
            self._paths[container_id] = found
        return found[1]

    def monitor_alive(self, pid: int) -> bool:
        """is_alive, asked of /proc at most every half second per monitor.

        A monitor records every exit itself; this only catches one that was killed,
        for which half a second late is soon enough.
        """
        now = time.monotonic()
        seen = self._alive_cache.get(pid)
        if seen is not None and now - seen < 0.5:
            return True
        if is_alive(pid):
            self._alive_cache[pid] = now
            return True
        self._alive_cache.pop(pid, None)
        return False

    def forget_monitor(self, pid: int) -> None:
        """The monitor is known to have exited: the next look asks /proc again."""
        self._alive_cache.pop(pid, None)

    def status(self, container_id: str) -> StatusRecord | None:
        """The monitor's status.json, parsed again only when the file changed."""
        path = self._dir_text(container_id) + "/status.json"
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._status_cache.pop(container_id, None)
            return None
        except OSError:
            self._status_cache.pop(container_id, None)
            return read_status_file(path)
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._status_cache.get(container_id)
        if cached is None or cached[0] != key:
            record = read_status_file(path)
            if record is None:
                return None
            # An unsettled file is kept without its key: read again at the next look,
            # but its monitor's pid is known (waits watch the cached monitors' pidfds).
            settled = time.time_ns() - st.st_mtime_ns > _SETTLED_NS
            self._status_cache[container_id] = (key if settled else None, record)
            return record
        return cached[1]

    def state(self, record: ContainerRecord | str) -> ContainerState:
        if isinstance(record, ContainerRecord) and record.removing:
            return ContainerState(Status.REMOVING, error="its removal was interrupted; the "
                                  "next command finishes it")
        container_id = record if isinstance(record, str) else record.id
        status = self.status(container_id)
        if status is None:
            return ContainerState(Status.CREATED)
        name = status.status
        error = status.error
        if status.damaged:
            error = f"{status.damaged} (left as it is; `skiff rm -f` removes the container)"
        if name in ACTIVE and not self.monitor_alive(status.monitor_pid):
            # The cache may hold a record the monitor replaced within one mtime tick by
            # a file of the same size on a reused inode: read it afresh before judging.
            self._status_cache.pop(container_id, None)
            fresh = self.status(container_id)
            if fresh is not None and fresh != status:
                return self.state(record)
        if name in ACTIVE and not self.monitor_alive(status.monitor_pid):
            # the helper's verdict too, which it records when it next looks
            path = self._dir_text(container_id) + "/status.json"
            status = replace(status, **monitor_death(path, error))
            name, error = status.status, status.error
        exit_code = status.exit_code
        finished_at = status.finished_at
        if name == "running" and os.path.exists(self._dir_text(container_id) + "/paused"):
            name = "paused"
        return ContainerState(
            status=Status(name) if name in Status._value2member_map_ else Status.DEAD,
            pid=status.pid if name in ("running", "paused") else 0,
            exit_code=exit_code,
            oom_killed=status.oom_killed,
            started_at=status.started_at,
            finished_at=finished_at,
            error=error,
            restart_count=status.restart_count,
            stopped_by_user=status.stopped_by_user,
            signal=status.signal,
            health=status.health,
        )

    def active_monitor_pids(self, container_ids: Iterable[str]) -> list[int]:
        """The monitors of the containers whose status says they run (cheap: the status
        files are parsed again only when they changed)."""
        pids = []
        for container_id in container_ids:
            status = self.status(container_id)
            if status is not None and status.status in ACTIVE and status.monitor_pid:
                pids.append(status.monitor_pid)
        return pids

    def cached_monitor_pids(self, container_ids: Iterable[str]) -> list[int]:
        """The monitors of those containers that are active (from the cached statuses)."""
        pids = []
        for container_id in container_ids:
            cached = self._status_cache.get(container_id)
            if cached is not None and cached[1].status in ACTIVE:
                pids.append(cached[1].monitor_pid)
        return pids
