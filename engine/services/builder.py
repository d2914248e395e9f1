"""``engine.builder``: the build cache, as ``docker builder`` sees it.

The cache is what a build keeps to go faster next time: the images of its steps
(engine/build/cache.py; the untagged ones another image was built on are
"intermediate") and the volumes of ``RUN --mount=type=cache``. ``records``
lists them with the space each frees (engine/diskusage.py); ``prune`` removes
them. Without ``all`` only the dangling cache goes: the cache volumes no
container mounts, and the intermediate images no tagged image or container
was built from (what is left of older builds); ``all`` takes every unused
record, so the next build runs every step again; ``keep_storage`` stops once
what is left is that small, the oldest records going first (``--keep-storage``).
"""

from __future__ import annotations

import builtins

from engine.build.runmounts import CACHE_LABEL
from engine.diskusage import CacheUsage, cache_records
from engine.errors import NotFound, SkiffError
from engine.images.model import Image
from engine.images.sizes import measure_layers
from engine.prune import EVERYTHING, Pruned, PruneFilter
from engine.services.images import ImageService
from engine.services.shared import Shared
from engine.services.volumes import VolumeService, remove_pruned
from engine.volumes import Volume
from engine.wire.requests import DiskUsage

__all__ = ["BuilderService"]


class BuilderService:
    def __init__(self, shared: Shared, images: ImageService, volumes: VolumeService) -> None:
        self._s = shared
        self._images = images
        self._volumes = volumes

    def cache_volumes(self) -> builtins.list[Volume]:
        """The volumes ``RUN --mount=type=cache`` made."""
        return [v for v in self._s.volume_store.all() if CACHE_LABEL in v.labels]

    async def records(self, volume_sizes: dict[str, int] | None = None
                      ) -> builtins.list[CacheUsage]:
        """The build cache's records (``docker system df -v``'s build cache)."""
        s = self._s
        every = s.image_store.list()
        await measure_layers(s.image_store, [la for i in every for la in i.layers])
        hidden = s.build_cache().intermediate(every)
        volumes = self.cache_volumes()
        if volume_sizes is None:
            volume_sizes = await self._volume_sizes(volumes)
        return cache_records([i for i in every if i.id in hidden],
                             [i for i in every if i.id not in hidden],
                             s.image_store.layer_sizes(), volumes, volume_sizes,
                             self._mounted())

    async def prune(self, all: bool = False, chosen: PruneFilter = EVERYTHING,
                    *, keep_storage: int = 0, dry_run: bool = False) -> Pruned:
        """Remove the unused build cache that ``chosen`` allows (its ``until``); without
        ``all`` only the dangling part; with ``keep_storage`` only the oldest records
        until the cache is that small. ``deleted`` holds the records' IDs. With
        ``dry_run`` nothing goes: the answer is what the prune would do now."""
        images, volumes, volume_sizes = await self._targets(all, chosen, keep_storage)
        if dry_run:
            return self._preview(images, volumes, volume_sizes)
        s = self._s
        result = Pruned()
        sizes = s.image_store.layer_sizes()
        before = s.image_store.diff_ids()
        for image in images:
            try:
                lines = await self._images.remove(image.id)
            except NotFound:
                continue  # gone with an image removed before it
            except SkiffError as exc:
                result.errors.append(exc)
                continue
            # The parents it was the last one built on go with it (as rmi).
            result.deleted += [name.removeprefix("sha256:") for kind, name in lines
                               if kind == "Deleted"]
        result.reclaimed = sum(sizes.get(d, 0) for d in before - s.image_store.diff_ids())
        await remove_pruned(self._volumes, volumes, volume_sizes, result)
        return result

    async def _targets(self, all: bool, chosen: PruneFilter, keep_storage: int
                       ) -> tuple[builtins.list[Image], builtins.list[Volume], dict[str, int]]:
        """The step images (newest first) and cache volumes a prune removes."""
        images = self._doomed_images(all, chosen)
        mounted = self._mounted()
        volumes = [v for v in self.cache_volumes() if v.name not in mounted
                   and chosen.allows({}, v.created)]
        volume_sizes = await self._volume_sizes(self.cache_volumes())
        if keep_storage <= 0:
            return images, volumes, volume_sizes
        records = await self.records(volume_sizes)
        size = {r.id: r.size for r in records}
        left = sum(size.values())
        candidates: list[tuple[str, Image | Volume, int]] = sorted(
            [(i.created, i, size.get(i.id.removeprefix("sha256:"), 0)) for i in images]
            + [(v.created, v, volume_sizes.get(v.name, 0)) for v in volumes],
            key=lambda c: c[0])
        picked: set[int] = set()
        for _created, item, bytes_ in candidates:  # the oldest go first
            if left <= keep_storage:
                break
            picked.add(id(item))
            left -= bytes_
        return ([i for i in images if id(i) in picked],
                [v for v in volumes if id(v) in picked], volume_sizes)

    def _preview(self, images: builtins.list[Image], volumes: builtins.list[Volume],
                 volume_sizes: dict[str, int]) -> Pruned:
        s = self._s
        gone = {i.id for i in images}
        kept = {la.diff_id for i in s.image_store.list() if i.id not in gone
                for la in i.layers}
        freed = {la.diff_id for i in images for la in i.layers} - kept
        sizes = s.image_store.layer_sizes()
        return Pruned([i.id.removeprefix("sha256:") for i in images]
                      + [v.name for v in volumes],
                      sum(sizes.get(d, 0) for d in freed)
                      + sum(volume_sizes.get(v.name, 0) for v in volumes))

    def _doomed_images(self, all: bool, chosen: PruneFilter) -> builtins.list[Image]:
        """The intermediate images to remove, newest first."""
        s = self._s
        every = s.image_store.list()
        cache = s.build_cache()
        hidden = cache.intermediate(every)
        used = {r.config.image_id for r in s.container_store.all()}
        keep: set[str] = set()
        if not all:  # the chains of tagged or used images stay
            for image in every:
                if image.id in hidden or not (image.repo_tags or image.id in used):
                    continue
                current = cache.parent_of(image.id)
                while current and current in hidden and current not in keep:
                    keep.add(current)
                    current = cache.parent_of(current)
        doomed = [i for i in every if i.id in hidden and i.id not in keep
                  and i.id not in used and chosen.allows({}, i.created)]
        return sorted(doomed, key=lambda i: i.created, reverse=True)

    def _mounted(self) -> set[str]:
        return {m.source for r in self._s.container_store.all() for m in r.config.mounts
                if m.type == "volume"}

    async def _volume_sizes(self, volumes: builtins.list[Volume]) -> dict[str, int]:
        if not volumes:
            return {}
        usage = await self._s.call(DiskUsage(containers=[],
                                             volumes=[v.name for v in volumes]))
        return usage.volumes
