"""Facts about processes from /proc, shared by the engine, the helper and monitors."""

from __future__ import annotations

import os
import select
import time

__all__ = ["is_alive", "wait_gone"]


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs: a zombie (exited, not yet reaped) counts as gone."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def wait_gone(pid: int, timeout: float) -> None:
    """Until ``pid`` has ended (a zombie counts as gone): woken by its pidfd as it
    exits, not by polling (a removal waited up to 10 ms more for each monitor)."""
    if pid <= 0:
        return
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return  # already gone
    deadline = time.monotonic() + timeout
    try:
        while is_alive(pid):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            select.select([pidfd], [], [], min(left, 0.05))
    finally:
        os.close(pidfd)
