"""The part of a container's monitor that lives as long as the container: it copies
the output to the log and to attached clients, reaps the container, and starts it
again when its restart policy says so.

A monitor is forked from the helper's zygote, and every page it writes after that
becomes its own: a reference count changed, an object allocated, a function run
for the first time (Python 3.11 rewrites its bytecode as it specialises it).
Starting a container (its spec, cgroups, mounts, seccomp filter, status file and
journal) wrote 3.4 MB of them, which the monitor then kept for the container's
life. So each start runs in a child forked for it, and so does each end
(``Apart``): this process keeps only the descriptors a start hands it, and the
loop below (4.5 -> 1.6 MB USS a monitor with 50 running, benchmarks/monitor_memory.py).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.helper.runtime.attachhub import AttachHub
from engine.helper.runtime.stdin import Stdin, set_winsize
from engine.wire.attachstream import STDERR, STDOUT
from engine.wire.logformat import LogWriter

if TYPE_CHECKING:
    from engine.helper.runtime.health import Prober

__all__ = ["Apart", "InPlace", "Pump", "Run", "reap", "rehearse", "wake_pipe"]

_READ_SIZE = 1 << 20
_MAX_FDS = 8


@dataclass(frozen=True)
class Run:
    """One run of the container: its init, output streams and input."""

    pid: int
    streams: dict[int, str]  # fd -> "stdout" | "stderr"
    stdin: int  # where attached input goes (-1: none)
    master: int  # the pty's master with a TTY, else -1


class Apart:
    """``work()`` run in a child forked for it; its JSON result and descriptors come back.

    The child may go on after handing its result over (``then``); ``wait()`` waits
    for it to end."""

    def __init__(self, work: Callable[[], tuple[dict[str, Any], list[int]]],
                 then: Callable[[], None] = lambda: None) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = os.fork()
        if self.pid == 0:
            ours.close()
            code = 0
            try:
                result, fds = work()
                socket.send_fds(theirs, [json.dumps(result).encode()], fds)
                theirs.close()
                then()
            except BaseException:
                traceback.print_exc()  # into the container's monitor.log
                code = 125
            finally:
                os._exit(code)
        theirs.close()
        try:
            data, self.fds, _, _ = socket.recv_fds(ours, 1 << 16, _MAX_FDS)
        finally:
            ours.close()
        if not data:
            self.wait()
            raise RuntimeError("a child of the monitor failed (its trace is in monitor.log)")
        self.result: dict[str, Any] = json.loads(data)

    def wait(self) -> None:
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


class InPlace:
    """What :class:`Apart` gives, with ``work()`` run in this process: for the monitor's
    last step, after which it exits and its memory no longer matters (a fork and a
    hand-over less between a container's exit and its record: ``run --rm``, ``rm -f``)."""

    def __init__(self, work: Callable[[], tuple[dict[str, Any], list[int]]],
                 then: Callable[[], None] = lambda: None) -> None:
        self.result, self.fds = work()
        self._then = then

    def wait(self) -> None:
        """Run ``then`` (once), as Apart's child runs it after handing its result over."""
        then, self._then = self._then, lambda: None
        then()


class Pump:
    """Copies a run's output to the log and the attached clients until it has ended."""

    def __init__(self, hub: AttachHub, wake: int) -> None:
        self.hub = hub
        self.wake = wake
        self.prober: Prober | None = None

    def run(self, run: Run, writer: LogWriter) -> int:
        """The run's wait status, once it has exited and its output is read."""
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
            readers = [*streams, self.wake, *hub.fds(), *probes]
            try:
                ready, writable, _ = select.select(readers, hub.writers(), [], timeout)
            except InterruptedError:
                ready, writable = [], []
            for fd in writable:
                hub.writable(fd)
            for fd in ready:
                if fd == self.wake:
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
                wait_status = reap(run.pid, self._reaped)
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

    def _reaped(self, pid: int, status: int) -> None:
        if self.prober is not None:
            self.prober.reaped(pid, status)


def rehearse() -> None:
    """Run the loop once, on a child that writes a line and exits, into /dev/null.

    The zygote does this before it forks monitors: Python rewrites a function's
    bytecode as it runs it the first times (3.11's specialisation), and done here
    those writes land in pages every monitor shares instead of in each one's own
    (~0.2 MB of a monitor's USS, benchmarks/monitor_memory.py)."""
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        os.write(out_w, b"rehearsal\n")
        os._exit(0)
    os.close(out_w)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    old_wake = signal.set_wakeup_fd(wake_w)
    old_handler = signal.signal(signal.SIGCHLD, lambda *_: None)
    devnull = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    try:
        Pump(AttachHub(None), wake_r).run(Run(pid, {out_r: "stdout"}, -1, -1),
                                          LogWriter(devnull))
        Apart(lambda: ({"ok": True}, [])).wait()  # and what hands a start over
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL if old_handler is None else old_handler)
        signal.set_wakeup_fd(old_wake)
        for fd in (devnull, wake_r, wake_w):
            os.close(fd)


def wake_pipe() -> int:
    """Signals (SIGCHLD above all) wake the loop through a pipe; its read end."""
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    return wake_r


def reap(pid: int, others: Callable[[int, int], object] = lambda pid, status: None
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


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
