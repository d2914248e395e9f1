"""What the Volumes page lists and what a volume prune would take, as plain data.

Sizes are the helper's measurements (``skiff system df -v``); owners are the
containers, in any state, that mount the volume. The prune preview applies the
rule ``skiff volume prune`` applies (no container mounts it; with ``anonymous``
only the volumes made without a name), and a test holds the two together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine import Container, DiskUsage, Volume

__all__ = ["VolumeEntry", "volume_entries", "volume_prune_preview"]


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


def volume_prune_preview(entries: Sequence[VolumeEntry], anonymous: bool
                         ) -> tuple[list[VolumeEntry], int]:
    doomed = [e for e in entries if not e.containers and (e.volume.anonymous or not anonymous)]
    return doomed, sum(e.size for e in doomed)
