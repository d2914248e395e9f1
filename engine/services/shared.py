"""What the engine's services share: the stores, the helper client, the status
reader, the locks and the event journal.

One ``Shared`` lives as long as its ``Engine``; the services get it when the
facade wires them, and the facade closes it. Nothing here is public API: the
services are the way in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from engine import paths
from engine.changefeed import ChangeFeed
from engine.containers.statshistory import StatsHistory
from engine.containers.statusreader import StatusReader
from engine.containers.store import ContainerRecord, ContainerStore
from engine.db import Database
from engine.errors import ContainerNotFound
from engine.eventlog import append_event
from engine.helperclient import HelperClient
from engine.images.blobs import BlobStore
from engine.images.model import Layer
from engine.images.store import ImageStore
from engine.networkattachments import Attachment, NetworkAttachments
from engine.networklabels import NetworkLabels
from engine.paths import changes_file
from engine.volumes import VolumeStore
from engine.wire.requests import (
    ClaimLayer,
    ContainerRemove,
    NetworkConnect,
    Repair,
    Request,
    UnpackLayer,
)

if TYPE_CHECKING:
    from engine.build.cache import BuildCache
    from engine.registry.service import RegistryClient

__all__ = ["Shared"]

R = TypeVar("R")


class Shared:
    def __init__(self) -> None:
        self.root = Path(paths.engine_root())
        self.db = Database(self.root / "skiff.db")
        self.blobs = BlobStore(self.root)
        self.image_store = ImageStore(self.db, self.blobs)
        self.container_store = ContainerStore(self.db)
        self.volume_store = VolumeStore(self.db)
        self.network_labels = NetworkLabels(self.db)
        self.network_attachments = NetworkAttachments(self.db)
        self.helper = HelperClient(Path(paths.helper_root()), paths.cgroup_parent())
        self._containers_dir: tuple[Path, Path] | None = None
        self.status = StatusReader(lambda: self.containers_dir)
        self.locks: dict[str, asyncio.Lock] = {}
        self._stats_store: StatsHistory | None = None
        self._registry: RegistryClient | None = None
        self._repaired = False
        self._repairing = asyncio.Lock()

    @property
    def containers_dir(self) -> Path:
        """This user's container directories under the helper's root (which the helper
        names when it starts): made again only when that root changes, as listing asks
        for it once per container."""
        root = self.helper.root
        if self._containers_dir is None or self._containers_dir[0] is not root:
            self._containers_dir = (root, root / "users" / str(os.getuid()) / "containers")
        return self._containers_dir[1]

    def dir(self, container_id: str) -> Path:
        return self.containers_dir / container_id

    @property
    def stats_store(self) -> StatsHistory:
        """Samples live in a database of their own: written every second while the app
        charts a container, they would otherwise wake every event stream watching
        the main one (engine/changefeed.py)."""
        if self._stats_store is None:
            self._stats_store = StatsHistory(Database(self.root / "stats.db"))
        return self._stats_store

    def forget_stats(self, container_id: str) -> None:
        """A removed container's recorded samples go, if this engine has the history
        open (the window, which records them). Otherwise they age out with the rest
        (StatsHistory keeps an hour): opening stats.db only to delete, then closing
        it (a checkpoint), was ~4 ms of every `rm` and `run --rm`."""
        if self._stats_store is not None:
            self._stats_store.forget(container_id)

    def registry(self) -> RegistryClient:
        """The registry client (imported on first use: most commands never need HTTP)."""
        if self._registry is None:
            from engine.registry.credentials import CredentialStore
            from engine.registry.service import RegistryClient

            self._registry = RegistryClient(self.blobs, self.image_store, CredentialStore())
        return self._registry

    def build_cache(self) -> BuildCache:
        """Which images a build made on the way (engine/build/cache.py)."""
        from engine.build.cache import BuildCache

        return BuildCache(self.db)

    def lock(self, container_id: str) -> asyncio.Lock:
        return self.locks.setdefault(container_id, asyncio.Lock())

    async def close(self) -> None:
        await self.helper.close()
        self.db.close()
        if self._stats_store is not None:
            self._stats_store.db.close()

    # -- the event journal ----------------------------------------------------------
    def emit(self, type_: str, action: str, ident: str, **attributes: str) -> None:
        """Journal what the user asked for (engine/eventlog.py); monitors journal the rest."""
        append_event(self.root / "events.log", type_, action, ident, attributes, mode=0o600)

    def emit_container(self, record: ContainerRecord, action: str, **attributes: str) -> None:
        self.emit("container", action, record.id, name=record.name,
                  image=record.config.image, **attributes)

    def journals(self) -> list[Path]:
        """This user's two journals (engine/eventlog.py): the engine's and the helper's."""
        return [self.root / "events.log", changes_file(self.containers_dir).with_name(
            "events.log")]

    def change_feed(self) -> ChangeFeed:
        return ChangeFeed(changes_file(self.containers_dir), self.root,
                          (os.path.basename(self.db.path), "events.log"))

    # -- the helper -----------------------------------------------------------------
    async def call(self, request: Request[R], fds: list[int] | None = None) -> R:
        """A helper request and its typed reply; the first one of this engine lets the
        helper repair first."""
        await self.repair_once()
        return await self._send(request, fds)

    async def _send(self, request: Request[R], fds: list[int] | None = None) -> R:
        return request.reply(await self.helper.call(request.VERB, request.to_args(), fds))

    async def repair_once(self) -> None:
        """Before this engine's first helper request: the helper drops what crashes
        left, and removals that a killed command left half done are finished."""
        # Concurrent first requests wait for one repair: a removal marked while it
        # ran is in flight, not a leftover, and must not be finished twice.
        async with self._repairing:
            if self._repaired:
                return
            await self._send(Repair(ids=self.container_store.ids(),
                                    layers=sorted(self.image_store.diff_ids())))
            for record in self.container_store.removing():
                with contextlib.suppress(ContainerNotFound):
                    await self._send(ContainerRemove(id=record.id, force=True))
                self.container_store.remove(record.id)
                self.network_attachments.forget(record.id)
                self.emit_container(record, "destroy")
            self._repaired = True

    async def connect(self, record: ContainerRecord, attachment: Attachment) -> None:
        """Have the helper join the running container to a network beyond its own."""
        await self.call(NetworkConnect(
            id=record.id, network=attachment.network, name=record.name,
            hostname=record.config.hostname or record.id[:12],
            aliases=list(attachment.aliases), ip=attachment.ip or None,
            ip6=attachment.ip6 or None, mac=attachment.mac or None,
            link_local=list(attachment.link_local_ips) or None))

    async def unpack_layer(self, layer: Layer) -> None:
        """Have the helper unpack a stored blob (it verifies the digests itself); either
        way, it records that our images use the layer."""
        if await self.call(ClaimLayer(diff_id=layer.diff_id)):
            return
        fd = os.open(self.blobs.path(layer.digest), os.O_RDONLY | os.O_CLOEXEC)
        try:
            await self._unpack_from(layer, fd, digest=layer.digest)
        finally:
            os.close(fd)

    async def stream_layer(self, layer: Layer, blob: int) -> None:
        """``unpack_layer`` from the descriptor ``blob``: the pipe a pull feeds while
        the layer downloads (engine/registry/blobfeed.py). The blob store checks the
        blob's digest; the helper checks only the tar's (the diff_id, which names the
        layer), sparing a third sha256 of every byte."""
        if not await self.call(ClaimLayer(diff_id=layer.diff_id)):
            await self._unpack_from(layer, blob, digest=None)

    async def _unpack_from(self, layer: Layer, blob: int, *, digest: str | None) -> None:
        size = await self.call(UnpackLayer(diff_id=layer.diff_id, digest=digest), fds=[blob])
        self.image_store.record_sizes({layer.diff_id: size})
