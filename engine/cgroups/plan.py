"""Cgroup changes as plain data, and the one function that applies them.

Drivers compute a list of steps (make this directory, write this value to
this file) from the requested limits with no I/O, so the translation is
testable without root; :func:`apply` turns kernel errors into user-facing
ones.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from engine import errors
from engine.cgroups import files

__all__ = ["Mkdir", "Step", "Write", "apply", "apply_create"]


@dataclass(frozen=True)
class Mkdir:
    path: Path


@dataclass(frozen=True)
class Write:
    """Write ``value`` to ``path``; ``controller`` names what a missing file means."""

    path: Path
    value: str
    controller: str  # "" for cgroup core files
    optional: bool = False  # a file that may be absent (swap accounting off, ...)

    def under(self, directory: Path) -> Write:
        return replace(self, path=directory / self.path)


Step = Mkdir | Write


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
        files.write(step.path, step.value)
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
