"""The figures of the Disk usage page, one row per kind of thing on disk.

The same figures ``skiff system df`` prints (engine/diskusage.py), plus the
containers' log files, which ``df`` leaves out but which grow too.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import DiskUsage

__all__ = ["KINDS", "Kind", "kinds"]

#: key, title, what reclaiming does
KINDS = (("images", "Images", "removes every image no container uses"),
         ("containers", "Containers", "removes every stopped container and what it wrote"),
         ("volumes", "Local volumes", "removes every volume no container mounts"),
         ("build", "Build cache", "removes the build cache no build is using: the next "
                                  "build runs its steps again"),
         ("logs", "Container logs", "deletes what the containers wrote to their logs"))


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    count: int
    active: int
    size: int
    reclaimable: int
    reclaims: str  # what the reclaim button does

    @property
    def can_reclaim(self) -> bool:
        return self.key in ("images", "containers", "volumes", "logs", "build") and \
            self.reclaimable > 0


def kinds(usage: DiskUsage, log_sizes: dict[str, int]) -> list[Kind]:
    """``log_sizes``: each container's log file, by container ID."""
    stopped = [c for c in usage.containers if not c.active]
    figures = {
        "images": (len(usage.images), sum(1 for i in usage.images if i.containers),
                   usage.layers_size, usage.images_reclaimable),
        "containers": (len(usage.containers), len(usage.containers) - len(stopped),
                       sum(c.size_rw for c in usage.containers), usage.containers_reclaimable),
        "volumes": (len(usage.volumes), sum(1 for v in usage.volumes if v.links),
                    sum(v.size for v in usage.volumes), usage.volumes_reclaimable),
        "build": (usage.build_cache_count, sum(1 for c in usage.build_cache if c.in_use),
                  usage.build_cache_size, usage.build_cache_reclaimable),
        "logs": (len(log_sizes), len(usage.containers) - len(stopped), sum(log_sizes.values()),
                 sum(log_sizes.values())),
    }
    return [Kind(key, title, *figures[key], reclaims) for key, title, reclaims in KINDS]
