"""A synchronous, read-only look at this user's containers, images and logs.

What ``skiff ps``, ``images``, ``inspect`` and ``logs --tail`` show is what the
stores, the monitors' status files and the log files say: nothing to ask the
helper, nothing to wait for. Read through this view they need no event loop,
so the CLI imports neither asyncio nor the services for them (together ~60 %
of such a command's time before; README's figures). The services read the
same stores, status reader and log reader, so both show the same thing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cached_property

from engine import paths
from engine.db import Database

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.containers.details import ContainerDetails
    from engine.containers.model import Container, LogLine
    from engine.containers.sampler import StatsSampler
    from engine.containers.statusreader import StatusReader
    from engine.containers.store import ContainerRecord, ContainerStore
    from engine.images.model import Image
    from engine.images.store import ImageStore

__all__ = ["Reader"]


class Reader:
    """Open with ``with Reader() as reader:``; every method reads and returns at once.

    The stores are opened on first use: ``images`` needs none of the containers'
    modules, ``ps`` none of the images' but their run configs."""

    def __init__(self) -> None:
        self.db = Database(os.path.join(paths.engine_root(), "skiff.db"))
        # Pages read through a memory map, not copied into SQLite's cache: a forked
        # `ps -a` read 201 containers' rows in ~1.7 ms instead of ~2.9. A reader
        # writes nothing, and SQLite maps only what the file has.
        self.db.conn.execute("PRAGMA mmap_size = 268435456")
        self.containers_dir = os.path.join(paths.helper_root(), "users", str(os.getuid()),
                                           "containers")
        self.hidden_auto_removes = 0  # exited --rm containers the last list left out

    @staticmethod
    def rehearse() -> None:
        """Read an empty store in a throwaway folder, for a process that forks a reader
        per command (app/cli/forkserver.py): what reading compiles or sets up on first
        use (the patterns of image references, IDs and digests; SQLite's own set-up)
        is then done once, before the forks, instead of in every child (~3 ms of
        `skiff images`' ~12 here). Nothing else is kept: no path, no record, no cache."""
        import contextlib
        import shutil
        import tempfile

        from engine.containers.store import ContainerStore
        from engine.errors import NotFound
        from engine.images.blobs import BlobStore, validate_digest
        from engine.images.store import ImageStore
        from engine.timestamps import rfc3339_ns
        from engine.wire.containerspec import SCHEMA
        from engine.wire.schema import compile_patterns

        remembered = tempfile.tempdir
        folder = tempfile.mkdtemp(prefix="skiff-rehearsal-")
        tempfile.tempdir = remembered  # mkdtemp remembers $TMPDIR: a command's own to find
        try:
            db = Database(os.path.join(folder, "skiff.db"))
            try:
                images = ImageStore(db, BlobStore(folder))
                digest = "sha256:" + "0" * 64
                for ref in ("busybox", f"localhost:5000/a/b:c@{digest}", digest, "0123"):
                    with contextlib.suppress(NotFound):
                        images.get(ref)
                with contextlib.suppress(NotFound):
                    ContainerStore(db).find("0123")
            finally:
                db.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        validate_digest("sha256:" + "0" * 64)
        rfc3339_ns("2024-01-01T00:00:00+00:00")  # not the stored form: its pattern
        compile_patterns(SCHEMA)  # inspect checks the container's spec

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- containers -------------------------------------------------------------------
    @cached_property
    def container_store(self) -> ContainerStore:
        from engine.containers.store import ContainerStore

        return ContainerStore(self.db)

    @cached_property
    def status(self) -> StatusReader:
        from engine.containers.statusreader import StatusReader

        return StatusReader(lambda: self.containers_dir)

    def _container(self, record: ContainerRecord) -> Container:
        from engine.containers.model import Container

        return Container(record.id, record.name, record.created, record.config,
                         self.status.state(record))

    def containers(self, all: bool = False) -> list[Container]:
        """The running containers (``all``: in any state), in creation order, as
        ``engine.containers.list`` shows them. An exited ``--rm`` container is left
        out and counted in ``hidden_auto_removes``: removing it (once its client
        had time to read its exit code) is the engine's list's to do."""
        from engine.containers.model import Container
        from engine.containers.state import Status

        found = []
        self.hidden_auto_removes = 0
        for record in self.container_store.all():
            # The state first: a record's config is made only for a container shown.
            state = self.status.state(record)
            if state.status is Status.EXITED and record.auto_remove:
                self.hidden_auto_removes += 1
                continue
            if all or state.running:
                found.append(Container(record.id, record.name, record.created, record.config,
                                       state))
        return found

    def container(self, ref: str) -> Container:
        """By name, full or unique short ID; raises ContainerNotFound."""
        return self._container(self.container_store.find(ref))

    def container_inspect(self, ref: str) -> ContainerDetails | None:
        """docker container inspect's facts, as ``engine.containers.inspect`` gives
        them; None for a running container on a network, whose endpoints only the
        helper knows (ask the engine). Raises ContainerNotFound."""
        from engine.containers.inspectdoc import inspect_details, needs_live_endpoints
        from engine.errors import ImageNotFound, NotFound
        from engine.networkattachments import NetworkAttachments
        from engine.volumes import VolumeStore

        record = self.container_store.find(ref)
        container = self._container(record)
        if needs_live_endpoints(container):
            return None
        try:
            image: Image | None = self.image_store.get(record.config.image_id)
        except ImageNotFound:
            image = None
        volumes = VolumeStore(self.db)

        def mountpoint(name: str) -> str:
            try:
                return volumes.get(name).mountpoint
            except NotFound:
                return ""

        return inspect_details(record, container, image, f"{self.containers_dir}/{record.id}",
                               NetworkAttachments(self.db).of(record.id), mountpoint)

    def ports(self, container: Container) -> dict[str, list[dict[str, str]] | None]:
        """NetworkSettings.Ports of a running container ({} for any other)."""
        if not container.state.running:
            return {}
        return published_ports(f"{self.containers_dir}/{container.id}")

    def logs(self, ref: str, tail: int | None = None, since_ns: int | None = None,
             until_ns: int | None = None) -> Iterator[LogLine]:
        """What the container wrote so far (its last ``tail`` lines), oldest first."""
        from engine.containers.logs import log_lines

        record = self.container_store.find(ref)
        if record.config.log_driver == "none":
            from engine.errors import InvalidArgument

            raise InvalidArgument("configured logging driver does not support reading")
        return log_lines(f"{self.containers_dir}/{record.id}/ctr.log", tail=tail,
                         since_ns=since_ns, until_ns=until_ns)

    def sampler(self) -> StatsSampler:
        """A sampler of containers' resource use (the CPU share is measured between
        two samples of the same sampler)."""
        from engine.containers.sampler import StatsSampler

        return StatsSampler(paths.cgroup_parent())

    # -- images -----------------------------------------------------------------------
    @cached_property
    def image_store(self) -> ImageStore:
        from engine.images.blobs import BlobStore
        from engine.images.store import ImageStore

        return ImageStore(self.db, BlobStore(paths.engine_root()))

    def images(self, all: bool = False) -> list[Image]:
        """The local images; without ``all``, not a build's intermediate ones."""
        from engine.build.cache import BuildCache

        images = self.image_store.list()
        if all:
            return images
        hidden = BuildCache(self.db).intermediate(images)
        return [i for i in images if i.id not in hidden]

    def image(self, ref: str) -> Image:
        """By reference, full or short ID; raises ImageNotFound."""
        return self.image_store.get(ref)



def published_ports(container_dir: str) -> dict[str, list[dict[str, str]] | None]:
    """The ports a running container publishes, as its network.json records them."""
    try:
        with open(f"{container_dir}/network.json") as f:
            ports = json.load(f).get("Ports") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): v for k, v in ports.items()}
