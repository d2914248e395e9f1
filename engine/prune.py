"""What a prune answers (docker's container, image, network and volume prune).

A :class:`Pruned` says what went (container IDs, docker's "untagged: …"/
"deleted: …" image lines, network or volume names), the bytes that freed (what
the containers wrote; the layers no image uses any more; the volumes' data),
and the errors of the objects that could not go (the others still went). Each
service's ``prune`` does the work; a :class:`PruneFilter` narrows what goes, as
docker's ``--filter label=… until=…``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.errors import SkiffError
from engine.timestamps import rfc3339_ns

__all__ = ["EVERYTHING", "PREDEFINED_NETWORKS", "PruneFilter", "Pruned"]

PREDEFINED_NETWORKS = ("bridge", "host", "none")


@dataclass(frozen=True)
class PruneFilter:
    """docker's ``prune --filter``: every ``label`` (``key`` or ``key=value``) must be
    on the object, no ``label!`` may be, and with ``until_ns`` only what was created
    before then goes. The default keeps nothing back."""

    labels: tuple[str, ...] = ()
    not_labels: tuple[str, ...] = ()
    until_ns: int | None = None

    def allows(self, labels: Mapping[str, str] | None, created: str) -> bool:
        found = labels or {}

        def has(item: str) -> bool:
            key, eq, value = item.partition("=")
            return key in found and (not eq or found[key] == value)

        if not all(has(item) for item in self.labels):
            return False
        if any(has(item) for item in self.not_labels):
            return False
        if self.until_ns is not None:
            born = rfc3339_ns(created) if created else None
            if born is None or born >= self.until_ns:
                return False
        return True


EVERYTHING = PruneFilter()


@dataclass
class Pruned:
    deleted: list[str] = field(default_factory=list)
    reclaimed: int = 0  # bytes
    errors: list[SkiffError] = field(default_factory=list)
