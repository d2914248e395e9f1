"""``engine.system``: what concerns the engine as a whole: where it keeps its
state, and docker system df's figures (engine/diskusage.py)."""

from __future__ import annotations

from pathlib import Path

from engine.diskusage import DiskUsage, disk_usage
from engine.images.sizes import measure_layers
from engine.services.builder import BuilderService
from engine.services.containers import ContainerService
from engine.services.shared import Shared
from engine.wire import requests

__all__ = ["SystemService"]


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

    async def df(self) -> DiskUsage:
        """docker system df: what images, containers, volumes and the build cache take."""
        s = self._s
        every = s.image_store.list()
        await measure_layers(s.image_store, [la for i in every for la in i.layers])
        hidden = s.build_cache().intermediate(every)
        images = [i for i in every if i.id not in hidden]
        containers = await self._containers.list(all=True)
        volumes = s.volume_store.all()
        usage = await s.call(requests.DiskUsage(containers=[c.id for c in containers],
                                                volumes=[v.name for v in volumes]))
        volume_sizes = usage.volumes
        cache = await self._builder.records(volume_sizes)
        cache_volumes = {c.id for c in cache if c.type == "exec.cachemount"}
        return disk_usage(images, s.image_store.layer_sizes(), containers,
                          usage.containers,
                          [v for v in volumes if v.name not in cache_volumes], volume_sizes,
                          build_cache=cache)
