"""What a prune answers (docker's container, image, network and volume prune).

A :class:`Pruned` says what went (container IDs, docker's "untagged: …"/
"deleted: …" image lines, network or volume names), the bytes that freed (what
the containers wrote; the layers no image uses any more; the volumes' data),
and the errors of the objects that could not go (the others still went). Each
service's ``prune`` does the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import SkiffError

__all__ = ["PREDEFINED_NETWORKS", "Pruned"]

PREDEFINED_NETWORKS = ("bridge", "host", "none")


@dataclass
class Pruned:
    deleted: list[str] = field(default_factory=list)
    reclaimed: int = 0  # bytes
    errors: list[SkiffError] = field(default_factory=list)
