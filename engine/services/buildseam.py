"""The builder's seam (engine/build/seam.py's EngineSeam) met by the engine's services.

Images in and out of the store, layers stored and unpacked, a container run to
its end with its output streamed, its changes taken as a layer, and removed
whatever happens: the few things the builder and commit need, over the shared
stores and the image and container services.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from engine.containers.config import ContainerConfig
from engine.images.mediatypes import OCI_LAYER
from engine.images.model import Image, Layer
from engine.images.sizes import measure_layers
from engine.wire.requests import ContainerLayer

if TYPE_CHECKING:
    from engine.services.containers import ContainerService
    from engine.services.images import ImageService
    from engine.services.shared import Shared

__all__ = ["ServiceSeam"]


class ServiceSeam:
    """Over the engine's shared stores and its image and container services (the
    facade wires it: ``Engine.images.build``, ``Engine.containers.commit``)."""

    def __init__(self, shared: Shared, images: ImageService,
                 containers: ContainerService) -> None:
        self.shared = shared
        self.image_service = images
        self.containers = containers
        self.blobs = shared.blobs
        self.images = shared.image_store
        self.db = shared.db
        self.root = shared.root
        self._removals: set[asyncio.Task[None]] = set()

    def find_image(self, ref: str) -> Image | None:
        from engine.errors import ImageNotFound

        try:
            return self.images.get(ref)
        except ImageNotFound:
            return None

    async def pull(self, ref: str, platform: str | None) -> Image:
        return await self.image_service.pull(ref, platform=platform)

    async def add_image(self, manifest: bytes, config: bytes, layers: list[Layer],
                        parent: str = "") -> Image:
        await measure_layers(self.images, layers)
        return self.images.add(manifest=manifest, config=config, layers=layers, parent=parent)

    def tag(self, image_id: str, name: str) -> None:
        from engine.images.reference import Reference

        self.images.tag(image_id, Reference.parse(name).canonical)
        self.shared.emit("image", "tag", image_id, name=Reference.parse(name).familiar)

    def temporary(self) -> IO[bytes]:
        """An anonymous file in the user's own storage, for a layer being made."""
        return tempfile.TemporaryFile(dir=self.root)

    async def store_layer(self, tar: IO[bytes]) -> Layer:
        """A layer tar (uncompressed, its digest is its diff_id) into the store, and
        unpacked by the helper, which checks it like a pulled one."""
        tar.flush()
        tar.seek(0)
        loop = asyncio.get_running_loop()
        digest, _new = await loop.run_in_executor(None, self.blobs.ingest_new, tar)
        layer = Layer(digest, digest, self.blobs.size(digest), OCI_LAYER)
        await self.shared.unpack_layer(layer)
        return layer

    async def run(self, config: ContainerConfig,
                  output: Callable[[str, bytes], None],
                  started: Callable[[str], None] | None = None) -> tuple[int, Layer | None]:
        """Run a container to its end: its exit code and its changes as a layer (None
        when it changed nothing). The container is removed in every case: while the
        build goes on, and ``settle`` waits for that."""
        container = await self.containers.create(config)
        try:
            if started is not None:
                started(container.id)
            session = await self.containers.start_attached(container.id)
            try:
                while True:
                    stream, data = await session.read()
                    if not stream:
                        break
                    output(stream, data)
                code = session.exit_code
            finally:
                session.close()
            if code is None:
                code = await self.containers.wait(container.id)
            if code != 0:
                return code, None
            return 0, await self.container_layer(container.id)
        finally:
            removal = asyncio.ensure_future(self._remove(container.id))
            self._removals.add(removal)
            removal.add_done_callback(self._removals.discard)

    async def _remove(self, container_id: str) -> None:
        with contextlib.suppress(Exception):
            await self.containers.remove(container_id, force=True, volumes=True)

    async def settle(self) -> None:
        """Wait for the removals ``run`` started (also when the build was cancelled)."""
        while self._removals:
            await asyncio.shield(asyncio.gather(*self._removals, return_exceptions=True))

    async def ensure_volume(self, name: str, labels: dict[str, str]) -> None:
        """A named volume of the user's (a RUN --mount=type=cache), made if missing."""
        if not self.shared.volume_store.exists(name):
            await self.containers.volumes.create(name, labels)

    async def container_layer(self, container_id: str) -> Layer | None:
        with self.temporary() as tar:
            entries = await self.shared.call(ContainerLayer(id=container_id),
                                             fds=[tar.fileno()])
            if not entries:
                return None
            return await self.store_layer(tar)  # the helper's writes are in our file

    def emit(self, action: str, image_id: str, **attributes: Any) -> None:
        self.shared.emit("image", action, image_id,
                         **{k: str(v) for k, v in attributes.items()})
