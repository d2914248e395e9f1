"""What the Images page lists and what an image prune would take, as plain data.

One row per image (not per tag, as ``skiff image ls`` does): its tags, sizes as
``skiff system df -v`` counts them (shared with other images, unique to it), and
the containers made from it. (What a prune would take is the engine's dry run
of it, asked by the page.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine import Container, DiskUsage, Image, familiar

__all__ = ["ImageEntry", "image_entries"]


@dataclass(frozen=True)
class ImageEntry:
    image: Image
    size: int
    shared: int
    containers: list[str] = field(default_factory=list)  # names, of any state

    @property
    def id(self) -> str:
        return self.image.id

    @property
    def unique(self) -> int:
        return self.size - self.shared

    @property
    def tags(self) -> list[str]:
        return [familiar(t) for t in self.image.repo_tags]

    @property
    def name(self) -> str:
        """How commands name it: its first tag, else its short ID."""
        return self.tags[0] if self.tags else self.image.short_id

    @property
    def dangling(self) -> bool:
        return not self.image.repo_tags


def image_entries(usage: DiskUsage, containers: Sequence[Container]) -> list[ImageEntry]:
    users: dict[str, list[str]] = {}
    for container in containers:
        users.setdefault(container.config.image_id, []).append(container.name)
    return [ImageEntry(row.image, row.size, row.shared_size,
                       sorted(users.get(row.image.id, [])))
            for row in usage.images]

