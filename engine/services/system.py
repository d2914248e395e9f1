"""``engine.system``: what concerns the engine as a whole: where it keeps its
state, and docker system df's figures (engine/diskusage.py)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from engine.diskusage import DiskUsage, disk_usage
from engine.errors import InvalidArgument
from engine.images.sizes import measure_layers
from engine.services.builder import BuilderService
from engine.services.containers import ContainerService
from engine.services.shared import Shared
from engine.wire import requests

__all__ = ["DISK_USAGE_KINDS", "SystemService"]

DISK_USAGE_KINDS = ("container", "image", "volume", "build-cache")


class SystemService:
    def __init__(self, shared: Shared, containers: ContainerService,
                 builder: BuilderService) -> None:
        self._s = shared
        self._containers = containers
        self._builder = builder

    @property
    def root(self) -> Path:
        """The engine's own storage (its database, blobs and journal)."""
        return self._s.root

    @property
    def helper_root(self) -> Path:
        """Where the helper keeps containers (it says so when it starts)."""
        return self._s.helper.root

    @property
    def cgroup_parent(self) -> str:
        return self._s.helper.cgroup_parent

    async def df(self, kinds: Collection[str] = DISK_USAGE_KINDS) -> DiskUsage:
        """docker system df: what images, containers, volumes and the build cache take.
        ``kinds`` (of DISK_USAGE_KINDS) says which parts to measure, as dockerd's
        ``?type=``: the others come back empty (and ``layers_size`` 0 without images),
        and what only they need (a container's or volume's walk) is not done."""
        unknown = set(kinds) - set(DISK_USAGE_KINDS)
        if unknown:
            raise InvalidArgument(f"unknown object type: {sorted(unknown)[0]}")
        s = self._s
        every = s.image_store.list()
        await measure_layers(s.image_store, [la for i in every for la in i.layers])
        hidden = s.build_cache().intermediate(every)
        images = [i for i in every if i.id not in hidden]
        containers = await self._containers.list(all=True)  # images and volumes count users
        measured = containers if "container" in kinds else []
        volumes = (s.volume_store.all() if "volume" in kinds
                   else self._builder.cache_volumes() if "build-cache" in kinds else [])
        volume_sizes: dict[str, int] = {}
        container_sizes: dict[str, int] = {}
        if measured or volumes:
            usage = await s.call(requests.DiskUsage(containers=[c.id for c in measured],
                                                    volumes=[v.name for v in volumes]))
            volume_sizes, container_sizes = usage.volumes, usage.containers
        cache = await self._builder.records(volume_sizes) if "build-cache" in kinds else []
        cache_volumes = {v.name for v in self._builder.cache_volumes()}
        whole = disk_usage(images, s.image_store.layer_sizes(), containers, container_sizes,
                           [v for v in volumes if v.name not in cache_volumes]
                           if "volume" in kinds else [], volume_sizes, build_cache=cache)
        return replace(whole, layers_size=whole.layers_size if "image" in kinds else 0,
                       images=whole.images if "image" in kinds else [],
                       containers=whole.containers if "container" in kinds else [])
