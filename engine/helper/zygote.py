"""A pre-imported, single-threaded process that forks container monitors.

Starting a monitor with exec costs a Python start-up and its imports (~80 ms);
forking one from the multi-threaded helper is unsafe. The zygote is forked by
the helper before it starts any thread, imports the monitor once, and then
forks a monitor per request in about a millisecond. A monitor is the zygote's
child in a session of its own; the zygote ignores SIGCHLD, so the kernel reaps
a monitor that ends (no zombie), and one that outlives the zygote and the helper
becomes init's (or a subreaper's) child. The zygote exits when the helper hangs up.

The fork is made at the helper's start, the imports only when the helper asks
(``prepare``, at the first verb about containers) or at the first spawn: a
helper started for a pull never runs a monitor, and the imports (~0.3 s of CPU)
competed with its unpacking on a 2-core machine (benchmarks/pull.py).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import threading
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from engine.helper import syscalls

__all__ = ["MAX_SOURCES", "Zygote"]

MAX_SOURCES = 128  # a container's binds and volumes (the protocol's limit on binds)
_PREPARE = b"prepare"  # a request without descriptors and without an answer


class Zygote:
    """The helper's handle: ``spawn(cdir, ready_fd, log_path)`` returns the monitor's pid."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            ours.close()
            # Keep nothing of the helper's: above all not its connection to the engine,
            # whose end of file must come when the helper dies.
            keep = theirs.fileno()
            os.closerange(3, keep)
            os.closerange(keep + 1, 65536)
            try:
                _serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid = pid
        self._sock = ours
        self._lock = threading.Lock()
        self._asked = False

    def prepare(self) -> None:
        """Have the zygote import what monitors run, now, while nothing waits for it."""
        with self._lock:
            if not self._asked:
                self._asked = True
                try:
                    self._sock.send(_PREPARE)
                except OSError:
                    pass  # it is gone: the next spawn says so

    def spawn(self, container_dir: Path, ready_fd: int, log_path: Path,
              attach_fd: int = -1, sources: list[int] | None = None) -> int:
        """``sources``: the descriptors of the container's binds and volumes, in order."""
        sources = list(sources or [])
        if len(sources) > MAX_SOURCES:
            raise ValueError(f"at most {MAX_SOURCES} bind sources")
        log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fds = [ready_fd, log_fd] + ([attach_fd] if attach_fd >= 0 else []) + sources
        request = json.dumps({"dir": os.fsdecode(container_dir), "attach": attach_fd >= 0})
        try:
            with self._lock:
                socket.send_fds(self._sock, [request.encode()], fds)
                reply = self._sock.recv(64)
        finally:
            os.close(log_fd)
        if not reply:
            raise OSError("the monitor zygote exited")
        return int(reply)

    def close(self) -> None:
        self._sock.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _serve(sock: socket.socket) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    prepared: ModuleType | None = None
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, 65536, 3 + MAX_SOURCES)
        except OSError:
            return
        if not data:
            return
        if prepared is None:
            prepared = _prepare()
        if data != _PREPARE:
            _spawn(sock, json.loads(data), fds, prepared)


def _prepare() -> ModuleType:
    """Import and rehearse what monitors run; returns the monitor module."""
    import engine.eventlog  # what a monitor journals with (~170 KB of each one's USS)
    from engine.helper.runtime import monitor  # imported once, shared by every fork

    try:  # monitors release container networks when they end: pay for pyroute2 once
        import engine.helper.network.verbs  # noqa: F401
    except ImportError:
        pass

    try:  # probed here once, not by every monitor: parsing /proc/self/mountinfo in
        # each one cost ~0.5 MB of its unshared memory (benchmarks/monitor_memory.py)
        from engine.cgroups import host_setup

        host_setup()
    except Exception:  # each monitor then probes and says why
        pass
    # Named in ps; and set_title's code runs once here (Python rewrites a function's
    # code the first time it runs it: here, in pages every monitor shares).
    from engine.helper.runtime import proctitle

    proctitle.set_title("skiff-zygote")
    monitor.ignore_signals()  # for the monitors it forks (and the zygote: the same)
    from engine.helper.runtime.supervisor import rehearse

    # The monitors' loop, run here (see there) as many times as 3.11 takes to quicken
    # and specialise its code (8 calls): 1.77 -> 1.71 MB USS a monitor with 10 running.
    try:
        for _ in range(10):
            rehearse()
    except Exception:
        pass  # each monitor runs it all the same
    # The monitors it forks are reaped by the kernel (they set their own handler):
    # forking each twice so that init reaped it cost a fork and a hand-over more a
    # start (~5 ms of each of 50 parallel starts, benchmarks/cli.py).
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # Every object so far goes to the collector's permanent generation: a monitor's
    # collections then never walk (and so never copy) the pages it shares with us
    # (6.7 -> 5.0 MB USS a monitor, benchmarks/monitor_memory.py).
    gc.freeze()
    return monitor


def _spawn(sock: socket.socket, request: dict[str, Any], fds: list[int],
           monitor: ModuleType) -> None:
    """Fork the monitor of one request, in a session of its own."""
    ready_fd, log_fd = fds[0], fds[1]
    attach_fd = fds[2] if request["attach"] else -1
    sources = fds[3:] if request["attach"] else fds[2:]
    # Forked bare (the zygote has no thread): os.fork's hooks ran in each monitor,
    # twice, and wrote pages it would then keep as its own (2.10 -> 1.69 MB USS a
    # monitor with 10 running, benchmarks/monitor_memory.py).
    child = syscalls.bare_fork()
    if child == 0:
        os.setsid()
        sock.close()
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.chdir("/")
        code = 125
        try:
            code = monitor.run_monitor(request["dir"], ready_fd, attach_fd, sources)
        except BaseException:
            traceback.print_exc()  # into the container's monitor.log
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    sock.send(str(child).encode())
