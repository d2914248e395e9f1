"""A container's monitor: the small process that outlives app, engine and helper.

``python -m engine.helper.runtime.monitor CONTAINER_DIR READY_FD``, exec'd by the
helper in its own session. It creates the container's cgroup, forks the
container (see ``init``), holds its stdout/stderr pipes and writes every line
to the log, reaps it (it is a child subreaper, so the container's init becomes
its child), records the exit status in ``status.json``, and restarts the
container as its restart policy says. It reports the first start on READY_FD
as one JSON line, then closes it.

Imports stay light: this runs for every container start.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.helper import syscalls
from engine.helper.cgroups import Limits, open_cgroup
from engine.helper.runtime import devices, init, mounts, proctitle, syscallfilter
from engine.helper.runtime.attachhub import AttachHub, short_path
from engine.helper.runtime.spec import ContainerDir, RuntimeSpec, device_mode
from engine.helper.runtime.stdin import Stdin, set_winsize
from engine.wire.attachstream import STDERR, STDOUT
from engine.wire.logformat import LogWriter, format_time

if TYPE_CHECKING:
    from engine.helper.runtime.health import Prober

__all__ = ["main", "run_monitor"]

_PR_SET_CHILD_SUBREAPER = 36
_F_SETPIPE_SZ = 1031
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class Run:
    """One run of the container: its init, output streams and input."""

    pid: int
    streams: dict[int, str]  # fd -> "stdout" | "stderr"
    stdin: int  # where attached input goes (-1: none)
    master: int  # the pty's master with a TTY, else -1


class StartFailure(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _now() -> str:
    return format_time(time.time_ns())


class Monitor:
    def __init__(self, cdir: ContainerDir, spec: RuntimeSpec, sources: list[int]) -> None:
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
            "status": "created", "pid": 0, "monitor_pid": os.getpid(), "exit_code": 0,
            "oom_killed": False, "started_at": "", "finished_at": "", "error": "",
            "restart_count": 0, "stopped_by_user": False, "signal": 0,
        }
        previous = cdir.read_status()
        self.status["restart_count"] = 0
        self.status["finished_at"] = previous.get("finished_at", "")
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.hub = AttachHub(_attach_listener(cdir))
        self.prober = self._prober()

    def _prober(self) -> Prober | None:
        """The healthcheck's prober, loaded only for a container that has one."""
        if not self.spec.healthcheck:
            return None
        from engine.helper.runtime.health import Prober

        paths = sorted({str(p) for p in self.cgroup.paths.values()})
        return Prober(self.cdir, self.spec, paths,
                      lambda state: self.record(health=json.loads(json.dumps(state))))

    # -- status -------------------------------------------------------------------
    def record(self, **changes: object) -> None:
        self.status.update(changes)
        self.cdir.write_status(self.status)

    # -- lifecycle ----------------------------------------------------------------
    def run(self, ready_fd: int) -> None:
        signal.set_wakeup_fd(self._wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        log_fd = os.open(self.cdir.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o640)  # the owner reads it by the dir's default ACL
        writer = LogWriter(log_fd, self.cdir.log, self.spec.log_max_size,
                           self.spec.log_max_files)
        first = True
        while True:
            try:
                run = self._spawn()
            except StartFailure as exc:
                if first:
                    _report(ready_fd, {"ok": False, "message": str(exc), "code": exc.code})
                self.cgroup.destroy()
                final: dict[str, object] = dict(exit_code=exc.code, error=str(exc))
                break
            self.cdir.journal("start", name=self.spec.name, image=self.spec.image)
            self.record(status="running", pid=run.pid, started_at=_now(), error="",
                        exit_code=0, oom_killed=False, signal=0, stopped_by_user=False)
            if first:
                _report(ready_fd, {"ok": True, "pid": run.pid})
                first = False
            if self.prober is not None:
                self.prober.begin(run.pid)
            wait_status = self._pump(run, writer)
            if self.prober is not None:
                self.prober.end()  # recorded with the exit below
                self.status["health"] = json.loads(json.dumps(self.prober.state))
            oom = self.cgroup.oom_killed()
            self.cgroup.destroy()
            stopped = self.cdir.stop_requested.exists()
            code, sig = _decode(wait_status)
            self.cdir.set_paused(False)
            final = dict(exit_code=code, signal=sig, oom_killed=oom, stopped_by_user=stopped)
            if oom:
                self.cdir.journal("oom", name=self.spec.name, image=self.spec.image)
            self.cdir.journal("die", name=self.spec.name, image=self.spec.image,
                              exitCode=str(code))
            if stopped or not self._should_restart(code):
                break
            # "restarting" is written at once, so followers never see a gap of "exited".
            self.record(status="restarting", pid=0, finished_at=_now(), **final)
            if not self._backoff():
                final["stopped_by_user"] = True
                break
            self.status["restart_count"] = int(str(self.status["restart_count"])) + 1
        os.close(log_fd)
        self.record(status="exited", pid=0, finished_at=_now(), **final)
        self.hub.finish(int(str(final["exit_code"])))
        _unlink(self.cdir.path / "attach.sock")
        # After "exited", so waiters learn it at once; a new start waits for this
        # process to end before it sets up the network again.
        self._release_network()

    def _release_network(self) -> None:
        if self.spec.network != "sandbox" or not (self.cdir.path / "network.json").exists():
            return
        try:
            from engine.helper.network.verbs import default_networking

            default_networking(self.cdir.path.parents[3], self.spec.owner_uid
                               ).cleanup_container(self.spec.id)
            _unlink(self.cdir.path / "network.json")
        except Exception as exc:  # the helper's repair finishes the job
            print(f"network cleanup failed: {exc}", file=sys.stderr, flush=True)

    def _reaped(self, pid: int, status: int) -> None:
        if self.prober is not None:
            self.prober.reaped(pid, status)

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

    def _backoff(self) -> bool:
        """Docker's doubling delay (100 ms, 200 ms, ...), cut short by a stop request."""
        count = int(str(self.status["restart_count"]))
        delay = min(0.1 * (2 ** count), 60.0)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if self.cdir.stop_requested.exists():
                return False
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return True

    # -- one run --------------------------------------------------------------------
    def _spawn(self) -> Run:
        spec = self.spec
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
        pid_r, pid_w = os.pipe2(os.O_CLOEXEC)
        pipes = init.ChildPipes(in_r, out_w, err_w, error_w, pid_w, pty_child)
        try:
            stage1 = os.fork()
            if stage1 == 0:
                init.stage1(spec, self.cdir, pipes, self.cgroup.add, binds, self.device_mode,
                            seccomp)
                os._exit(125)  # not reached
        finally:
            mounts.release(binds)  # the child has its own copies
        for fd in (*theirs, error_w, pid_w):
            os.close(fd)
        with os.fdopen(pid_r, "rb") as f:
            reported = f.read().strip()
        os.waitpid(stage1, 0)
        with os.fdopen(error_r, "rb") as f:
            failure = f.read()  # EOF when exec succeeded (the pipe is close-on-exec)
        master = -1
        if pty_parent is not None and not failure and reported:
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
        if failure or not reported:
            if reported:
                _wait_quietly(int(reported))
            for fd in ours:
                os.close(fd)
            try:
                info = json.loads(failure.decode().splitlines()[0])
            except (ValueError, IndexError):
                info = {"message": "the container's init process died during set-up",
                        "code": 125}
            raise StartFailure(info["message"], int(info["code"]))
        if master >= 0:
            return Run(int(reported), {master: "stdout"}, master, master)
        return Run(int(reported), {out_r: "stdout", err_r: "stderr"}, in_w, -1)

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

    def _pump(self, run: Run, writer: LogWriter) -> int:
        streams = dict(run.streams)
        hub = self.hub
        stdin = Stdin(run.stdin)
        hub.on_stdin = stdin.write
        hub.on_stdin_close = stdin.close if run.master < 0 else (lambda: None)
        hub.on_resize = (lambda rows, cols: set_winsize(run.master, rows, cols)) \
            if run.master >= 0 else (lambda rows, cols: None)
        kinds = {"stdout": STDOUT, "stderr": STDERR}
        for fd in streams:
            os.set_blocking(fd, False)
        wait_status: int | None = None
        drain_deadline = 0.0
        while streams or wait_status is None:
            timeout = 1.0 if wait_status is None else max(0.0, drain_deadline - time.monotonic())
            if stdin.backlog:
                timeout = min(timeout, 0.01)
            probes = self.prober.fds() if self.prober is not None else []
            if self.prober is not None and wait_status is None:
                timeout = min(timeout, self.prober.due_in())
            readers = [*streams, self._wake_r, *hub.fds(), *probes]
            try:
                ready, writable, _ = select.select(readers, hub.writers(), [], timeout)
            except InterruptedError:
                ready, writable = [], []
            for fd in writable:
                hub.writable(fd)
            for fd in ready:
                if fd == self._wake_r:
                    _drain(fd)
                    continue
                if fd in probes and self.prober is not None:
                    self.prober.readable(fd)
                    continue
                if fd not in streams:
                    hub.readable(fd)
                    continue
                try:
                    chunk = os.read(fd, _READ_SIZE)
                except BlockingIOError:
                    continue
                except OSError:  # EIO: every process holding the pty's slave is gone
                    chunk = b""
                if chunk:
                    writer.feed(streams[fd], chunk)
                    if hub.clients:
                        hub.send(kinds[streams[fd]], chunk)
                else:
                    os.close(fd)
                    del streams[fd]
            stdin.flush()
            if wait_status is None:
                wait_status = _reap(run.pid, self._reaped)
                if self.prober is not None and wait_status is None:
                    self.prober.tick()
                if wait_status is not None:
                    drain_deadline = time.monotonic() + 5.0
            elif time.monotonic() >= drain_deadline:
                break  # a process outside the namespace holds the pipe: stop reading it
        for fd in streams:
            os.close(fd)
        stdin.close()
        writer.flush()
        return wait_status


def _reap(pid: int, others: Callable[[int, int], object] = lambda pid, status: None
          ) -> int | None:
    """Reap every exited child (we are a subreaper); the status of ``pid`` if it exited.
    Any other child's goes to ``others`` (a healthcheck's probe is one)."""
    found = None
    while True:
        try:
            child, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if child == 0:
            return found
        if child == pid:
            found = status
        else:
            others(child, status)


def _wait_quietly(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _decode(status: int) -> tuple[int, int]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return 128 + sig, sig
    return os.WEXITSTATUS(status), 0


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _unlink(path: os.PathLike[str]) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _report(fd: int, message: dict[str, object]) -> None:
    try:
        os.write(fd, json.dumps(message).encode() + b"\n")
        os.close(fd)
    except OSError:
        pass  # the helper went away: the status file tells the truth anyway


def main(argv: list[str]) -> int:
    """``monitor CONTAINER_DIR READY_FD [ATTACH_FD [SOURCE_FD,...]]``"""
    sources = [int(fd) for fd in argv[4].split(",") if fd] if len(argv) > 4 else []
    return run_monitor(argv[1], int(argv[2]), int(argv[3]) if len(argv) > 3 else -1, sources)


def _attach_listener(cdir: ContainerDir) -> socket.socket:
    """``skiff attach`` comes through the helper, which connects here (root only)."""
    path = cdir.path / "attach.sock"
    _unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    old = os.umask(0o177)
    try:
        with short_path(path) as short:
            listener.bind(short)
    finally:
        os.umask(old)
    listener.listen(8)
    return listener


def run_monitor(container_dir: str, ready_fd: int, attach_fd: int = -1,
                sources: list[int] | None = None) -> int:
    """Be the monitor of the container in ``container_dir`` until it is done;
    ``sources`` are the open descriptors of its binds and volumes, in order."""
    syscalls.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    proctitle.set_title(f"skiff-monitor {Path(container_dir).name[:12]}")
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    cdir = ContainerDir(Path(container_dir))
    monitor = Monitor(cdir, cdir.read_spec(), list(sources or []))
    if attach_fd >= 0:  # `run -it`: attached from the first byte on
        monitor.hub.add(socket.socket(fileno=attach_fd))
    try:
        monitor.run(ready_fd)
    except BaseException as exc:  # record why, so `skiff ps` can say it
        monitor.record(status="exited", pid=0, exit_code=125, error=f"monitor failed: {exc}",
                       finished_at=_now())
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
