"""What the builder needs from the rest of the engine, in one narrow place.

Images in and out of the store, layers stored and unpacked, a container run to
its end with its output streamed, its changes taken as a layer, and removed
whatever happens. The builder calls nothing else of the engine, so a change in
the engine's shape is a change here alone. This is the need, as a Protocol; the
engine meets it over its services (engine/services/buildseam.py), so the build
package depends on no service and the services may use the builder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from engine.containers.config import ContainerConfig
from engine.containers.model import Container
from engine.db import Database
from engine.images.blobs import BlobStore
from engine.images.model import Image, Layer
from engine.images.store import ImageStore

__all__ = ["EngineSeam", "SeamContainers"]


class SeamContainers(Protocol):
    """The container verbs commit uses."""

    async def get(self, ref: str) -> Container: ...

    async def pause(self, ref: str) -> Container: ...

    async def unpause(self, ref: str) -> Container: ...

    async def wait(self, ref: str) -> int: ...


class EngineSeam(Protocol):
    """The engine as the builder and commit see it (``Engine.images.build``,
    ``Engine.containers.commit``)."""

    @property
    def containers(self) -> SeamContainers: ...

    @property
    def blobs(self) -> BlobStore: ...

    @property
    def images(self) -> ImageStore: ...

    @property
    def db(self) -> Database: ...

    @property
    def root(self) -> Path: ...

    def find_image(self, ref: str) -> Image | None: ...

    async def pull(self, ref: str, platform: str | None) -> Image: ...

    async def add_image(self, manifest: bytes, config: bytes, layers: list[Layer],
                        parent: str = "") -> Image: ...

    def tag(self, image_id: str, name: str) -> None: ...

    def temporary(self) -> IO[bytes]:
        """An anonymous file in the user's own storage, for a layer being made."""
        ...

    async def store_layer(self, tar: IO[bytes]) -> Layer:
        """A layer tar (uncompressed, its digest is its diff_id) into the store, and
        unpacked by the helper, which checks it like a pulled one."""
        ...

    async def run(self, config: ContainerConfig,
                  output: Callable[[str, bytes], None],
                  started: Callable[[str], None] | None = None) -> tuple[int, Layer | None]:
        """Run a container to its end: its exit code and its changes as a layer (None
        when it changed nothing). The container is removed in every case."""
        ...

    async def settle(self) -> None:
        """Wait for the removals of the containers ``run`` ran."""
        ...

    async def ensure_volume(self, name: str, labels: dict[str, str]) -> None:
        """A named volume of the user's (a RUN --mount=type=cache), made if missing."""
        ...

    async def container_layer(self, container_id: str) -> Layer | None: ...

    def emit(self, action: str, image_id: str, **attributes: Any) -> None: ...
