"""Emptying and removing cgroup directories, shared by both drivers (helper only).

Removal races with other containers under the same parent and with processes
that are still exiting, so each step tolerates what a race can produce.
"""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable, Iterable
from pathlib import Path

from engine import errors
from engine.cgroups.files import procs_of
from engine.helper.cgroups.wait import poll

__all__ = ["KILL_TIMEOUT", "RMDIR_TIMEOUT", "kill_all", "remove", "remove_parent"]

KILL_TIMEOUT = 10.0
RMDIR_TIMEOUT = 2.0


def tree(directory: Path) -> list[Path]:
    """``directory`` and the cgroups below it, deepest first."""
    if not directory.is_dir():
        return []
    return [Path(d) for d, _, _ in os.walk(directory, topdown=False)]


def kill_all(directories: Iterable[Path], where: str) -> None:
    """SIGKILL every process in these cgroups and below until none is left."""
    dirs = list(directories)
    me = os.getpid()

    def empty() -> bool:
        pids = set().union(*(procs_of(d) for top in dirs for d in tree(top)))
        if me in pids:
            raise errors.SkiffError(f"cannot remove cgroup {where}: it contains the "
                                    "process trying to remove it")
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return not pids

    if not poll(empty, KILL_TIMEOUT):
        raise errors.SkiffError(f"cannot remove cgroup {where}: its processes did not exit "
                                f"within {KILL_TIMEOUT:g} s of SIGKILL")


def remove(directory: Path, where: str) -> None:
    """rmdir the cgroup and any below it; busy ones are retried briefly."""
    for path in tree(directory):
        if not poll(_rmdir(path), RMDIR_TIMEOUT):
            raise errors.SkiffError(f"cannot remove cgroup {where}: {path} stays busy")


def remove_parent(directory: Path) -> None:
    """rmdir the parent if nothing else uses it; another container may."""
    try:
        os.rmdir(directory)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EBUSY):
            raise errors.SkiffError(f"cannot remove cgroup {directory}: "
                                    f"{exc.strerror}") from None


def _rmdir(path: Path) -> Callable[[], bool]:
    def attempt() -> bool:
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise errors.SkiffError(f"cannot remove cgroup {path}: "
                                        f"{exc.strerror}") from None
            return False
        return True

    return attempt
