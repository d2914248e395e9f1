"""--init: a small reaper as the container's PID 1, Skiff's own (Docker uses tini).

A command that is PID 1 of its namespace gets no default signal actions (a
SIGTERM it does not handle does nothing) and inherits every orphan, which few
programs reap. With --init the container's init process forks the command and
stays PID 1 itself, as tini does: it forwards every signal it gets to the
command, reaps whatever exits, and when the command exits it exits with the
command's status (128 + the signal's number if a signal killed it).

The reaper holds nothing of the host: all other descriptors closed, in the
container's user namespace when it has one, no_new_privs, the container's
seccomp filter, and of the capabilities only CAP_KILL (so it can signal a
command that changed user) with an empty bounding set.
"""

from __future__ import annotations

import os
import signal

from engine.helper.runtime import capabilities, proctitle, syscallfilter, userns
from engine.helper.runtime.kernel import LINUX

__all__ = ["FORWARDED", "exit_code", "fork_command"]

# Signals the kernel sends a process about itself are not forwarded (tini's list).
_OWN = {signal.SIGFPE, signal.SIGILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT,
        signal.SIGTRAP, signal.SIGSYS, signal.SIGTTIN, signal.SIGTTOU, signal.SIGKILL,
        signal.SIGSTOP}
FORWARDED = frozenset(s for s in signal.valid_signals() if s not in _OWN)
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1


def exit_code(status: int) -> int:
    """A wait status as the shell and Docker report it."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def fork_command(args: list[str], *, userns_fd: int,
                 seccomp: syscallfilter.Program | None) -> None:
    """Fork: the child returns, to exec the command; this process becomes the reaper
    and never returns. Called as the container's PID 1, after its set-up."""
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)  # none lost before we wait
    child = os.fork()
    if child == 0:
        os.setpgid(0, 0)  # a terminal's keys go to the command, not to us as well
        if os.isatty(0):
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            os.tcsetpgrp(0, os.getpid())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        return
    try:
        _become_reaper(args, userns_fd, seccomp)
        code = _reap(child)
    except BaseException as exc:  # never a traceback into the container's log
        code = 125
        try:
            os.write(2, f"skiff-init: {exc}\n".encode())
        except OSError:
            pass
    os._exit(code)


def _become_reaper(args: list[str], userns_fd: int,
                   seccomp: syscallfilter.Program | None) -> None:
    proctitle.set_title(" ".join(["skiff-init", "--", *args])[:4096])
    keep = {0, 1, 2, userns_fd}
    for fd in _open_fds():
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    if userns_fd >= 0:
        userns.enter(userns_fd)
        os.close(userns_fd)
    capabilities.apply(["CAP_KILL"], root_user=True)
    LINUX.prctl(_PR_SET_NO_NEW_PRIVS, 1)
    LINUX.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # our parent is the monitor (init.py)
    if seccomp is not None:
        LINUX.load_seccomp(seccomp)


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def _reap(child: int) -> int:
    """Forward signals to the command and reap every process that ends, until the
    command has: then its exit code."""
    while True:
        info = signal.sigwaitinfo(FORWARDED)
        if info.si_signo != signal.SIGCHLD:
            try:
                os.kill(child, info.si_signo)
            except ProcessLookupError:
                pass
            continue
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return 0  # not reached: the command is our child until reaped
            if pid == 0:
                break
            if pid == child:
                _reap_rest()
                return exit_code(status)


def _reap_rest() -> None:
    """Zombies already there when the command ended (the kernel kills the rest)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return

