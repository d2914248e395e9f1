"""Applying cgroup plans (engine/cgroups/plan.py): the helper's cgroup writes.

Each step is one mkdir or one ``write()`` of a cgroupfs file; kernel errors
become user-facing ones, and a parent that another container's removal took
away meanwhile is made again.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from engine import errors
from engine.cgroups.plan import Mkdir, Step, Write

__all__ = ["apply", "apply_create", "write"]


class _Gone(Exception):
    """A directory the step needs has disappeared; str() is the user message."""


def apply(steps: Iterable[Step]) -> None:
    try:
        _apply(steps)
    except _Gone as exc:
        raise errors.SkiffError(str(exc)) from None


def apply_create(steps: Sequence[Step], attempts: int = 5) -> None:
    """:func:`apply` a plan that makes cgroups under a shared parent. Another
    container's removal may take the parent away between our steps; the plan
    is idempotent, so it is applied again."""
    for attempt in range(1, attempts + 1):
        try:
            _apply(steps)
            return
        except _Gone as exc:
            if attempt == attempts:
                raise errors.SkiffError(str(exc)) from None


def _apply(steps: Iterable[Step]) -> None:
    for step in steps:
        if isinstance(step, Mkdir):
            _mkdir(step.path)
        else:
            _write(step)


def _mkdir(path: Path) -> None:
    try:
        os.mkdir(path)
    except FileExistsError:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:  # removed by another container's cleanup just now
            raise _Gone(f"cannot create cgroup {path}: it was removed meanwhile") from None
        if not stat.S_ISDIR(mode):
            raise errors.SkiffError(f"cannot create cgroup {path}: a file has that name") from None
    except FileNotFoundError:
        raise _Gone(f"cannot create cgroup {path}: {path.parent} does not exist") from None
    except OSError as exc:
        raise errors.SkiffError(f"cannot create cgroup {path}: {exc.strerror}") from None


def _write(step: Write) -> None:
    try:
        write(step.path, step.value)
    except FileNotFoundError:
        if step.optional:
            return
        if not step.controller or not step.path.parent.is_dir():
            raise _Gone(f"cannot write {step.value!r} to {step.path}: the cgroup "
                        f"{step.path.parent} does not exist") from None
        # cgroup.subtree_control answers ENOENT for a controller it cannot enable.
        reason = "refused it" if step.path.exists() else "does not exist"
        raise errors.KernelFeatureMissing(
            f"cgroup controller '{step.controller}' is not available: "
            f"{step.path} {reason}") from None
    except OSError as exc:
        hint = ""
        if exc.errno == errno.EBUSY and step.path.name == "cgroup.subtree_control":
            hint = " (the cgroup has processes of its own)"
        raise errors.SkiffError(f"cannot write {step.value!r} to {step.path}: "
                                f"{exc.strerror}{hint}") from None


def write(path: str | os.PathLike[str], value: str) -> None:
    """One ``write()`` of the value; cgroupfs files are never created, so a
    missing file raises FileNotFoundError."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
