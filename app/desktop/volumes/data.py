"""What the Volumes page lists and what a volume prune would take, as plain data.

Sizes are the helper's measurements (``skiff system df -v``); owners are the
containers, in any state, that mount the volume. (What a prune would take is the
engine's dry run of it, asked by the page.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine import Container, DiskUsage, Volume

__all__ = ["VolumeEntry", "volume_entries"]


@dataclass(frozen=True)
class VolumeEntry:
    volume: Volume
    size: int
    containers: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.volume.name


def volume_entries(usage: DiskUsage, containers: Sequence[Container]) -> list[VolumeEntry]:
    owners: dict[str, set[str]] = {}
    for container in containers:
        for mount in container.config.mounts:
            if mount.type == "volume":
                owners.setdefault(mount.source, set()).add(container.name)
    return [VolumeEntry(row.volume, row.size, sorted(owners.get(row.volume.name, ())))
            for row in usage.volumes]

