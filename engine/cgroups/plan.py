"""Cgroup changes as plain data.

Drivers compute a list of steps (make this directory, write this value to
this file) from the requested limits with no I/O, so the translation is
testable without root. Only the helper applies them
(engine/helper/cgroups/apply.py), turning kernel errors into user-facing ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["Mkdir", "Step", "Write"]


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
