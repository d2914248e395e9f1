"""Zombies charged to a container: what an exec or a health probe must not leave.

Found by the container's cgroup, so other tests' containers running beside
ours do not count.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["zombies_of"]


def zombies_of(container_id: str) -> list[str]:
    """The PIDs of the zombie processes in the container's cgroup."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cgroup = (entry / "cgroup").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[0] == "Z" and container_id in cgroup:
                found.append(stat.split(" ", 2)[1])
    return found
