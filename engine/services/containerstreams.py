"""The part of ``engine.containers`` that hands out a container's streams and
processes: attach, start with the output attached, exec, logs, top.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from engine.containers.attachsession import AttachSession
from engine.containers.execsession import ExecSession
from engine.containers.logs import read_log
from engine.containers.model import LogLine, ProcessInfo
from engine.containers.pstable import DEFAULT_PS_ARGS, ProcessTable, run_ps
from engine.containers.state import Status
from engine.containers.store import ContainerRecord
from engine.errors import ContainerNotFound, ContainerStartError, InvalidArgument, InvalidState
from engine.services.containerbase import ContainerBase, refuse_removing
from engine.timestamps import parse_timestamp
from engine.wire.requests import (
    ContainerAttach,
    ContainerClearLog,
    ContainerCreate,
    ContainerExec,
)

__all__ = ["ContainerStreams", "parse_since"]


class ContainerStreams(ContainerBase):
    async def start_attached(self, ref: str) -> AttachSession:
        """Start it with its output (and, with open_stdin, input) in our hands from the
        first byte: docker's ``run -it`` and ``start -ai``."""
        record = self._find(ref)
        async with self._lock(record.id):
            status = self._state(record).status
            if status.is_active:
                raise InvalidState(f"container {record.name} is already running; use attach")
            refuse_removing(record)
            with await self._bind_sources(record, start=True) as sources:
                request = self._start_request(record, sources.sources, attach=True)
                try:
                    fds = await self._s.call(request, sources.fds)
                except ContainerNotFound:
                    await self._s.call(ContainerCreate(id=record.id, spec=record.spec))
                    fds = await self._s.call(request, sources.fds)
            assert fds
            return AttachSession(fds[0], record.config.tty)

    async def attach(self, ref: str) -> AttachSession:
        """Join a running container's output and input (docker attach)."""
        record = self._find(ref)
        if not self._state(record).status.is_active:
            raise InvalidState("You cannot attach to a stopped container, start it first")
        fds = await self._s.call(ContainerAttach(id=record.id))
        assert fds
        return AttachSession(fds[0], record.config.tty)

    async def exec_create(self, ref: str, cmd: Sequence[str]) -> str:
        """Check that ``cmd`` can run in the container now and journal exec_create
        (docker's POST /containers/{id}/exec); the ID returned names the exec in its
        events, and is ``exec``'s ``exec_id``."""
        record = self._exec_target(ref, cmd)
        exec_id = os.urandom(32).hex()
        self._s.emit_container(record, f"exec_create: {' '.join(cmd)}", execID=exec_id)
        return exec_id

    def _exec_target(self, ref: str, cmd: Sequence[str]) -> ContainerRecord:
        record = self._find(ref)
        status = self._state(record).status
        if status is Status.PAUSED:
            raise InvalidState(f"Container {record.id} is paused, unpause the container "
                               "before exec")
        if not status.can_exec():
            raise InvalidState(f"Container {record.id} is not running")
        if not cmd:
            raise InvalidArgument("exec needs a command")
        return record

    async def exec(self, ref: str, cmd: Sequence[str], *, tty: bool = False,
                   env: Sequence[str] = (), user: str = "", workdir: str = "",
                   rows: int = 0, cols: int = 0, exec_id: str = "") -> ExecSession:
        """Start ``cmd`` in the running container; raises ContainerStartError (126/127).
        Journals exec_create (unless ``exec_id`` comes from ``exec_create``), exec_start
        and, when the process ends, exec_die with its exit code, as dockerd does."""
        record = self._exec_target(ref, cmd)
        if workdir and not workdir.startswith("/"):
            raise InvalidArgument(f"the working directory '{workdir}' is invalid: it needs to "
                                  "be an absolute path")
        if not exec_id:
            exec_id = await self.exec_create(record.id, cmd)
        self._s.emit_container(record, f"exec_start: {' '.join(cmd)}", execID=exec_id)

        def died(code: int) -> None:
            self._s.emit_container(record, "exec_die", execID=exec_id, exitCode=str(code))

        try:
            fds = await self._s.call(ContainerExec(
                id=record.id, args=list(cmd), env=list(env), user=user, cwd=workdir,
                tty=tty, rows=rows, cols=cols))
        except ContainerStartError as exc:
            died(exc.exit_code)
            raise
        assert fds
        return ExecSession(fds, tty, exec_id, on_exit=died)

    async def logs(self, ref: str, *, follow: bool = False, tail: int | None = None,
                   since: str | None = None, until: str | None = None
                   ) -> AsyncIterator[LogLine]:
        """The container's output lines (``follow``: then as they come, across restarts,
        until it stops for good)."""
        record = self._find(ref)
        if record.config.log_driver == "none":
            raise InvalidArgument("configured logging driver does not support reading")

        async def running() -> bool:
            try:
                return self._state(self._find(record.id)).status.is_active
            except ContainerNotFound:
                return False

        async for line in read_log(self._dir(record.id) / "ctr.log", follow=follow, tail=tail,
                                   since_ns=parse_since(since), until_ns=parse_since(until),
                                   running=running):
            yield line

    async def log_path(self, ref: str) -> Path:
        """The container's CRI-format log file (see engine/wire/logformat.py),
        readable by the caller; the desktop log view indexes it directly."""
        return self._dir(self._find(ref).id) / "ctr.log"

    async def clear_logs(self, ref: str) -> None:
        """Delete what the container wrote to its log so far (its rotated files too);
        what it writes next starts the log again. Readers following it go on."""
        await self._s.call(ContainerClearLog(id=self._find(ref).id))

    async def top(self, ref: str) -> list[ProcessInfo]:
        """The container's processes, with their CPU share since the last call."""
        import psutil

        container_id, pids = await self._running_pids(ref)
        # psutil measures a process's CPU share between two calls on the same object:
        # keep them from one call to the next, or every share reads 0.0.
        known = self._top_procs.get(container_id, {})
        kept: dict[int, Any] = {}
        result = []
        for pid in sorted(pids):
            try:
                proc = known.get(pid)
                if proc is None or not proc.is_running():
                    proc = psutil.Process(pid)
                kept[pid] = proc
                with proc.oneshot():
                    result.append(ProcessInfo(pid, proc.username(),
                                              " ".join(proc.cmdline()) or proc.name(),
                                              proc.cpu_percent(), proc.memory_info().rss))
            except psutil.Error:
                continue
        self._top_procs[container_id] = kept
        return result

    async def ps(self, ref: str, ps_args: str = DEFAULT_PS_ARGS) -> ProcessTable:
        """docker's ``top``: the host's ``ps`` with these options (``-ef`` if empty),
        only this container's rows."""
        _, pids = await self._running_pids(ref)
        return await run_ps(ps_args, pids)

    async def _running_pids(self, ref: str) -> tuple[str, list[int]]:
        """The running container's id and the host pids in its cgroup."""
        from engine.cgroups import open_cgroup

        container = await self.get(ref)
        if not container.state.running:
            raise InvalidState(f"Container {container.id} is not running")
        return container.id, open_cgroup(container.id, self._s.helper.cgroup_parent).procs()


def parse_since(value: str | None) -> int | None:
    """docker's --since/--until (see engine.timestamps); None when not given."""
    return parse_timestamp(value) if value else None
