"""A container's healthcheck, run by its monitor on schedule (Docker's rules).

Loaded only for a container that has one (the monitor stays lean otherwise).
Each probe is a child of the monitor that enters the container as ``exec``
does (namespaces, cgroup, user namespace, user, capabilities, seccomp) and
forks the probe command inside; that child collects the command's output
(the first 4096 bytes), kills it at the timeout, reaps it and writes one JSON
result line to the monitor. The monitor reaps the child (``reaped``), so no
probe ever stays a zombie, and records ``State.Health`` in ``status.json``
with a ``health_status`` event when the status changes.

Docker's rules: the first probe runs one interval after the start (the start
interval while starting within the start period); exit 0 is healthy and
resets the failing streak; any other result adds to the streak (not while
starting within the start period), and ``retries`` failures in a row make it
unhealthy; a probe past its timeout or that cannot run counts as exit -1.
When the container stops the status becomes unhealthy, as Docker's does.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from engine.helper.cgroups import join_file
from engine.helper.runtime import devices, execproc, hostlimits, init, syscallfilter, users
from engine.helper.runtime.devices import device_mode
from engine.helper.runtime.kernel import LINUX
from engine.helper.runtime.spec import ContainerDir, RuntimeSpec
from engine.timestamps import go_duration
from engine.wire.healthstate import MAX_LOG, MAX_OUTPUT
from engine.wire.logformat import format_time

__all__ = ["Prober"]

SECOND = 1_000_000_000


class Prober:
    """The schedule and the state of one container's probes, driven by the monitor's loop."""

    def __init__(self, cdir: ContainerDir, spec: RuntimeSpec, cgroup_paths: list[str],
                 record: Callable[[dict[str, Any]], None]) -> None:
        assert spec.healthcheck is not None
        self.cdir = cdir
        self.spec = spec
        self.check = spec.healthcheck
        self.cgroup_paths = cgroup_paths
        self.record = record  # writes status.json's "health"
        previous = cdir.read_status().get("health")
        old = previous if isinstance(previous, dict) else {}
        streak = old.get("FailingStreak", 0)
        log = old.get("Log", [])
        self.state: dict[str, Any] = {
            "Status": "starting",
            "FailingStreak": streak if isinstance(streak, int) else 0,
            "Log": log[-MAX_LOG:] if isinstance(log, list) else []}
        self.pid = 0  # the container's init
        self.started = 0.0  # monotonic time of this run's start
        self.next_at = float("inf")
        self.child = 0  # the running probe's entering process
        self.result_r = -1
        self.result = b""
        self.probe_started = ""
        self.probe_started_mono = 0.0

    # -- the monitor's loop ----------------------------------------------------------
    def begin(self, pid: int) -> None:
        """A run of the container started: health is "starting" again."""
        self.pid = pid
        self.started = time.monotonic()
        self.state["Status"] = "starting"
        self.record(self.state)
        self.next_at = self.started + self._interval()

    def due_in(self) -> float:
        if self.child:
            return 1.0
        return max(0.0, self.next_at - time.monotonic())

    def fds(self) -> list[int]:
        return [self.result_r] if self.result_r >= 0 else []

    def readable(self, fd: int) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            self.result += chunk
        else:
            os.close(fd)
            self.result_r = -1

    def tick(self) -> None:
        if not self.child and self.pid and time.monotonic() >= self.next_at:
            self._launch()

    def reaped(self, pid: int, status: int) -> bool:
        """The monitor reaped ``pid``: ours if it is the probe's, then its result counts."""
        if pid != self.child or not pid:
            return False
        self.child = 0
        self._finish()
        return True

    def end(self) -> None:
        """The run ended: stop a probe in flight; unhealthy, as Docker says of a stopped one."""
        if self.child:
            try:
                os.kill(self.child, signal.SIGKILL)
                os.waitpid(self.child, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.child = 0
        if self.result_r >= 0:
            os.close(self.result_r)
            self.result_r = -1
        self.pid = 0
        self.next_at = float("inf")
        self.state["Status"] = "unhealthy"

    # -- one probe -------------------------------------------------------------------
    def _interval(self) -> float:
        within = time.monotonic() - self.started < self.check["start_period"] / SECOND
        if within and self.state["Status"] == "starting":
            return float(self.check["start_interval"]) / SECOND
        return float(self.check["interval"]) / SECOND

    def _launch(self) -> None:
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        self.probe_started = format_time(time.time_ns())
        self.probe_started_mono = time.monotonic()
        child = os.fork()
        if child == 0:
            os.close(read_end)
            code = 0
            try:
                _probe(self.spec, self.cdir, self.pid, self.cgroup_paths, write_end)
            except BaseException:
                code = 1
            os._exit(code)
        os.close(write_end)
        os.set_blocking(read_end, False)
        self.child, self.result_r, self.result = child, read_end, b""

    def _finish(self) -> None:
        if self.result_r >= 0:
            while self.result_r >= 0:  # the child is gone: the rest is in the pipe
                self.readable(self.result_r)
        try:
            result = json.loads(self.result.decode(errors="replace").splitlines()[0])
            code, output = int(result["code"]), str(result["output"])
        except (ValueError, IndexError, KeyError, TypeError):
            code, output = -1, "the health check could not run"
        self.result = b""
        entry = {"Start": self.probe_started, "End": format_time(time.time_ns()),
                 "ExitCode": code, "Output": output[:MAX_OUTPUT]}
        old = self.state["Status"]
        if code == 0:
            self.state["FailingStreak"] = 0
            self.state["Status"] = "healthy"
        else:
            within = self.probe_started_mono - self.started < self.check["start_period"] / SECOND
            if not (old == "starting" and within):
                self.state["FailingStreak"] += 1
                if self.state["FailingStreak"] >= self.check["retries"]:
                    self.state["Status"] = "unhealthy"
        self.state["Log"] = [*self.state["Log"], entry][-MAX_LOG:]
        self.record(self.state)
        if self.state["Status"] != old:
            self.cdir.journal(f"health_status: {self.state['Status']}", name=self.spec.name,
                              image=self.spec.image)
        self.next_at = time.monotonic() + self._interval()


def _probe(spec: RuntimeSpec, cdir: ContainerDir, pid: int, cgroup_paths: list[str],
           result_fd: int) -> None:
    """In the monitor's child: enter the container, run the probe, write its result."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    check = spec.healthcheck
    assert check is not None
    timeout = check["timeout"] / SECOND
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    error_r, error_w = os.pipe2(os.O_CLOEXEC)
    # before the root changes
    keep = devices.container_capabilities(device_mode(spec), spec.capabilities)
    env = cdir.run_env(spec.env)
    try:
        seccomp = None if spec.seccomp == "unconfined" else syscallfilter.read(cdir.seccomp)
        procs = [os.open(join_file(path), os.O_WRONLY | os.O_CLOEXEC) for path in cgroup_paths]
        namespaces = [(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), flag)
                      for name, flag in execproc.NAMESPACES]
        userns_fd = execproc.own_userns(pid)
        for fd, flag in namespaces:
            LINUX.setns(fd, flag)
            os.close(fd)
    except OSError as exc:
        _write(result_fd, -1, f"cannot enter the container: {exc.strerror or exc}")
        return
    child = os.fork()
    if child == 0:
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            for fd in procs:
                os.write(fd, b"0")
            hostlimits.apply_ulimits(spec.ulimits)  # the container's, as an exec gets them
            init.become_and_exec(args=check["args"], env=env, user_spec=spec.user,
                                 cwd=spec.cwd or "/", hostname=spec.hostname,
                                 error_fd=error_w, create_cwd=False, seccomp=seccomp,
                                 userns_fd=userns_fd,
                                 keep=keep, group_add=tuple(spec.group_add))
        except init.SetupError as exc:
            init.fail(error_w, str(exc), exc.code)
        except users.UserNotFound as exc:
            init.fail(error_w, str(exc), 126)
        except BaseException as exc:
            init.fail(error_w, f"exec failed: {exc}", 126)
    for fd in (out_w, error_w, *procs):
        os.close(fd)
    with os.fdopen(error_r, "rb") as f:
        failure = f.read()  # EOF once the command was exec'd
    if failure:
        os.waitpid(child, 0)
        try:
            message = str(json.loads(failure.decode().splitlines()[0])["message"])
        except (ValueError, IndexError, KeyError):
            message = "the health check command could not start"
        os.close(out_r)
        _write(result_fd, -1, message)
        return
    output, code = _collect(child, out_r, timeout)
    if code is None:
        _write(result_fd, -1, f"Health check exceeded timeout ({go_duration(check['timeout'])})")
    else:
        _write(result_fd, code, output.decode(errors="replace"))


def _collect(child: int, out_r: int, timeout: float) -> tuple[bytes, int | None]:
    """The command's first output bytes and exit code; None when it ran past the timeout
    (then killed). Output held by the command's own children is not waited for."""
    pidfd = os.pidfd_open(child)
    os.set_blocking(out_r, False)
    output = bytearray()
    deadline = time.monotonic() + timeout
    exited = False
    while not exited:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            os.close(pidfd)
            return bytes(output), None
        watched = [pidfd] if out_r < 0 else [out_r, pidfd]
        ready, _, _ = select.select(watched, [], [], left)
        if out_r >= 0 and out_r in ready and not _read_into(out_r, output):
            out_r = _closed(out_r)
        exited = pidfd in ready
    _, status = os.waitpid(child, 0)
    os.close(pidfd)
    if out_r >= 0:
        _read_into(out_r, output)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    return bytes(output), code


def _read_into(fd: int, output: bytearray) -> bool:
    """Read what is there, keeping the first bytes; False at end of file."""
    if fd < 0:
        return False
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        output += chunk[:max(0, MAX_OUTPUT - len(output))]


def _closed(fd: int) -> int:
    os.close(fd)
    return -1


def _write(fd: int, code: int, output: str) -> None:
    os.write(fd, json.dumps({"code": code, "output": output[:MAX_OUTPUT]}).encode() + b"\n")

