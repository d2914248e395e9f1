"""A container's monitor: the small process that outlives app, engine and helper.

``python -m engine.helper.runtime.monitor CONTAINER_DIR READY_FD``, exec'd by the
helper in its own session. It creates the container's cgroup, forks the
container (see ``init``), holds its stdout/stderr pipes and writes every line
to the log, reaps it (it is a child subreaper, so the container's init becomes
its child), records the exit status in ``status.json``, and restarts the
container as its restart policy says. It reports the first start on READY_FD
as one JSON line, then closes it.

Each start (``Monitor.start``) and each end (``end_run``) runs in a child of the
monitor forked for it; the monitor itself only runs the loop of supervisor.py,
so that it keeps little memory of its own (see there).

Imports stay light: this runs for every container start.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.helper.cgroups import Limits, open_cgroup
from engine.helper.runtime import devices, init, mounts, netrelease, proctitle, syscallfilter
from engine.helper.runtime.attachhub import AttachHub, attach_listener
from engine.helper.runtime.devices import device_mode
from engine.helper.runtime.kernel import LINUX
from engine.helper.runtime.loopproxy import start_relay, stop_relay
from engine.helper.runtime.spec import ContainerDir, RuntimeSpec
from engine.helper.runtime.supervisor import Apart, InPlace, Pump, Run, wake_pipe
from engine.wire.logformat import LogWriter, format_time

if TYPE_CHECKING:
    from engine.helper.runtime.health import Prober

__all__ = ["ignore_signals", "main", "run_monitor"]

_PR_SET_CHILD_SUBREAPER = 36
_F_SETPIPE_SZ = 1031


class StartFailure(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _now() -> str:
    return format_time(time.time_ns())


class Monitor:
    """A run's start and end, each in a child of the monitor (which holds none of this)."""

    def __init__(self, cdir: ContainerDir, spec: RuntimeSpec, sources: list[int],
                 restarts: int = 0, monitor_pid: int = 0) -> None:
        self.cdir = cdir
        self.spec = spec
        # One open descriptor per bind and volume of the spec, in order: every run
        # mounts these very files, whatever their paths name by then.
        self.sources = sources
        for fd in sources:
            os.set_inheritable(fd, False)
        self.device_mode = device_mode(spec)
        self.cgroup = open_cgroup(spec.id, spec.cgroup_parent)
        self.status: dict[str, object] = {
            "status": "created", "pid": 0, "monitor_pid": monitor_pid or os.getpid(),
            "exit_code": 0,
            "oom_killed": False, "started_at": "", "finished_at": "", "error": "",
            "restart_count": 0, "stopped_by_user": False, "signal": 0,
        }
        previous = cdir.read_status()
        self.status["restart_count"] = restarts
        self.status["finished_at"] = previous.get("finished_at", "")
        if restarts and "health" in previous:  # a restart goes on with its health log
            self.status["health"] = previous["health"]

    # -- status -------------------------------------------------------------------
    def record(self, **changes: object) -> None:
        self.status.update(changes)
        self.cdir.write_status(self.status)

    # -- lifecycle ----------------------------------------------------------------
    def start(self, ready_fd: int, first: bool) -> tuple[dict[str, Any], list[int]]:
        """Start a run (in a child of the monitor); what the monitor needs of it: the
        init's pid and the descriptors of its streams, or the failure's exit code (told
        on ``ready_fd`` too: a start is told there by the monitor, see _supervise)."""
        try:
            run = self._spawn()
        except StartFailure as exc:
            # Recorded before the failure is reported: whoever the helper answers reads
            # the exit code next (before, it sometimes still found "created", code 0).
            self.cgroup.destroy()
            self.release_network()
            self.record(status="exited", pid=0, finished_at=_now(), exit_code=exc.code,
                        error=str(exc))
            if first:
                _report(ready_fd, {"ok": False, "message": str(exc), "code": exc.code})
            return {"ok": False, "code": exc.code}, []
        fds = list(run.streams)
        if run.stdin >= 0 and run.stdin not in fds:
            fds.append(run.stdin)
        listener = -1
        if first:  # where `skiff attach` comes in, for every run
            fds.append(attach_listener(self.cdir.path / "attach.sock").detach())
            listener = len(fds) - 1
        self.cdir.journal("start", name=self.spec.name, image=self.spec.image)
        self.record(status="running", pid=run.pid, started_at=_now(), error="",
                    exit_code=0, oom_killed=False, signal=0, stopped_by_user=False)
        return {"ok": True, "pid": run.pid, "streams": [run.streams[fd] for fd in run.streams],
                "stdin": fds.index(run.stdin) if run.stdin >= 0 else -1,
                "master": fds.index(run.master) if run.master >= 0 else -1,
                "listener": listener,
                "log": [self.spec.log_max_size, self.spec.log_max_files],
                "log_discard": self.spec.log_discard,
                "healthcheck": bool(self.spec.healthcheck),
                "restart_policy": self.spec.restart_policy,
                "cgroups": sorted({str(p) for p in self.cgroup.paths.values()})}, fds

    def end(self, wait_status: int, health: dict[str, Any] | None) -> dict[str, Any]:
        """After a run (in a child of the monitor): record how it ended; whether to
        start it again, with what the final record needs if it is not."""
        oom = self.cgroup.oom_killed()
        self.cgroup.destroy()
        stopped = self.cdir.stop_requested.exists()
        code, sig = _decode(wait_status)
        self.cdir.set_paused(False)
        if health is not None:
            self.status["health"] = health
        final: dict[str, Any] = dict(exit_code=code, signal=sig, oom_killed=oom,
                                     stopped_by_user=stopped)
        if oom:
            self.cdir.journal("oom", name=self.spec.name, image=self.spec.image)
        self.cdir.journal("die", name=self.spec.name, image=self.spec.image,
                          exitCode=str(code))
        if stopped or not self._should_restart(code):
            # The network goes after the record (release_network, by the caller), which
            # run --rm waits for: its removal goes on beside the release (3-28 ms under
            # load). stop and start wait for this monitor; network rm releases it too.
            self.record(status="exited", pid=0, finished_at=_now(), **final)
            return {"restart": False, "final": final}
        # "restarting" is written at once, so followers never see a gap of "exited".
        self.record(status="restarting", pid=0, finished_at=_now(), **final)
        return {"restart": True, "final": final}

    def release_network(self) -> None:
        """Release the container's network (its endpoints, addresses and sandbox), once
        it has stopped for good; the helper's repair finishes what this leaves."""
        stop_relay()  # and its ports are free: a start may follow at once
        if self.spec.network == "sandbox":
            netrelease.release_network(self.cdir.path, self.spec.id, self.spec.owner_uid)

    def _should_restart(self, code: int) -> bool:
        self._reload_spec()
        policy = self.spec.restart_policy
        if policy in ("always", "unless-stopped"):
            return True
        if policy == "on-failure" and code != 0:
            count = int(str(self.status["restart_count"]))
            return self.spec.restart_max == 0 or count < self.spec.restart_max
        return False

    def _reload_spec(self) -> None:
        """docker update may have changed the restart policy and the limits since the
        start (engine/helper/limits.py): the next run follows the spec as it is now."""
        try:
            self.spec = self.cdir.read_spec()
        except (OSError, ValueError, TypeError, KeyError):
            pass  # unreadable: keep the spec this monitor started with

    # -- one run --------------------------------------------------------------------
    def _spawn(self) -> Run:
        spec = replace(self.spec, env=self.cdir.run_env(self.spec.env))
        seccomp = self._seccomp()
        self.cgroup.create(Limits(
            memory=spec.memory, nano_cpus=spec.nano_cpus, pids=spec.pids_limit,
            cpu_shares=spec.cpu_shares,
            devices=devices.CGROUP_RULES + devices.device_rules(spec.binds, self.sources)
            if self.device_mode == "cgroup" else None))
        ours: list[int] = []  # our ends, closed if the start fails
        theirs: list[int] = []  # the container's ends, closed once it has them
        out_r = out_w = err_r = err_w = in_r = in_w = -1
        pty_parent: socket.socket | None = None
        pty_child = -1
        if spec.tty:
            pty_parent, child_sock = socket.socketpair()
            pty_child = child_sock.detach()
            theirs.append(pty_child)
        else:
            out_r, out_w = os.pipe2(os.O_CLOEXEC)
            err_r, err_w = os.pipe2(os.O_CLOEXEC)
            for fd in (out_r, err_r):
                try:
                    fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)
                except OSError:
                    pass
            ours += [out_r, err_r]
            theirs += [out_w, err_w]
            if spec.open_stdin:
                in_r, in_w = os.pipe2(os.O_CLOEXEC)
                ours.append(in_w)
                theirs.append(in_r)
        try:
            binds = self._binds()
        except (OSError, mounts.MountError) as exc:
            for fd in (*ours, *theirs):
                os.close(fd)
            if pty_parent is not None:
                pty_parent.close()
            message = str(exc) if isinstance(exc, mounts.MountError) else \
                f"cannot prepare the container's mounts: {exc.strerror or exc}"
            raise StartFailure(message, 125) from None
        error_r, error_w = os.pipe2(os.O_CLOEXEC)
        pipes = init.ChildPipes(in_r, out_w, err_w, error_w, pty_child)
        try:
            pid = init.start_init(spec, self.cdir, pipes, self.cgroup.join, binds,
                                  self.device_mode, seccomp)
        except OSError as exc:
            for fd in (*ours, *theirs, error_r, error_w):
                os.close(fd)
            if pty_parent is not None:
                pty_parent.close()
            raise StartFailure(f"container set-up failed: {exc.strerror or exc}", 125) from None
        finally:
            mounts.release(binds)  # the child has its own copies
        for fd in (*theirs, error_w):
            os.close(fd)
        with os.fdopen(error_r, "rb") as f:
            failure = f.read()  # EOF once PID 1 has exec'd (the pipe is close-on-exec) or died
        init.linger_for_tests()
        master = -1
        if pty_parent is not None and not failure:
            pty_parent.settimeout(5)
            try:
                _, fds, _, _ = socket.recv_fds(pty_parent, 1, 1)
                master = fds[0] if fds else -1
            except OSError:
                master = -1
            if master < 0:
                failure = b'{"message": "the container did not open its terminal", "code": 125}'
        if pty_parent is not None:
            pty_parent.close()
        if failure:
            for fd in ours:
                os.close(fd)
            try:
                info = json.loads(failure.decode().splitlines()[0])
            except (ValueError, IndexError):
                info = {"message": "the container's init process died during set-up",
                        "code": 125}
            raise StartFailure(info["message"], int(info["code"]))
        if master >= 0:
            return Run(pid, {master: "stdout"}, master, master)
        return Run(pid, {out_r: "stdout", err_r: "stderr"}, in_w, -1)

    def _binds(self) -> list[mounts.BindMount]:
        """This run's mounts: fresh trees of the same sources every time."""
        files: list[tuple[int, str]] = []
        try:
            for name, target in (("hosts", "/etc/hosts"), ("hostname", "/etc/hostname"),
                                 ("resolv.conf", "/etc/resolv.conf")):
                try:
                    files.append((os.open(self.cdir.path / name,
                                          os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC), target))
                except FileNotFoundError:
                    continue
            return mounts.prepare_binds(self.spec.binds, self.sources, files,
                                        owner_uid=self.spec.owner_uid,
                                        device_mode=self.device_mode)
        finally:
            for fd, _ in files:
                os.close(fd)

    def _seccomp(self) -> syscallfilter.Program | None:
        """The filter the helper compiled for this container; without it, no start."""
        if self.spec.seccomp == "unconfined":
            return None
        try:
            return syscallfilter.read(self.cdir.seccomp)
        except (OSError, ValueError) as exc:
            raise StartFailure(f"cannot read the container's seccomp filter: {exc}; start "
                               "it again to have it compiled anew", 125) from None


def _decode(status: int) -> tuple[int, int]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return 128 + sig, sig
    return os.WEXITSTATUS(status), 0


def _unlink(path: os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _report(fd: int, message: dict[str, object]) -> None:
    try:
        os.write(fd, json.dumps(message).encode() + b"\n")
        os.close(fd)
    except OSError:
        pass  # the helper went away: the status file tells the truth anyway


def ignore_signals() -> None:
    """What a monitor ignores. The zygote ignores them once for every monitor it forks:
    the calls cost each monitor ~0.1 MB of its USS (benchmarks/monitor_memory.py)."""
    for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def main(argv: list[str]) -> int:
    """``monitor CONTAINER_DIR READY_FD [ATTACH_FD [SOURCE_FD,...]]``"""
    ignore_signals()
    sources = [int(fd) for fd in argv[4].split(",") if fd] if len(argv) > 4 else []
    return run_monitor(argv[1], int(argv[2]), int(argv[3]) if len(argv) > 3 else -1, sources)


def run_monitor(container_dir: str, ready_fd: int, attach_fd: int = -1,
                sources: list[int] | None = None) -> int:
    """Be the monitor of the container in ``container_dir`` until it is done;
    ``sources`` are the open descriptors of its binds and volumes, in order."""
    LINUX.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    proctitle.set_title(f"skiff-monitor {Path(container_dir).name[:12]}")
    cdir = ContainerDir(Path(container_dir))
    hub = AttachHub(None)  # its listener comes with the first start
    if attach_fd >= 0:  # `run -it`: attached from the first byte on
        hub.add(socket.socket(fileno=attach_fd))
    start_relay(cdir.path)  # its ports on ::1, which no DNAT rule can take
    try:
        code, ending = _supervise(cdir, hub, ready_fd, list(sources or []))
    except BaseException as exc:  # record why, so `skiff ps` can say it
        status = cdir.read_status()
        status.update(status="exited", pid=0, exit_code=125, error=f"monitor failed: {exc}",
                      finished_at=_now())
        cdir.write_status(status)
        raise
    hub.finish(code)
    _unlink(cdir.path / "attach.sock")
    if ending is not None:
        ending.wait()
    return 0


def _supervise(cdir: ContainerDir, hub: AttachHub, ready_fd: int,
               sources: list[int]) -> tuple[int, Apart | InPlace | None]:
    """Run the container until it is done; its last exit code, and the child that
    recorded its end and goes on to release the network (to wait for before this
    process ends: a new start waits for that)."""
    pump = Pump(hub, wake_pipe())
    log_fd = os.open(cdir.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o640)  # the owner reads it by the dir's default ACL
    writer: LogWriter | None = None
    restarts = 0
    try:
        while True:
            first = writer is None
            started = _start(cdir, sources, restarts, ready_fd if first else -1)
            info = started.result
            if not info["ok"]:
                started.wait()
                if first:
                    _close(ready_fd)  # our copy: the child told the helper
                return int(info["code"]), None
            run = _run_of(info, started.fds)
            if info["listener"] >= 0:
                hub.listen(socket.socket(fileno=started.fds[info["listener"]]))
            if writer is None and info.get("log_discard"):  # the "none" driver
                devnull = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
                os.dup2(devnull, log_fd, inheritable=False)
                os.close(devnull)
                writer = LogWriter(log_fd)
            elif writer is None:
                writer = LogWriter(log_fd, cdir.log, *info["log"])
            if first:
                # Told once we copy its output: a client that reads the log right
                # after the start then finds what the command wrote meanwhile (the
                # output of docker-py's "start, then logs" came ~10 ms late, here).
                # (A healthcheck's prober, and its import, come after: as before.)
                _report(ready_fd, {"ok": True, "pid": run.pid})
            started.wait()  # reaped after the report: its exit is no part of the start
            if info["healthcheck"] and pump.prober is None:
                pump.prober = _prober(cdir, info["cgroups"])
            if pump.prober is not None:
                pump.prober.begin(run.pid)
            wait_status = pump.run(run, writer)
            health = None
            if pump.prober is not None:
                pump.prober.end()  # recorded with the exit below
                health = json.loads(json.dumps(pump.prober.state))
            # Without a restart policy (as it was at the start: `docker update` may have
            # set one since, which end() reads) this end is the monitor's last step.
            ending = _end(cdir, wait_status, health, restarts,
                          last=info.get("restart_policy", "no") == "no")
            final = ending.result["final"]
            if ending.result["restart"]:
                ending.wait()
                if _backoff(cdir, restarts):
                    restarts += 1
                    continue
                final["stopped_by_user"] = True
                ending = _end(cdir, None, health, restarts, final, last=True)
            return int(final["exit_code"]), ending
    finally:
        os.close(log_fd)


def _start(cdir: ContainerDir, sources: list[int], restarts: int, ready_fd: int) -> Apart:
    """Start a run in a child, which the caller reaps (after it told the start: that
    child's exit is no part of it); ``ready_fd`` (the first start only) gets its report."""
    monitor_pid = os.getpid()

    def work() -> tuple[dict[str, Any], list[int]]:
        monitor = Monitor(cdir, cdir.read_spec(), sources, restarts, monitor_pid)
        return monitor.start(ready_fd, ready_fd >= 0)

    return Apart(work)


def _end(cdir: ContainerDir, wait_status: int | None, health: dict[str, Any] | None,
         restarts: int, final: dict[str, Any] | None = None, *,
         last: bool = False) -> Apart | InPlace:
    """Record the run's end, then release the network unless the container starts
    again: in a child, or (``last``: the monitor exits next) here, where the release
    waits for ``wait()``, after the attached clients have the exit code. ``final``:
    the end of a restart a stop cut short."""
    ended: list[Monitor] = []  # the monitor whose container stopped for good

    def work() -> tuple[dict[str, Any], list[int]]:
        monitor = Monitor(cdir, cdir.read_spec(), [], restarts)
        monitor.status.update(cdir.read_status())  # as the run's start left it
        if final is not None:
            monitor.record(status="exited", pid=0, finished_at=_now(), **final)
            result = {"restart": False, "final": final}
        else:
            assert wait_status is not None
            result = monitor.end(wait_status, health)
        if not result["restart"]:
            ended.append(monitor)
        return result, []

    def release() -> None:
        for monitor in ended:
            monitor.release_network()

    return InPlace(work, release) if last else Apart(work, release)


def _run_of(info: dict[str, Any], fds: list[int]) -> Run:
    streams = {fd: kind for fd, kind in zip(fds, info["streams"], strict=False)}
    stdin = fds[info["stdin"]] if info["stdin"] >= 0 else -1
    master = fds[info["master"]] if info["master"] >= 0 else -1
    return Run(int(info["pid"]), streams, stdin, master)


def _prober(cdir: ContainerDir, cgroups: list[str]) -> Prober:
    """The healthcheck's prober, loaded only for a container that has one."""
    from engine.helper.runtime.health import Prober

    def record(state: dict[str, Any]) -> None:
        status = cdir.read_status()
        status["health"] = json.loads(json.dumps(state))
        cdir.write_status(status)

    return Prober(cdir, cdir.read_spec(), cgroups, record)


def _backoff(cdir: ContainerDir, restarts: int) -> bool:
    """Docker's doubling delay (100 ms, 200 ms, ...), cut short by a stop request."""
    delay = min(0.1 * (2 ** restarts), 60.0)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        if cdir.stop_requested.exists():
            return False
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return True


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
