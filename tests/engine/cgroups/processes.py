"""Processes and cgroups for the cgroup drivers' tests against the kernel: a process
gated before its exec, a child that joins a cgroup itself, and a last-resort scrub."""

from __future__ import annotations

import os
import select
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from engine.cgroups import files
from engine.helper.cgroups import V1Cgroup, V2Cgroup
from engine.helper.cgroups.apply import write

MiB = 1024 * 1024
BUSYBOX = "/bin/busybox"


class Gated:
    """A process that waits for a line on stdin before exec'ing ``argv``, so it
    can be moved into a cgroup before the measured program runs."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            [BUSYBOX, "sh", "-c", 'read _ && exec "$@"', "sh", *argv],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.proc.pid

    def release(self, keep_stdin: bool = False) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        if not keep_stdin:
            self.proc.stdin.close()

    def send(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def readline(self) -> bytes:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def has_output(self, wait: float) -> bool:
        assert self.proc.stdout is not None
        return bool(select.select([self.proc.stdout], [], [], wait)[0])

    def state(self) -> str:
        """The one-letter state from /proc/<pid>/stat (R, S, D, T, Z...)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0]


def scrub(top: Path) -> None:
    """Last-resort cleanup if a test failed before destroy(): kill what the
    test put there, then remove the directories deepest first."""
    if not top.is_dir():
        return
    for directory, _, _ in os.walk(top, topdown=False):
        procs = Path(directory, "cgroup.procs")
        for pid in (files.read(procs) or "").split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    for directory, _, _ in os.walk(top, topdown=False):
        for _ in range(100):
            try:
                os.rmdir(directory)
                break
            except FileNotFoundError:
                break
            except OSError:
                state = Path(directory, "freezer.state")
                if state.exists():
                    write(state, "THAWED")
                select.select([], [], [], 0.05)


def joined_child(cg: V1Cgroup | V2Cgroup) -> tuple[int, str, Callable[[], None]]:
    """A child just forked that moved itself with ``join()``: its pid, its
    /proc/self/cgroup, and what ends it."""
    report_r, report_w = os.pipe()
    hold_r, hold_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(report_r)
            os.close(hold_w)
            cg.join()
            os.write(report_w, Path("/proc/self/cgroup").read_bytes())
            os.close(report_w)
            os.read(hold_r, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(report_w)
    os.close(hold_r)
    with os.fdopen(report_r, "rb") as report:
        membership = report.read().decode()

    def end() -> None:
        os.close(hold_w)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0

    return pid, membership, end
