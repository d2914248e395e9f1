"""``docker system df``: what images, containers, volumes and the build cache take on disk.

Pure: the engine gathers the images, containers, volumes and the sizes the
helper measured (engine/helper/usage.py); this works out docker's figures.
An image's size is its layers' (engine/images/sizes.py); a layer two images
share is "shared" in both and counted once in the total; a container's size
is what it wrote (its writable layer), and "virtual" adds its image's. The
build cache is a build's intermediate images (the layers only they hold) and
the volumes of ``RUN --mount=type=cache``, as BuildKit's records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.containers.model import Container
from engine.images.model import Image
from engine.volumes import Volume

__all__ = ["CacheUsage", "ContainerUsage", "DiskUsage", "ImageUsage", "VolumeUsage",
           "cache_records", "disk_usage"]


@dataclass(frozen=True)
class ImageUsage:
    image: Image
    size: int  # its layers, summed
    shared_size: int  # of which layers other images use too
    containers: int  # containers (any state) made from it

    @property
    def unique_size(self) -> int:
        return self.size - self.shared_size


@dataclass(frozen=True)
class ContainerUsage:
    container: Container
    size_rw: int  # what it wrote
    size_root_fs: int  # that and its image

    @property
    def active(self) -> bool:
        return self.container.state.status.is_active


@dataclass(frozen=True)
class VolumeUsage:
    volume: Volume
    size: int
    links: int  # containers (any state) that mount it


@dataclass(frozen=True)
class CacheUsage:
    """One record of the build cache, as docker's ``BuildCache`` entries."""

    id: str  # an intermediate image's ID, or a cache volume's name
    type: str  # "regular" (a build step's image) or "exec.cachemount" (a cache volume)
    description: str
    size: int  # what removing it frees
    created: str
    in_use: bool  # a cache volume a container mounts (a build running)
    shared: bool = False  # nothing of its own: its layers are all held by images too


@dataclass(frozen=True)
class DiskUsage:
    layers_size: int  # every layer once
    images: list[ImageUsage] = field(default_factory=list)
    containers: list[ContainerUsage] = field(default_factory=list)
    volumes: list[VolumeUsage] = field(default_factory=list)
    build_cache: list[CacheUsage] = field(default_factory=list)

    @property
    def build_cache_size(self) -> int:
        return sum(c.size for c in self.build_cache)

    @property
    def build_cache_count(self) -> int:
        return len(self.build_cache)

    @property
    def build_cache_reclaimable(self) -> int:
        return sum(c.size for c in self.build_cache if not c.in_use)

    @property
    def images_reclaimable(self) -> int:
        """docker's: all of it, less what images in use hold alone."""
        used = sum(i.unique_size for i in self.images if i.containers)
        return self.layers_size - used

    @property
    def containers_reclaimable(self) -> int:
        return sum(c.size_rw for c in self.containers if not c.active)

    @property
    def volumes_reclaimable(self) -> int:
        return sum(v.size for v in self.volumes if not v.links)


def disk_usage(images: Sequence[Image], layer_sizes: dict[str, int],
               containers: Sequence[Container], container_sizes: dict[str, int],
               volumes: Sequence[Volume], volume_sizes: dict[str, int],
               build_cache: Sequence[CacheUsage] = ()) -> DiskUsage:
    """The figures of ``system df`` from the objects and their measured sizes."""
    users: Counter[str] = Counter(c.config.image_id for c in containers)
    layer_images: Counter[str] = Counter(
        diff_id for image in images for diff_id in {la.diff_id for la in image.layers})
    image_rows = []
    for image in images:
        own = {la.diff_id for la in image.layers}
        image_rows.append(ImageUsage(
            image, sum(layer_sizes.get(d, 0) for d in own),
            sum(layer_sizes.get(d, 0) for d in own if layer_images[d] > 1),
            users[image.id]))
    image_size = {row.image.id: row.size for row in image_rows}
    container_rows = [ContainerUsage(c, container_sizes.get(c.id, 0),
                                     container_sizes.get(c.id, 0)
                                     + image_size.get(c.config.image_id, 0))
                      for c in containers]
    mounts: Counter[str] = Counter(
        m.source for c in containers for m in {(m.type, m.source): m
                                               for m in c.config.mounts}.values()
        if m.type == "volume")
    volume_rows = [VolumeUsage(v, volume_sizes.get(v.name, 0), mounts[v.name])
                   for v in volumes]
    return DiskUsage(sum(layer_sizes.get(d, 0) for d in layer_images), image_rows,
                     container_rows, volume_rows, list(build_cache))


def cache_records(intermediate: Sequence[Image], images: Sequence[Image],
                  layer_sizes: dict[str, int], cache_volumes: Sequence[Volume],
                  volume_sizes: dict[str, int], used_volumes: set[str]) -> list[CacheUsage]:
    """The build cache's records: each intermediate image with the layers no image
    holds (each counted once, with the image that made it), then the cache volumes."""
    held = {la.diff_id for image in images for la in image.layers}
    counted: set[str] = set()
    records = []
    for image in sorted(intermediate, key=lambda i: i.created):
        own = [la.diff_id for la in image.layers
               if la.diff_id not in held and la.diff_id not in counted]
        counted.update(own)
        history = image.config.get("history") or []
        step = str(history[-1].get("created_by", "")) if history else ""
        records.append(CacheUsage(
            image.id.removeprefix("sha256:"), "regular", step,
            sum(layer_sizes.get(d, 0) for d in own), image.created, False,
            not own and any(la.diff_id in held for la in image.layers)))
    for volume in cache_volumes:
        records.append(CacheUsage(volume.name, "exec.cachemount",
                                  "cached mount of a RUN --mount=type=cache",
                                  volume_sizes.get(volume.name, 0), volume.created,
                                  volume.name in used_volumes))
    return records

