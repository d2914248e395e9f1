"""Processes the container verbs start and signal: monitors, exec and file-access
processes, and the pids that status files name.

A pid from a status file is signalled only while it is a process of that
container (its cgroup), through a pidfd taken before looking.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from engine.processes import wait_gone

__all__ = [
    "is_in_container",
    "kill",
    "last_line",
    "namespace_inode",
    "now",
    "read_line",
    "read_one_line",
    "reap_when_done",
    "request_memfd",
    "unlink",
    "wait_gone",
]




def request_memfd(request: dict[str, Any]) -> int:
    """The request for an exec or file-access process, in a memfd it reads: never in
    its command line, where any user's `ps` would show it (environment included)."""
    fd = os.memfd_create("skiff-request", os.MFD_CLOEXEC)
    os.write(fd, json.dumps(request).encode())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def reap_when_done(process: subprocess.Popen[bytes]) -> None:
    """Reap it as soon as it ends: a zombie would count against the container's
    pids limit (exec) and linger in `ps` until the next monitor starts."""
    threading.Thread(target=process.wait, daemon=True, name="reaper").start()


def kill(pid: int, signum: int, container_id: str) -> None:
    """Signal ``pid`` if it is a process of that container; nothing when it is gone.

    The pid comes from status.json: the monitor (root) wrote it, but the process
    may have ended and its number gone to another. A pidfd taken before looking
    at its cgroup makes the look and the signal be about the same process.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if is_in_container(pid, container_id):
            signal.pidfd_send_signal(pidfd, signum)
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)


def is_in_container(pid: int, container_id: str) -> bool:
    """Is ``pid`` a live process in the container's cgroup (``.../<parent>/<id>``)?"""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    return any(line.split(":", 2)[-1].rsplit("/", 1)[-1] == container_id for line in lines)


def unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def read_line(fd: int, timeout: float) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def read_one_line(fd: int, timeout: float) -> bytes:
    """One line, byte by byte: what follows it belongs to whoever gets the fd next."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n") and len(data) < 65536:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        byte = os.read(fd, 1)
        if not byte:
            break
        data += byte
    return data.rstrip(b"\n")


def namespace_inode(path: str) -> int:
    """The inode in "net:[4026531840]"."""
    return int(os.readlink(path).rsplit("[", 1)[1].rstrip("]"))

def last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def now() -> str:
    from engine.wire.logformat import format_time

    return format_time(time.time_ns())
