"""``docker system df``: what images, containers and volumes take on disk.

Pure: the engine gathers the images, containers, volumes and the sizes the
helper measured (engine/helper/usage.py); this works out docker's figures.
An image's size is its layers' (engine/images/sizes.py); a layer two images
share is "shared" in both and counted once in the total; a container's size
is what it wrote (its writable layer), and "virtual" adds its image's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.containers.model import Container
from engine.images.model import Image
from engine.volumes import Volume

__all__ = ["ContainerUsage", "DiskUsage", "ImageUsage", "VolumeUsage", "disk_usage"]


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
class DiskUsage:
    layers_size: int  # every layer once
    images: list[ImageUsage] = field(default_factory=list)
    containers: list[ContainerUsage] = field(default_factory=list)
    volumes: list[VolumeUsage] = field(default_factory=list)
    build_cache_size: int = 0  # layers only a build's intermediate images hold
    build_cache_count: int = 0  # those intermediate images

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
               build_cache: Sequence[Image] = ()) -> DiskUsage:
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
    cached = {la.diff_id for image in build_cache for la in image.layers} - set(layer_images)
    return DiskUsage(sum(layer_sizes.get(d, 0) for d in layer_images), image_rows,
                     container_rows, volume_rows,
                     sum(layer_sizes.get(d, 0) for d in cached), len(build_cache))

