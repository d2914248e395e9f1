"""The engine's public face: one small facade of per-resource services.

The app, the CLI and the Docker API server each open one ``Engine`` in their own
process and reach everything through its services, as docker-py's client does::

    async with Engine() as engine:
        await engine.images.pull("busybox")
        container = await engine.containers.create(ContainerConfig(image="busybox"))
        await engine.containers.start(container.id)

Every service has the same verbs where they make sense (``create``, ``get``,
``list``, ``inspect``, ``remove``, ``prune``) and its resource's own. The facade
only wires them: it owns the shared stores and caches (engine/services/shared.py)
and their lifecycle. A service's module is imported on first use, so a command
pays only for what it touches.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from engine.services.shared import Shared

if TYPE_CHECKING:
    from engine.build.seam import EngineSeam
    from engine.services.builder import BuilderService
    from engine.services.containers import ContainerService
    from engine.services.events import EventService
    from engine.services.images import ImageService
    from engine.services.networks import NetworkService
    from engine.services.registry import RegistryService
    from engine.services.stats import StatsService
    from engine.services.system import SystemService
    from engine.services.volumes import VolumeService

__all__ = ["Engine"]


class Engine:
    """Open with ``async with Engine() as engine:``.

    ``root`` moves all storage under one directory (as ``SKIFF_ROOT`` does).
    """

    def __init__(self, root: Path | None = None) -> None:
        if root is not None:
            os.environ["SKIFF_ROOT"] = str(root)
        self._shared = Shared()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._shared.close()

    @cached_property
    def containers(self) -> ContainerService:
        from engine.services.containers import ContainerService

        return ContainerService(self._shared, self.volumes, self._build_seam)

    @cached_property
    def images(self) -> ImageService:
        from engine.services.images import ImageService

        return ImageService(self._shared, self._build_seam)

    @cached_property
    def builder(self) -> BuilderService:
        from engine.services.builder import BuilderService

        return BuilderService(self._shared, self.images, self.volumes)

    @cached_property
    def registry(self) -> RegistryService:
        from engine.services.registry import RegistryService

        return RegistryService(self._shared)

    @cached_property
    def networks(self) -> NetworkService:
        from engine.services.networks import NetworkService

        return NetworkService(self._shared)

    @cached_property
    def volumes(self) -> VolumeService:
        from engine.services.volumes import VolumeService

        return VolumeService(self._shared)

    @cached_property
    def events(self) -> EventService:
        from engine.services.events import EventService

        return EventService(self._shared)

    @cached_property
    def stats(self) -> StatsService:
        from engine.services.stats import StatsService

        return StatsService(self._shared, self.containers)

    def _build_seam(self) -> EngineSeam:
        """What the builder and commit reach of the engine (engine/build/seam.py)."""
        from engine.services.buildseam import ServiceSeam

        return ServiceSeam(self._shared, self.images, self.containers)

    @cached_property
    def system(self) -> SystemService:
        from engine.services.system import SystemService

        return SystemService(self._shared, self.containers, self.builder)
