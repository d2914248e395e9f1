"""The engine's public face: one object whose coroutines are Skiff's verbs.

The app and the CLI each create one ``Engine`` in their own process. It keeps
metadata in SQLite, talks to registries, and asks the privileged helper for
every step that needs root. Each container verb follows one pattern:
lock → refresh from reality → check the status machine → act → save → emit.

Reading (ps, logs, inspect, wait, events, stats) never needs the helper: the
monitors' status files and logs are readable by the container's owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

from engine import paths
from engine.changefeed import ChangeFeed
from engine.containers import runspec
from engine.containers.attachsession import AttachSession
from engine.containers.bindsources import BindSources, open_bind_sources
from engine.containers.checks import check_resources
from engine.containers.cmdline import run_command
from engine.containers.config import ContainerConfig, MountSpec, Resources, RestartPolicy
from engine.containers.execsession import ExecSession
from engine.containers.explain import exit_reason
from engine.containers.files import FileEntry, FileService, NamespaceInfo
from engine.containers.inspect import container_inspect
from engine.containers.logformat import format_time, parse_time
from engine.containers.logopts import user_defaults
from engine.containers.logs import read_log
from engine.containers.model import Change, Container, Event, LogLine, ProcessInfo, Stats
from engine.containers.securityopt import normalize_security_opts
from engine.containers.state import ContainerState, Status
from engine.containers.statshistory import StatsHistory
from engine.containers.statusfile import ACTIVE as _ACTIVE
from engine.containers.statusfile import StatusRecord, monitor_death, read_status_file
from engine.containers.store import ContainerRecord, ContainerStore
from engine.db import Database
from engine.diskusage import DiskUsage, disk_usage
from engine.errors import (
    Conflict,
    ContainerNotFound,
    HelperLost,
    ImageNotFound,
    InUse,
    InvalidArgument,
    InvalidState,
    LayerError,
    NetworkNotFound,
    NotFound,
    SkiffError,
)
from engine.eventlog import JournalTail, append_event, read_events
from engine.helper.runtime.spec import changes_file
from engine.helperclient import HelperClient
from engine.images.blobs import BlobStore
from engine.images.history import HistoryEntry, image_history
from engine.images.model import Image, Layer
from engine.images.reference import Reference
from engine.images.sizes import measure_layers
from engine.images.store import ImageStore
from engine.names import (
    check_container_name,
    check_network_name,
    check_volume_name,
    generate_name,
)
from engine.networkattachments import Attachment, NetworkAttachments
from engine.networklabels import NetworkLabels
from engine.processes import is_alive
from engine.prune import Pruned, prune_containers, prune_images, prune_networks
from engine.registry.distribution import Distribution
from engine.registry.model import PullProgress, PushProgress, SearchResult
from engine.timestamps import parse_timestamp
from engine.volumes import Volume, VolumeStore

__all__ = ["Engine"]

#: Seconds between the event stream's looks when nothing woke it: only for what no
#: watch covers (a monitor from an older Skiff that does not announce its changes).
SAFETY_LOOK = 10.0
#: A --rm container that exited is removed by whoever lists after this many seconds.
AUTO_REMOVE_GRACE = 5.0
_T = TypeVar("_T")


class Engine:
    """Open with ``async with Engine() as engine:``.

    ``root`` moves all storage under one directory (as ``SKIFF_ROOT`` does).
    """

    def __init__(self, root: Path | None = None) -> None:
        if root is not None:
            os.environ["SKIFF_ROOT"] = str(root)
        self.root = paths.engine_root()
        self.db = Database(self.root / "skiff.db")
        self.blobs = BlobStore(self.root)
        self.image_store = ImageStore(self.db, self.blobs)
        self.container_store = ContainerStore(self.db)
        self.volume_store = VolumeStore(self.db)
        self.network_labels = NetworkLabels(self.db)
        self.network_attachments = NetworkAttachments(self.db)
        self._stats_store: StatsHistory | None = None
        self.helper = HelperClient(paths.helper_root(), paths.cgroup_parent())
        self._locks: dict[str, asyncio.Lock] = {}
        self._cpu_samples: dict[str, tuple[int, int]] = {}
        self._top_procs: dict[str, dict[int, Any]] = {}  # psutil.Process kept between calls
        self._registry_service: Any = None
        self._repaired = False
        self._status_cache: dict[str, tuple[tuple[int, int, int], StatusRecord]] = {}
        self._alive_cache: dict[int, float] = {}

    @property
    def helper_root(self) -> Path:
        """Where the helper keeps containers (it says so when it starts)."""
        return self.helper.root

    @property
    def cgroup_parent(self) -> str:
        return self.helper.cgroup_parent

    @property
    def _containers_dir(self) -> Path:
        return self.helper.root / "users" / str(os.getuid()) / "containers"

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.helper.close()
        self.db.close()
        if self._stats_store is not None:
            self._stats_store.db.close()

    @property
    def stats_store(self) -> StatsHistory:
        """Samples live in a database of their own: written every second while the app
        charts a container, they would otherwise wake every event stream watching
        the main one (engine/changefeed.py)."""
        if self._stats_store is None:
            self._stats_store = StatsHistory(Database(self.root / "stats.db"))
        return self._stats_store

    # -- images ---------------------------------------------------------------
    async def images(self, all: bool = False) -> list[Image]:
        """The local images; without ``all``, not a build's intermediate ones."""
        images = self.image_store.list()
        if all:
            return images
        hidden = self._build_cache().intermediate(images)
        return [i for i in images if i.id not in hidden]

    def _build_cache(self) -> Any:
        from engine.build.cache import BuildCache

        return BuildCache(self.db)

    async def image(self, ref: str) -> Image:
        """By reference, full or short ID; raises ImageNotFound."""
        return self.image_store.get(ref)

    async def image_inspect(self, ref: str) -> dict[str, Any]:
        from engine.images.inspect import image_inspect

        return image_inspect(self.image_store.get(ref))

    async def load(self, archive: Path) -> list[Image]:
        """Import a docker save or OCI archive; each image with the tags the archive gave."""
        from engine.images.archive import read_archive

        if not archive.is_file():
            raise InvalidArgument(f"open {archive}: no such file")
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, read_archive, archive, self.blobs)
        images = []
        for item in found:
            for layer in item.layers:
                await self.unpack_layer(layer)
            await measure_layers(self.image_store, item.layers)
            stored = self.image_store.add(manifest=item.manifest, config=item.config,
                                          layers=item.layers, tags=item.tags)
            # What the archive named, as `docker load` reports it (not older tags).
            images.append(_replace(stored, repo_tags=[t for t in stored.repo_tags
                                                      if t in item.tags]))
            self._emit("image", "load", stored.id,
                       name=",".join(Reference.parse(t).familiar for t in item.tags) or stored.id)
        return images

    async def save(self, refs: Sequence[str], archive: Path) -> None:
        from engine.images.archive import write_archive

        chosen: list[tuple[Image, list[str]]] = []
        for ref in refs:
            image = self.image_store.get(ref)
            tags = [t for t in image.repo_tags if _names_tag(ref, t)] or list(image.repo_tags)
            chosen.append((image, tags))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, write_archive, archive, chosen, self.blobs)
        for image, tags in chosen:
            self._emit("image", "save", image.id,
                       name=",".join(Reference.parse(t).familiar for t in tags) or image.id)

    async def tag(self, source: str, target: str) -> None:
        image = self.image_store.get(source)
        name = Reference.parse(target).canonical
        self.image_store.tag(image.id, name)
        self._emit("image", "tag", image.id, name=Reference.parse(name).familiar)

    async def remove_image(self, ref: str, force: bool = False) -> list[tuple[str, str]]:
        """Returns docker's ("Untagged"|"Deleted", name) lines."""
        image = self.image_store.get(ref)
        named = _tag_of(ref, image)
        lines: list[tuple[str, str]] = []
        if named and len(image.repo_tags) > 1:
            self.image_store.untag(named)
            self._emit("image", "untag", image.id, name=Reference.parse(named).familiar)
            return [("Untagged", Reference.parse(named).familiar)]
        users = self.container_store.users_of_image(image.id)
        if users and not force:
            user = users[0]
            what = f'repository reference "{ref}"' if named else image.short_id
            raise InUse(f"conflict: unable to remove {what} (must force) - container "
                        f"{user.id[:12]} ({user.name}) is using its referenced image "
                        f"{image.short_id}")
        for tag in image.repo_tags:
            lines.append(("Untagged", Reference.parse(tag).familiar))
        for digest_ref in image.repo_digests:
            lines.append(("Untagged", digest_ref))
        if users:  # forced: the image keeps existing for its containers, untagged
            for tag in image.repo_tags:
                self.image_store.untag(tag)
                self._emit("image", "untag", image.id, name=Reference.parse(tag).familiar)
            return lines
        # Our images no longer need these: the helper drops our references, and a
        # layer only once no user and no container needs it (ours included).
        for diff_id in self.image_store.remove(image.id):
            await self._call("remove_layer", {"diff_id": diff_id})
        for tag in image.repo_tags:
            self._emit("image", "untag", image.id, name=Reference.parse(tag).familiar)
        self._emit("image", "delete", image.id, name=image.id)
        lines.append(("Deleted", image.id))
        return lines

    async def unpack_layer(self, layer: Layer) -> None:
        """Have the helper unpack a stored blob (it verifies the digests itself); either
        way, it records that our images use the layer."""
        if await self._call("claim_layer", {"diff_id": layer.diff_id}):
            return
        fd = os.open(self.blobs.path(layer.digest), os.O_RDONLY | os.O_CLOEXEC)
        try:
            await self._call("unpack_layer", {"diff_id": layer.diff_id,
                                                    "digest": layer.digest}, fds=[fd])
        finally:
            os.close(fd)

    # -- registries (engine/registry) -------------------------------------------
    def _registry(self) -> Any:
        if self._registry_service is None:
            from engine.registry.credentials import CredentialStore
            from engine.registry.service import RegistryService

            self._registry_service = RegistryService(self.blobs, self.image_store,
                                                     CredentialStore())
        return self._registry_service

    async def pull(self, ref: str, *, platform: str | None = None,
                   progress: Callable[[PullProgress], None] | None = None,
                   credentials: tuple[str, str] | None = None) -> Image:
        """Pull and unpack; progress gets per-layer PullProgress events. ``credentials``
        (user, password) are used for this pull instead of the stored ones."""
        image: Image = await self._registry().pull(
            Reference.parse(ref), platform=platform, progress=progress,
            unpack=self.unpack_layer, credentials=_credentials(credentials))
        familiar = Reference.parse(ref).familiar
        self._emit("image", "pull", familiar, name=familiar)
        return image

    async def push(self, ref: str, *,
                   progress: Callable[[PushProgress], None] | None = None,
                   credentials: tuple[str, str] | None = None) -> str:
        """Returns the pushed manifest digest; ``credentials`` as for pull."""
        reference = Reference.parse(ref)
        image = self.image_store.get(ref)
        digest: str = await self._registry().push(reference, image, progress=progress,
                                                   credentials=_credentials(credentials))
        self._emit("image", "push", reference.familiar, name=reference.familiar)
        return digest

    async def login(self, registry: str, username: str, password: str) -> None:
        """Checks the credentials against the registry, then stores them (0600)."""
        await self._registry().login(registry, username, password)

    async def logout(self, registry: str) -> None:
        await self._registry().logout(registry)

    async def search(self, term: str, limit: int = 25) -> list[SearchResult]:
        results: list[SearchResult] = await self._registry().search(term, limit)
        return results

    async def image_tags(self, repository: str) -> list[str]:
        tags: list[str] = await self._registry().tags(repository)
        return tags

    async def distribution(self, ref: str) -> Distribution:
        """The registry's descriptor of ``ref`` and the platforms it offers, pulling
        nothing (the API's /distribution/{name}/json); raises RegistryError."""
        found: Distribution = await self._registry().describe(Reference.parse(ref))
        return found

    async def catalog(self, registry: str, limit: int = 1000) -> list[str]:
        """Repositories a (private) registry lists at /v2/_catalog, as pullable names
        (``127.0.0.1:5000/team/app``); raises RegistryError."""
        names: list[str] = await self._registry().catalog(registry, limit)
        return names

    async def _call(self, verb: str, args: dict[str, Any] | None = None,
                    fds: list[int] | None = None) -> Any:
        """A helper request; the first one of this engine lets the helper repair first."""
        await self._repair_once()
        return await self.helper.call(verb, args, fds)

    async def _repair_once(self) -> None:
        """Before this engine's first helper request: the helper drops what crashes
        left, and removals that a killed command left half done are finished."""
        if self._repaired:
            return
        self._repaired = True
        await self.helper.call("repair", {"ids": self.container_store.ids(),
                                          "layers": sorted(self.image_store.diff_ids())})
        for record in self.container_store.removing():
            with contextlib.suppress(ContainerNotFound):
                await self.helper.call("container_remove", {"id": record.id, "force": True})
            self.container_store.remove(record.id)
            self.network_attachments.forget(record.id)
            self._emit_container(record, "destroy")

    # -- container state --------------------------------------------------------
    def _dir(self, container_id: str) -> Path:
        return self._containers_dir / container_id

    def _emit(self, type_: str, action: str, ident: str, **attributes: str) -> None:
        """Journal what the user asked for (engine/eventlog.py); monitors journal the rest."""
        append_event(self.root / "events.log", type_, action, ident, attributes, mode=0o600)

    def _emit_container(self, record: ContainerRecord, action: str, **attributes: str) -> None:
        self._emit("container", action, record.id, name=record.name,
                   image=record.config.image, **attributes)

    def _monitor_alive(self, pid: int) -> bool:
        """is_alive, asked of /proc at most every half second per monitor.

        A monitor records every exit itself; this only catches one that was killed,
        for which half a second late is soon enough.
        """
        now = time.monotonic()
        seen = self._alive_cache.get(pid)
        if seen is not None and now - seen < 0.5:
            return True
        if is_alive(pid):
            self._alive_cache[pid] = now
            return True
        self._alive_cache.pop(pid, None)
        return False

    def _status(self, container_id: str) -> StatusRecord | None:
        """The monitor's status.json, parsed again only when the file changed."""
        path = self._dir(container_id) / "status.json"
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._status_cache.pop(container_id, None)
            return None
        except OSError:
            self._status_cache.pop(container_id, None)
            return read_status_file(path)
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._status_cache.get(container_id)
        if cached is None or cached[0] != key:
            record = read_status_file(path)
            if record is None:
                return None
            cached = (key, record)
            self._status_cache[container_id] = cached
        return cached[1]

    def _state(self, record: ContainerRecord | str) -> ContainerState:
        if isinstance(record, ContainerRecord) and record.removing:
            return ContainerState(Status.REMOVING, error="its removal was interrupted; the "
                                  "next command finishes it")
        container_id = record if isinstance(record, str) else record.id
        cdir = self._dir(container_id)
        status = self._status(container_id)
        if status is None:
            return ContainerState(Status.CREATED)
        name = status.status
        error = status.error
        if status.damaged:
            error = f"{status.damaged} (left as it is; `skiff rm -f` removes the container)"
        if name in _ACTIVE and not self._monitor_alive(status.monitor_pid):
            # The cache may hold a record the monitor replaced within one mtime tick by
            # a file of the same size on a reused inode: read it afresh before judging.
            self._status_cache.pop(container_id, None)
            fresh = self._status(container_id)
            if fresh is not None and fresh != status:
                return self._state(record)
        if name in _ACTIVE and not self._monitor_alive(status.monitor_pid):
            # the helper's verdict too, which it records when it next looks
            status = _replace(status, **monitor_death(cdir / "status.json", error))
            name, error = status.status, status.error
        exit_code = status.exit_code
        finished_at = status.finished_at
        if name == "running" and (cdir / "paused").exists():
            name = "paused"
        return ContainerState(
            status=Status(name) if name in Status._value2member_map_ else Status.DEAD,
            pid=status.pid if name in ("running", "paused") else 0,
            exit_code=exit_code,
            oom_killed=status.oom_killed,
            started_at=status.started_at,
            finished_at=finished_at,
            error=error,
            restart_count=status.restart_count,
            stopped_by_user=status.stopped_by_user,
            signal=status.signal,
            health=status.health,
        )

    def _container(self, record: ContainerRecord) -> Container:
        return Container(record.id, record.name, record.created, record.config,
                         self._state(record))

    def _lock(self, container_id: str) -> asyncio.Lock:
        return self._locks.setdefault(container_id, asyncio.Lock())

    async def containers(self, all: bool = False) -> list[Container]:
        result = []
        for record in self.container_store.all():
            container = self._container(record)
            if container.config.auto_remove and container.state.status is Status.EXITED:
                # Gone from the list at once, as in docker; removed once its attached
                # client (which removes it itself) had time to read its exit code.
                if _seconds_since(container.state.finished_at) > AUTO_REMOVE_GRACE:
                    await self._auto_remove(container)
                continue
            if all or container.state.running:
                result.append(container)
        return result

    async def _auto_remove(self, container: Container) -> None:
        try:
            await self.remove(container.id, force=False)
        except (ContainerNotFound, InvalidState):
            pass

    async def container(self, ref: str) -> Container:
        """By name, full or unique short ID; raises ContainerNotFound."""
        return self._container(self.container_store.find(ref))

    # -- container verbs -----------------------------------------------------------
    async def create(self, config: ContainerConfig, name: str = "") -> Container:
        image = self.image_store.get(config.image_id or config.image)
        if config.image_id != image.id:
            config = _replace(config, image_id=image.id)
        name = check_container_name(name) if name else generate_name(self.container_store.names())
        if not config.log_options:  # the user's cap, else Docker's local-driver one
            config = _replace(config, log_options=user_defaults())
        config = _replace(config, mounts=await self._resolve_mounts(config, image),
                          security_opt=normalize_security_opts(config.security_opt))
        container_id = secrets.token_hex(32)
        request = runspec.runtime_request(container_id, config, image, name)
        created = format_time(time.time_ns())
        self.container_store.add(container_id, name, created, config, request)
        try:
            for layer in image.layers:
                await self.unpack_layer(layer)
            await self._call("container_create", {"id": container_id, "spec": request})
        except BaseException:
            self.container_store.remove(container_id)
            raise
        self._emit("container", "create", container_id, name=name, image=config.image)
        return await self.container(container_id)

    async def start(self, ref: str) -> Container:
        record = self.container_store.find(ref)
        async with self._lock(record.id):
            state = self._state(record)
            if state.status is Status.PAUSED:
                raise InvalidState(f"cannot start a paused container {record.name}, try "
                                   "unpause instead")
            _refuse_removing(record)
            if state.status.is_active:
                return self._container(record)
            with await self._bind_sources(record, start=True) as sources:
                request = {"id": record.id, "sources": sources.sources}
                try:
                    await self._call("container_start", request, sources.fds)
                except ContainerNotFound:
                    # The helper lost it (a crash before it was written): prepare it again.
                    await self._call("container_create",
                                     {"id": record.id, "spec": record.spec})
                    await self._call("container_start", request, sources.fds)
                except HelperLost:
                    if not await self._started_anyway(record):
                        raise
            own = "bridge" if record.config.network == "default" else record.config.network
            for attachment in self.network_attachments.of(record.id):
                if attachment.network != own:  # that one the start itself connected
                    await self._connect(record, attachment)
            return self._container(record)

    async def _started_anyway(self, record: ContainerRecord) -> bool:
        """The helper died while it started the container: the monitor it forked may
        have got it running all the same. What happened is what gets reported."""
        deadline = time.monotonic() + 2.0
        while True:
            if self._state(record).status.is_active:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)

    async def _bind_sources(self, record: ContainerRecord, *, start: bool) -> BindSources:
        """The container's bind sources, opened by us as the user: at a start (a missing
        one is made, like docker run -v), or for a look into a stopped container."""
        binds = list(record.spec.get("binds") or [])  # type: ignore[call-overload]
        if not any((b.get("type") or "bind") == "bind" for b in binds) or \
                (not start and self._state(record).status.is_active):
            return BindSources([], [])
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(
            open_bind_sources, binds, create=start, skip_missing=not start))

    async def _look_sources(self, container_id: str) -> BindSources:
        return await self._bind_sources(self.container_store.find(container_id), start=False)

    async def start_attached(self, ref: str) -> AttachSession:
        """Start it with its output (and, with open_stdin, input) in our hands from the
        first byte: docker's ``run -it`` and ``start -ai``."""
        from engine.helper.protocol import WithFds

        record = self.container_store.find(ref)
        async with self._lock(record.id):
            status = self._state(record).status
            if status.is_active:
                raise InvalidState(f"container {record.name} is already running; use attach")
            _refuse_removing(record)
            with await self._bind_sources(record, start=True) as sources:
                request = {"id": record.id, "attach": True, "sources": sources.sources}
                try:
                    reply = await self._call("container_start", request, sources.fds)
                except ContainerNotFound:
                    await self._call("container_create", {"id": record.id, "spec": record.spec})
                    reply = await self._call("container_start", request, sources.fds)
            assert isinstance(reply, WithFds)
            return AttachSession(reply.fds[0], record.config.tty)

    async def attach(self, ref: str) -> AttachSession:
        """Join a running container's output and input (docker attach)."""
        from engine.helper.protocol import WithFds

        record = self.container_store.find(ref)
        if not self._state(record).status.is_active:
            raise InvalidState("You cannot attach to a stopped container, start it first")
        reply = await self._call("container_attach", {"id": record.id})
        assert isinstance(reply, WithFds)
        return AttachSession(reply.fds[0], record.config.tty)

    async def stop(self, ref: str, timeout: int | None = None,
                   signal: str | None = None) -> Container:
        """signal: instead of the container's stop signal (docker stop -s).

        Stopping a container that is not running does nothing and is no error, as
        in docker (its API answers 304 Not Modified).
        """
        record = self.container_store.find(ref)
        async with self._lock(record.id):
            state = self._state(record)
            if not state.status.can_stop():
                return self._container(record)
            signum = runspec.parse_signal(signal) if signal else int(
                record.spec.get("stop_signal", 15))  # type: ignore[call-overload]
            if timeout is None:
                timeout = record.config.stop_timeout if record.config.stop_timeout is not None \
                    else 10
            self._emit_container(record, "kill", signal=str(signum))
            await self._call("container_stop", {"id": record.id, "signal": signum,
                                                      "timeout": max(0, timeout)})
            self._emit_container(record, "stop")
            return self._container(record)

    async def restart(self, ref: str, timeout: int | None = None) -> Container:
        container = await self.container(ref)
        if container.state.status.can_stop():
            await self.stop(container.id, timeout)
        started = await self.start(container.id)
        self._emit_container(self.container_store.find(container.id), "restart")
        return started

    async def kill(self, ref: str, signal: str = "SIGKILL") -> Container:
        record = self.container_store.find(ref)
        signum = runspec.parse_signal(signal)
        async with self._lock(record.id):
            if not self._state(record).status.can_kill():
                raise InvalidState(f"Cannot kill container: {ref}: Container {record.id} is "
                                   "not running")
            self._emit_container(record, "kill", signal=str(signum))
            await self._call("container_signal", {"id": record.id, "signal": signum})
            if signum == 9:
                await self._wait_inactive(record, 10.0)
            return self._container(record)

    async def pause(self, ref: str) -> Container:
        record = self.container_store.find(ref)
        async with self._lock(record.id):
            status = self._state(record).status
            if status is Status.PAUSED:
                raise InvalidState(f"Container {record.id} is already paused")
            if not status.can_pause():
                raise InvalidState(f"Container {record.id} is not running")
            await self._call("container_pause", {"id": record.id})
            return self._container(record)

    async def unpause(self, ref: str) -> Container:
        record = self.container_store.find(ref)
        async with self._lock(record.id):
            if not self._state(record).status.can_unpause():
                raise InvalidState(f"Container {record.id} is not paused")
            await self._call("container_unpause", {"id": record.id})
            return self._container(record)

    async def _resolve_mounts(self, config: ContainerConfig, image: Image) -> list[MountSpec]:
        """Name anonymous volumes (the image's Volumes too) and create missing ones."""
        mounts = list(config.mounts)
        targets = {m.target for m in mounts}
        for path in image.run_config.get("Volumes") or {}:
            if path not in targets:
                mounts.append(MountSpec("volume", path))
        resolved = []
        for mount in mounts:
            if mount.type == "volume":
                name = check_volume_name(mount.source) if mount.source else secrets.token_hex(32)
                if not self.volume_store.exists(name):
                    await self.volume_create(name, anonymous=not mount.source)
                mount = _replace(mount, source=name)
            resolved.append(mount)
        return resolved

    # -- volumes --------------------------------------------------------------------
    async def volume_create(self, name: str = "", labels: dict[str, str] | None = None,
                            *, anonymous: bool = False) -> Volume:
        # A volume made without a name is anonymous, as in docker: prune takes it.
        anonymous = anonymous or not name
        name = check_volume_name(name) if name else secrets.token_hex(32)
        if self.volume_store.exists(name):
            return self.volume_store.get(name)
        reply = await self._call("volume_create", {"name": name})
        volume = Volume(name, format_time(time.time_ns()), str(reply["mountpoint"]),
                        dict(labels or {}), anonymous)
        self.volume_store.add(volume)
        self._emit("volume", "create", name, driver="local")
        return volume

    async def volumes(self) -> list[Volume]:
        return self.volume_store.all()

    async def volume(self, name: str) -> Volume:
        return self.volume_store.get(name)

    async def volume_inspect(self, name: str) -> dict[str, Any]:
        return self.volume_store.get(name).inspect()

    def _volume_users(self, name: str) -> list[ContainerRecord]:
        return [r for r in self.container_store.all()
                if any(m.type == "volume" and m.source == name for m in r.config.mounts)]

    async def volume_remove(self, name: str, force: bool = False) -> None:
        volume = self.volume_store.get(name)
        users = self._volume_users(name)
        if users and not force:
            raise InUse(f"remove {name}: volume is in use - "
                        f"[{', '.join(r.id for r in users)}]")
        await self._call("volume_remove", {"name": volume.name})
        self.volume_store.remove(volume.name)
        self._emit("volume", "destroy", volume.name, driver="local")

    async def volume_prune(self, anonymous_only: bool = False) -> Pruned:
        """Remove every volume no container uses (only anonymous ones, with
        ``anonymous_only``, as docker's system prune --volumes)."""
        used = {m.source for r in self.container_store.all() for m in r.config.mounts
                if m.type == "volume"}
        doomed = [v for v in self.volume_store.all()
                  if v.name not in used and (v.anonymous or not anonymous_only)]
        result = Pruned()
        if not doomed:
            return result
        sizes = (await self._call("disk_usage", {"containers": [], "volumes": [
            v.name for v in doomed]}))["volumes"]
        for volume in doomed:
            try:
                await self.volume_remove(volume.name)
            except NotFound:
                continue
            except SkiffError as exc:
                result.errors.append(exc)
                continue
            result.deleted.append(volume.name)
            result.reclaimed += int(sizes.get(volume.name, 0))
        return result

    async def container_prune(self) -> Pruned:
        """Remove every container that is not running (engine/prune.py)."""
        return await prune_containers(self)

    async def image_prune(self, all: bool = False) -> Pruned:
        """Remove untagged images no container uses (``all``: every unused image)."""
        return await prune_images(self, all)

    async def network_prune(self) -> Pruned:
        """Remove the user-defined networks no container is on."""
        return await prune_networks(self)

    async def container_sizes(self, ids: Sequence[str]) -> dict[str, int]:
        """Bytes each container wrote (its writable layer), measured by the helper."""
        reply = await self._call("disk_usage", {"containers": list(ids), "volumes": []})
        return {str(k): int(v) for k, v in reply["containers"].items()}

    async def disk_usage(self) -> DiskUsage:
        """docker system df's figures (engine/diskusage.py)."""
        every = self.image_store.list()
        await measure_layers(self.image_store, [la for i in every for la in i.layers])
        hidden = self._build_cache().intermediate(every)
        images = [i for i in every if i.id not in hidden]
        containers = await self.containers(all=True)
        volumes = self.volume_store.all()
        reply = await self._call("disk_usage", {"containers": [c.id for c in containers],
                                                "volumes": [v.name for v in volumes]})
        return disk_usage(images, self.image_store.layer_sizes(), containers,
                          {str(k): int(v) for k, v in reply["containers"].items()},
                          volumes, {str(k): int(v) for k, v in reply["volumes"].items()},
                          build_cache=[i for i in every if i.id in hidden])

    async def history(self, ref: str) -> list[HistoryEntry]:
        """docker history: the image's build steps, newest first (engine/images/history.py)."""
        image = self.image_store.get(ref)
        await measure_layers(self.image_store, image.layers)
        entries = image_history(image, self.image_store.layer_sizes())
        return self._build_cache().history_ids(self.image_store, image, entries)

    async def build(self, context: Any, options: Any,
                    progress: Callable[[Any], None] | None = None) -> Any:
        """docker build (engine/build/): ``context`` a BuildContext (engine/build/context.py),
        ``options`` BuildOptions; progress gets BuildEvents. Returns a BuildResult."""
        from engine.build.builder import Builder
        from engine.build.seam import EngineSeam

        return await Builder(EngineSeam(self), context, options, progress).build()

    async def commit(self, ref: str, reference: str = "", *, changes: Sequence[str] = (),
                     message: str = "", author: str = "", pause: bool = True) -> Image:
        """docker commit: the container's changes as a new image (engine/build/commit.py)."""
        from engine.build.commit import commit_container

        return await commit_container(self, ref, reference, changes=changes, message=message,
                                      author=author, pause=pause)

    async def import_image(self, source: Path, reference: str = "", *,
                           changes: Sequence[str] = (), message: str = "",
                           platform: str | None = None) -> Image:
        """docker import: a filesystem tarball (plain or compressed) as a one-layer image,
        tagged ``reference`` if given (engine/images/importer.py)."""
        from engine.images.importer import build_import, store_tarball
        from engine.registry.platforms import Platform, host

        wanted = Platform.parse(platform) if platform else host()
        tag = Reference.parse(reference).canonical if reference else ""
        if not source.is_file():
            raise InvalidArgument(f"open {source}: no such file")
        loop = asyncio.get_running_loop()
        layer, new = await loop.run_in_executor(None, store_tarball, self.blobs, source)
        imported = build_import(layer, changes=changes, message=message, os_name=wanted.os,
                                architecture=wanted.architecture, variant=wanted.variant)
        try:
            await self.unpack_layer(layer)
        except LayerError as exc:
            if new and layer.diff_id not in self.image_store.diff_ids():
                self.blobs.remove(layer.digest)
            raise InvalidArgument(f"cannot import {source.name}: {exc}") from None
        await measure_layers(self.image_store, imported.layers)
        return self.image_store.add(manifest=imported.manifest, config=imported.config,
                                    layers=imported.layers, tags=[tag] if tag else [])

    async def export(self, ref: str, out: IO[bytes]) -> None:
        """docker export: the container's whole filesystem as a tar written to ``out``
        (its own files over its image's; not what is mounted into it)."""
        await self.export_files(ref, "/", out)

    async def update(self, ref: str, *, memory: int | None = None,
                     nano_cpus: int | None = None, pids_limit: int | None = None,
                     restart_policy: RestartPolicy | None = None) -> Container:
        """docker update: new limits (None: unchanged; pids_limit <= 0: none) or restart
        policy, in force at once for a running container and from its next start."""
        record = self.container_store.find(ref)
        async with self._lock(record.id):
            config = record.config
            old = config.resources
            resources = Resources(
                memory=old.memory if memory is None else (memory or None),
                nano_cpus=old.nano_cpus if nano_cpus is None else (nano_cpus or None),
                pids_limit=old.pids_limit if pids_limit is None else (
                    pids_limit if pids_limit > 0 else None))
            policy = config.restart_policy if restart_policy is None else restart_policy
            if restart_policy is not None and config.auto_remove and policy.name != "no":
                raise InvalidArgument("Restart policy cannot be updated because AutoRemove is "
                                      "enabled for the container")
            check_resources(resources)
            limits = {"memory": resources.memory, "nano_cpus": resources.nano_cpus,
                      "pids_limit": resources.pids_limit, "restart_policy": policy.name,
                      "restart_max": policy.maximum_retry_count}
            await self._call("container_update", {"id": record.id, **limits})
            self.container_store.update(
                record.id, _replace(config, resources=resources, restart_policy=policy),
                {**record.spec, **limits})
            return self._container(self.container_store.find(record.id))

    async def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        """rm [-f] [-v]: with ``volumes``, its anonymous volumes go too."""
        record = self.container_store.find(ref)
        async with self._lock(record.id):
            state = self._state(record)
            if state.status.is_active and not force:
                raise Conflict(f"You cannot remove a {state.status.value} container "
                               f"{record.id}. Stop the container before attempting removal "
                               "or force remove")
            if state.status.is_active:
                self._emit_container(record, "kill", signal="9")
            await self._repair_once()  # before the mark: our own removal is not a leftover
            self.container_store.mark_removing(record.id)
            try:
                await self._call("container_remove", {"id": record.id, "force": force})
            except ContainerNotFound:
                pass
            self.container_store.remove(record.id)
            self.network_attachments.forget(record.id)
            self.stats_store.forget(record.id)
            self._emit_container(record, "destroy")
        self._locks.pop(record.id, None)
        if volumes or record.config.auto_remove:
            for mount in record.config.mounts:
                if mount.type != "volume" or self._volume_users(mount.source):
                    continue
                try:
                    if self.volume_store.get(mount.source).anonymous:
                        await self.volume_remove(mount.source)
                except NotFound:
                    pass

    async def rename(self, ref: str, new_name: str) -> Container:
        record = self.container_store.find(ref)
        name = check_container_name(new_name)
        if name == record.name:
            raise InvalidArgument(f"Renaming a container with the same name as its current "
                                  f"name: {name}")
        self.container_store.rename(record.id, name)
        try:
            await self._call("container_rename", {"id": record.id, "name": name})
        except BaseException:
            self.container_store.rename(record.id, record.name)
            raise
        self._emit("container", "rename", record.id, name=name, oldName=record.name,
                   image=record.config.image)
        return await self.container(record.id)

    async def inspect(self, ref: str) -> dict[str, Any]:
        record = self.container_store.find(ref)
        container = self._container(record)
        try:
            image: Image | None = self.image_store.get(record.config.image_id)
        except ImageNotFound:
            image = None
        spec = record.spec
        network = _read_json(self._dir(record.id) / "network.json") \
            if container.state.running else {}
        if not network:
            mode = record.config.network if record.config.network != "default" else "bridge"
            network = {"IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "",
                       "SandboxKey": "", "Networks": {mode: {}},
                       "Ports": {key: None for key in _str_list(spec.get("exposed"))}}
        networks = network.get("Networks")
        if isinstance(networks, dict):
            await self._endpoint_settings(record, container.state.running, networks)
        network = self._network_settings(record.id, network)
        found = container_inspect(container, image, args=_str_list(spec.get("args")),
                                  env=_str_list(spec.get("env")), network=network,
                                  mounts=[self._mount_json(m) for m in record.config.mounts],
                                  log_path=str(self._dir(record.id) / "ctr.log"),
                                  pid=container.state.pid,
                                  userns=_read_json(self._dir(record.id) / "userns.json"))
        # The files the runtime bind-mounts at /etc/resolv.conf, /etc/hostname and
        # /etc/hosts, once its first start wrote them (as docker shows them).
        for key, name in (("ResolvConfPath", "resolv.conf"), ("HostnamePath", "hostname"),
                          ("HostsPath", "hosts")):
            path = self._dir(record.id) / name
            found[key] = str(path) if path.is_file() else ""
        return found

    def _network_settings(self, container_id: str, network: dict[str, Any]) -> dict[str, Any]:
        """NetworkSettings as docker shows them: the sandbox's absolute path and the
        endpoint IDs that network inspect shows too."""
        network = {"Bridge": "", "SandboxID": "", "HairpinMode": False, **network}
        key = str(network.get("SandboxKey") or "")
        if key:
            sandbox = self._dir(container_id) / key  # the helper names it in its directory
            network["SandboxKey"] = str(sandbox)
            network["SandboxID"] = _hex_id("sandbox", container_id)
        networks = network.get("Networks")
        if isinstance(networks, dict):
            for name, settings in networks.items():
                if isinstance(settings, dict):
                    for key, empty in _ENDPOINT_DEFAULTS.items():
                        settings.setdefault(key, empty)
                if isinstance(settings, dict) and settings.get("IPAddress"):
                    settings.setdefault("NetworkID", _hex_id("network", name))
                    settings.setdefault("EndpointID", _endpoint_id(name, container_id))
        return network

    async def port(self, ref: str) -> dict[str, list[dict[str, str]] | None]:
        """NetworkSettings.Ports of a running container: {"80/tcp": [{HostIp, HostPort}]}."""
        record = self.container_store.find(ref)
        if not self._state(record).running:
            return {}
        ports = _read_json(self._dir(record.id) / "network.json").get("Ports") or {}
        return {str(k): v for k, v in ports.items()}

    # -- networks -------------------------------------------------------------------
    async def network_create(self, name: str, subnet: str = "", gateway: str = "",
                             labels: dict[str, str] | None = None) -> dict[str, Any]:
        """A user-defined bridge network; containers on it reach each other by name."""
        if name in ("bridge", "host", "none", "default"):
            raise Conflict(f"network with name {name} already exists")
        check_network_name(name)
        result: dict[str, Any] = await self._call(
            "network_create", {"name": name, "subnet": subnet or None,
                               "gateway": gateway or None})
        self.network_labels.set(name, dict(labels or {}))
        created = self._network_json(result)
        self._emit("network", "create", created["Id"], name=name, type="bridge")
        return created

    async def networks(self) -> list[dict[str, Any]]:
        listed = await self._call("network_list", {})
        found = {n["Name"]: self._network_json(n) for n in listed}
        for name in ("bridge", "host", "none"):
            found.setdefault(name, self._network_json({"Name": name, "Driver": {
                "host": "host", "none": "null"}.get(name, "bridge"), "Containers": {}}))
        return sorted(found.values(), key=lambda n: n["Name"])

    async def network_inspect(self, name: str) -> dict[str, Any]:
        for network in await self.networks():
            if network["Name"] == name or network["Id"].startswith(name):
                return network
        raise NetworkNotFound(f"network {name} not found")

    async def network_remove(self, name: str) -> None:
        if name in ("bridge", "host", "none", "default"):
            raise InvalidArgument(f"{name} is a pre-defined network and cannot be removed")
        attached = set(self.network_attachments.on_network(name))
        users = [r.name for r in self.container_store.all()
                 if r.config.network == name or r.id in attached]
        if users:
            raise InUse(f"error while removing network: network {name} has active endpoints "
                        f"(containers {', '.join(users)})")
        gone = await self.network_inspect(name)
        await self._call("network_remove", {"name": name})
        self.network_labels.remove(name)
        self._emit("network", "destroy", gone["Id"], name=gone["Name"], type="bridge")

    async def network_connect(self, network: str, ref: str, aliases: Sequence[str] = (),
                              ip: str = "") -> None:
        """Join a network beyond the container's own, now if it runs and at every start
        (engine/networkattachments.py); a created container joins when it starts."""
        record = self.container_store.find(ref)
        found = await self.network_inspect(network)
        network = found["Name"]
        own = "bridge" if record.config.network == "default" else record.config.network
        running = self._state(record).running
        # Running, it is on what it is connected to now (its own network may have been
        # disconnected); created, on its own network and those recorded.
        connected = record.id in (found.get("Containers") or {}) if running else (
            network == own or network in [a.network for a in
                                          self.network_attachments.of(record.id)])
        if connected:
            raise Conflict(f"endpoint with name {record.name} already exists in network "
                           f"{network}")
        if network in ("host", "none"):
            raise InvalidArgument(f"container cannot be connected to the {network} network "
                                  "and another one")
        if own in ("host", "none"):
            raise InvalidArgument(f"a container on the {own} network cannot be connected to "
                                  "another network")
        if aliases and network == "bridge":
            raise InvalidArgument("network-scoped alias is supported only for containers in "
                                  "user defined networks")
        attachment = Attachment(network, list(aliases), ip)
        if running:
            await self._connect(record, attachment)
        self.network_attachments.add(record.id, attachment)
        self._emit("network", "connect", network, name=network, container=record.id,
                   type="bridge")

    async def _connect(self, record: ContainerRecord, attachment: Attachment) -> None:
        await self._call("network_connect", {
            "id": record.id, "network": attachment.network, "name": record.name,
            "hostname": record.config.hostname or record.id[:12],
            "aliases": list(attachment.aliases), "ip": attachment.ip or None})

    async def network_disconnect(self, network: str, ref: str) -> None:
        record = self.container_store.find(ref)
        attached = self.network_attachments.remove(record.id, network)
        if self._state(record).running:
            await self._call("network_disconnect", {"id": record.id, "network": network})
        elif not attached:
            raise InvalidState(f"container {record.name} is not connected to network "
                               f"{network}")
        self._emit("network", "disconnect", network, name=network, container=record.id,
                   type="bridge")

    async def _endpoint_settings(self, record: ContainerRecord, running: bool,
                                 networks: dict[str, Any]) -> None:
        """NetworkSettings.Networks as they are now: a running container's endpoints
        as the helper has them (connected and disconnected since it started), and the
        networks connected beyond its own (engine/networkattachments.py)."""
        attachments = {a.network: a for a in self.network_attachments.of(record.id)}
        if running and record.config.network not in ("host", "none"):
            live: dict[str, dict[str, Any]] = {}
            for listed in await self._call("network_list", {}):
                info = (listed.get("Containers") or {}).get(record.id)
                if info:
                    live[str(listed.get("Name"))] = dict(info)
            for name in [n for n in networks if n not in live]:
                del networks[name]
            for name, info in live.items():
                entry = networks.setdefault(name, {})
                for key, empty in (("IPAddress", ""), ("IPPrefixLen", 0), ("Gateway", ""),
                                   ("MacAddress", "")):
                    entry[key] = info.get(key) or empty
                if name in attachments:
                    entry["Aliases"] = list(attachments[name].aliases) or None
        elif not running:
            for name, attachment in attachments.items():
                networks.setdefault(name, {"Aliases": list(attachment.aliases) or None,
                                           "IPAddress": "", "IPPrefixLen": 0, "Gateway": "",
                                           "MacAddress": ""})
        for name, attachment in attachments.items():
            if attachment.ip and name in networks:
                networks[name]["IPAMConfig"] = {"IPv4Address": attachment.ip}

    def _network_json(self, data: dict[str, Any]) -> dict[str, Any]:
        """docker network inspect's shape around what the helper reports."""
        from engine.predefined import PredefinedNetworks

        name = str(data.get("Name", ""))
        names = {r.id: r.name for r in self.container_store.all()}
        containers = {cid: _endpoint_entry(name, cid, names[cid], info or {})
                      for cid, info in (data.get("Containers") or {}).items() if cid in names}
        ipam = [{"Subnet": data["Subnet"], "Gateway": data["Gateway"]}] \
            if data.get("Subnet") else []
        created = str(data.get("Created") or "")
        if name in ("bridge", "host", "none"):
            created = PredefinedNetworks(self.db).created(name, created)
        return {
            "Name": name, "Id": _hex_id("network", name),
            "Created": created, "Scope": "local",
            "Driver": data.get("Driver", "bridge"), "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": {}, "Config": ipam},
            "Internal": False, "Attachable": False, "Containers": containers,
            "Options": {"com.docker.network.bridge.name": data.get("Bridge", "")}
            if data.get("Bridge") else {},
            "Labels": self.network_labels.get(name),
        }

    def _mount_json(self, mount: MountSpec) -> dict[str, Any]:
        entry: dict[str, Any] = {"Type": mount.type, "Source": mount.source,
                                 "Destination": mount.target, "Mode": "",
                                 "RW": not mount.read_only, "Propagation": ""}
        if mount.type == "volume":
            try:
                entry["Source"] = self.volume_store.get(mount.source).mountpoint
            except NotFound:
                entry["Source"] = ""
            entry.update(Name=mount.source, Driver="local", Mode="z")
        elif mount.type == "bind":
            entry["Propagation"] = "rprivate"
        return entry

    async def wait(self, ref: str) -> int:
        record = self.container_store.find(ref)
        await self._wait_inactive(record, None, wait_created=True)
        return self._state(record).exit_code

    async def _wait_inactive(self, record: ContainerRecord, timeout: float | None,
                             wait_created: bool = False) -> None:
        """Until it stops, woken by the ChangeFeed (polling only what it cannot watch)."""
        delay = 0.002
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._change_feed() as feed:
            while True:
                feed.clear()
                self._forget_exited(feed)
                try:
                    status = self._state(self.container_store.find(record.id)).status
                except ContainerNotFound:
                    return
                if not status.is_active and not (wait_created and status is Status.CREATED):
                    return
                feed.follow(self._monitor_pids([record.id]))
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    return
                pause = SAFETY_LOOK if feed.complete else delay
                if deadline is not None:
                    pause = min(pause, deadline - now)
                await feed.wait(pause)
                delay = min(delay * 2, 0.1)

    async def logs(self, ref: str, *, follow: bool = False, tail: int | None = None,
                   since: str | None = None, until: str | None = None
                   ) -> AsyncIterator[LogLine]:
        record = self.container_store.find(ref)

        async def running() -> bool:
            try:
                return self._state(self.container_store.find(record.id)).status.is_active
            except ContainerNotFound:
                return False

        async for line in read_log(self._dir(record.id) / "ctr.log", follow=follow, tail=tail,
                                   since_ns=parse_since(since), until_ns=parse_since(until),
                                   running=running):
            yield line

    async def log_path(self, ref: str) -> Path:
        """The container's CRI-format log file (see engine/containers/logformat.py),
        readable by the caller; the desktop log view indexes it directly."""
        record = self.container_store.find(ref)
        return self._dir(record.id) / "ctr.log"

    async def exec(self, ref: str, cmd: Sequence[str], *, tty: bool = False,
                   env: Sequence[str] = (), user: str = "", workdir: str = "",
                   rows: int = 0, cols: int = 0) -> ExecSession:
        """Start ``cmd`` in the running container; raises ContainerStartError (126/127)."""
        from engine.helper.protocol import WithFds

        record = self.container_store.find(ref)
        status = self._state(record).status
        if status is Status.PAUSED:
            raise InvalidState(f"Container {record.id} is paused, unpause the container "
                               "before exec")
        if not status.can_exec():
            raise InvalidState(f"Container {record.id} is not running")
        if not cmd:
            raise InvalidArgument("exec needs a command")
        if workdir and not workdir.startswith("/"):
            raise InvalidArgument(f"the working directory '{workdir}' is invalid: it needs to "
                                  "be an absolute path")
        reply = await self._call("container_exec", {
            "id": record.id, "args": list(cmd), "env": list(env), "user": user,
            "cwd": workdir, "tty": tty, "rows": rows, "cols": cols})
        assert isinstance(reply, WithFds)
        return ExecSession(reply.fds, tty)

    async def diff(self, ref: str) -> list[Change]:
        record = self.container_store.find(ref)
        rows = await self._call("container_changes", {"id": record.id})
        return [Change(kind, path) for kind, path in rows]

    # -- files and namespaces (engine/containers/files.py) ----------------------------
    @property
    def _files(self) -> FileService:
        return FileService(self._call, self._look_sources)

    async def list_files(self, ref: str, path: str = "/") -> list[FileEntry]:
        """A directory of the container's root filesystem, running or not, sorted by name."""
        record = self.container_store.find(ref)
        return await self._files.list_dir(record.id, record.name, path)

    async def stat_file(self, ref: str, path: str, follow_link: bool = False) -> FileEntry:
        record = self.container_store.find(ref)
        return await self._files.stat(record.id, record.name, path, follow_link)

    async def read_file(self, ref: str, path: str, limit: int = 1 << 20) -> bytes:
        """The first ``limit`` bytes of a regular file; InvalidArgument for anything else."""
        record = self.container_store.find(ref)
        return await self._files.read(record.id, record.name, path, limit)

    async def copy_from(self, ref: str, container_path: str, host_dest: Path | str, *,
                        follow_link: bool = False, archive: bool = False) -> None:
        """docker cp CONTAINER:SRC DEST, done with the caller's own rights on the host."""
        record = self.container_store.find(ref)
        await self._files.copy_from(record.id, record.name, container_path, host_dest,
                                    follow=follow_link, archive=archive)

    async def copy_to(self, ref: str, host_src: Path | str, container_path: str, *,
                      follow_link: bool = False, archive: bool = False) -> None:
        """docker cp SRC CONTAINER:DEST; owned by root in the container unless ``archive``."""
        record = self.container_store.find(ref)
        async with self._files_lock(record):
            await self._files.copy_to(record.id, record.name, host_src, container_path,
                                      follow=follow_link, archive=archive)

    async def export_files(self, ref: str, container_path: str, out: IO[bytes], *,
                           follow_link: bool = False) -> None:
        """docker cp CONTAINER:SRC -: a tar of the path written to ``out``."""
        record = self.container_store.find(ref)
        await self._files.export_archive(record.id, record.name, container_path, out,
                                         follow=follow_link)

    async def import_files(self, ref: str, source: IO[bytes], container_dir: str, *,
                           archive: bool = False) -> None:
        """docker cp - CONTAINER:DIR: unpack the tar read from ``source`` in a directory."""
        record = self.container_store.find(ref)
        target = await self._files.stat(record.id, record.name, container_dir, True)
        if not target.is_dir:
            raise InvalidArgument(f'destination "{record.name}:{container_dir}" must be a '
                                  "directory")
        async with self._files_lock(record):
            await self._files.import_archive(record.id, record.name, source, container_dir,
                                             archive=archive)

    def _files_lock(self, record: ContainerRecord) -> Any:
        """Writing into a stopped container mounts its upper dir: keep start() out meanwhile."""
        import contextlib

        if self._state(record).status.is_active:
            return contextlib.nullcontext()
        return self._lock(record.id)

    async def namespaces(self, ref: str) -> list[NamespaceInfo]:
        """The running container's namespaces next to the host's (PID 1's)."""
        record = self.container_store.find(ref)
        status = self._state(record).status
        if status not in (Status.RUNNING, Status.PAUSED):
            raise InvalidState(f"Container {record.id} is not running")
        return await self._files.namespaces(record.id)

    # -- stats ----------------------------------------------------------------------
    async def stats(self, ref: str) -> Stats:
        container = await self.container(ref)
        return self._sample(container)

    def _sample(self, container: Container) -> Stats:
        from engine.cgroups import open_cgroup

        now = time.monotonic_ns()
        stats = None
        if container.state.running:
            try:
                stats = open_cgroup(container.id, self.cgroup_parent).stats()
            except Exception:
                stats = None
        cpu_ns = stats.cpu_usage_ns if stats else 0
        previous = self._cpu_samples.get(container.id)
        self._cpu_samples[container.id] = (now, cpu_ns)
        percent = 0.0
        if previous and now > previous[0] and cpu_ns >= previous[1]:
            percent = 100.0 * (cpu_ns - previous[1]) / (now - previous[0])
        limit = stats.memory_limit if stats and stats.memory_limit else _host_memory()
        rx, tx = _net_counters(container.state.pid) if container.state.running else (0, 0)
        return Stats(container.id, container.name, time.time_ns(), percent,
                     stats.memory_usage if stats else 0, limit, rx, tx,
                     stats.blkio_read if stats else 0, stats.blkio_write if stats else 0,
                     stats.pids if stats else 0)

    async def stats_stream(self, refs: Sequence[str] | None = None,
                           interval: float = 1.0, *, record: bool = False
                           ) -> AsyncIterator[list[Stats]]:
        """Samples of the given (default: all running) containers every interval.

        With ``record``, samples also go to the bounded history (the app does this).
        """
        while True:
            if refs:
                chosen = [await self.container(r) for r in refs]
            else:
                chosen = await self.containers()
            samples = [self._sample(c) for c in chosen]
            if record:
                self.stats_store.record(s for s in samples if s.pids or s.memory_usage)
            yield samples
            await asyncio.sleep(interval)

    async def stats_history(self, ref: str, seconds: int = 600) -> list[Stats]:
        """Recorded samples of the last ``seconds``, oldest first."""
        container = await self.container(ref)
        return self.stats_store.history(container.id, container.name,
                                        time.time_ns() - seconds * 1_000_000_000)

    async def export_stats(self, ref: str, path: Path, seconds: int = 3600) -> int:
        """Write the recorded history as CSV; the number of samples written."""
        samples = await self.stats_history(ref, seconds)
        StatsHistory.write_csv(samples, path)
        return len(samples)

    async def exit_reason(self, ref: str) -> str:
        """Why the container is in its state, in one plain sentence."""
        return exit_reason(await self.container(ref))

    async def command_line(self, ref: str) -> str:
        """The ``skiff run`` command that would create this container."""
        record = self.container_store.find(ref)
        return run_command(record.config, record.name)

    async def top(self, ref: str) -> list[ProcessInfo]:
        import psutil

        container = await self.container(ref)
        if not container.state.running:
            raise InvalidState(f"Container {container.id} is not running")
        from engine.cgroups import open_cgroup

        # psutil measures a process's CPU share between two calls on the same object:
        # keep them from one call to the next, or every share reads 0.0.
        known = self._top_procs.get(container.id, {})
        kept: dict[int, Any] = {}
        result = []
        for pid in sorted(open_cgroup(container.id, self.cgroup_parent).procs()):
            try:
                proc = known.get(pid)
                if proc is None or not proc.is_running():
                    proc = psutil.Process(pid)
                kept[pid] = proc
                with proc.oneshot():
                    result.append(ProcessInfo(pid, proc.username(),
                                              " ".join(proc.cmdline()) or proc.name(),
                                              proc.cpu_percent(), proc.memory_info().rss))
            except psutil.Error:
                continue
        self._top_procs[container.id] = kept
        return result

    # -- events ---------------------------------------------------------------------
    def _journals(self) -> list[Path]:
        """This user's two journals (engine/eventlog.py): the engine's and the helper's."""
        return [self.root / "events.log", changes_file(self._containers_dir).with_name(
            "events.log")]

    async def events(self, since_ns: int | None = None, until_ns: int | None = None,
                     interval: float = 0.25) -> AsyncIterator[Event]:
        """Every event of this user's journals in time order: from ``since_ns`` (a replay
        of the bounded history), then as they happen; the stream ends at ``until_ns``.

        It sleeps until the ChangeFeed says a journal may have grown (at most one look
        per ``interval``, so a burst costs one), every ``interval`` when it cannot
        watch everything, and every SAFETY_LOOK seconds regardless. A monitor killed
        before it could journal its container's end is heard through its pidfd; that
        die is told to the followers there are, not journaled.
        """
        journals = self._journals()
        with self._change_feed() as feed:
            tails = [JournalTail(path) for path in journals]
            try:
                replayed: set[tuple[int, str, str, str]] = set()
                if since_ns is not None:
                    history = sorted((r for path in journals
                                      for r in read_events(path, since_ns, until_ns)),
                                     key=lambda r: r["t"])
                    for record in history:
                        replayed.add((record["t"], record["type"], record["action"],
                                      record["id"]))
                        yield self._event(record)
                looked = time.monotonic()
                while until_ns is None or time.time_ns() <= until_ns:
                    feed.follow(self._active_monitor_pids())
                    pause = SAFETY_LOOK if feed.complete else interval
                    if until_ns is not None:
                        pause = min(pause, max(0.0, (until_ns - time.time_ns()) / 1e9))
                    await feed.wait(pause)
                    delay = looked + interval - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    feed.clear()  # what woke it until now is in this look
                    exited = feed.take_exited()
                    for pid in exited:
                        self._alive_cache.pop(pid, None)
                    records = self._look(tails)
                    looked = time.monotonic()
                    records += self._unrecorded_deaths(exited, records)
                    for record in sorted(records, key=lambda r: r["t"]):
                        key = (record["t"], record["type"], record["action"], record["id"])
                        if key in replayed:
                            continue  # appended while the history was read
                        if until_ns is not None and record["t"] > until_ns:
                            return
                        yield self._event(record, live=True)
                    replayed.clear()
            finally:
                for tail in tails:
                    tail.close()

    def _look(self, tails: list[JournalTail]) -> list[dict[str, Any]]:
        return [record for tail in tails for record in tail.read()]

    def _event(self, record: dict[str, Any], live: bool = False) -> Event:
        """``live``: as it happens, a container is named by its name now (a monitor
        journals the name it started with, which a rename since then changed)."""
        attributes = dict(record["attrs"])
        if record["type"] == "container" and (live or not attributes.get("image")):
            try:
                found = self.container_store.find(record["id"])
            except ContainerNotFound:
                pass
            else:
                attributes.setdefault("image", found.config.image)
                if not attributes["image"]:
                    attributes["image"] = found.config.image
                if live and record["action"] != "rename":
                    attributes["name"] = found.name
        return Event(record["type"], record["action"], record["id"], record["t"], attributes)

    def _active_monitor_pids(self) -> list[int]:
        """The monitors of the containers whose status says they run (cheap: the status
        files are parsed again only when they changed)."""
        pids = []
        for container_id in self.container_store.ids():
            status = self._status(container_id)
            if status is not None and status.status in _ACTIVE and status.monitor_pid:
                pids.append(status.monitor_pid)
        return pids

    def _unrecorded_deaths(self, exited: set[int], journaled: list[dict[str, Any]]
                           ) -> list[dict[str, Any]]:
        """Containers whose monitor died still "running" in their status file."""
        if not exited:
            return []
        died = {r["id"] for r in journaled if r["action"] == "die"}
        found = []
        for container_id in self.container_store.ids():
            status = self._status(container_id)
            if status is None or status.monitor_pid not in exited or container_id in died \
                    or status.status not in _ACTIVE:
                continue
            state = self._state(container_id)
            found.append({"t": time.time_ns(), "type": "container", "action": "die",
                          "id": container_id, "attrs": {
                              "name": self.container_store.find(container_id).name,
                              "exitCode": str(state.exit_code)}})
        return found

    def _change_feed(self) -> ChangeFeed:
        return ChangeFeed(changes_file(self._containers_dir), self.root,
                          (self.db.path.name, "events.log"))

    def _forget_exited(self, feed: ChangeFeed) -> None:
        """Before looking: monitors the feed saw exit are dead now, whatever the
        half-second cache of _monitor_alive says."""
        for pid in feed.take_exited():
            self._alive_cache.pop(pid, None)

    def _monitor_pids(self, container_ids: Iterable[str]) -> list[int]:
        """The monitors of those containers that are active (from the cached statuses)."""
        pids = []
        for container_id in container_ids:
            cached = self._status_cache.get(container_id)
            if cached is not None and cached[1].status in _ACTIVE:
                pids.append(cached[1].monitor_pid)
        return pids


def _refuse_removing(record: ContainerRecord) -> None:
    """A container whose removal was interrupted is finished off, never started afresh."""
    if record.removing:
        raise InvalidState(f"container {record.id} is marked for "
                           "removal and cannot be started")


def _seconds_since(timestamp: str) -> float:
    try:
        return (time.time_ns() - parse_time(timestamp)) / 1e9
    except ValueError:
        return float("inf")  # no (readable) time: long ago


def _hex_id(kind: str, name: str) -> str:
    """A stable 64-hex ID for what docker identifies by a random one (networks,
    sandboxes, endpoints): the same every time it is shown."""
    import hashlib

    return hashlib.sha256(f"skiff-{kind}:{name}".encode()).hexdigest()


def _endpoint_id(network: str, container_id: str) -> str:
    return _hex_id("endpoint", f"{network}/{container_id}")


def _endpoint_entry(network: str, container_id: str, name: str, info: dict[str, Any]
                    ) -> dict[str, Any]:
    """One container of docker's network inspect ``Containers``, keyed by its ID."""
    address = str(info.get("IPAddress") or "")
    prefix = info.get("IPPrefixLen")
    return {"Name": name, "EndpointID": _endpoint_id(network, container_id),
            "MacAddress": str(info.get("MacAddress") or ""),
            "IPv4Address": f"{address}/{prefix}" if address and prefix else address,
            "IPv6Address": ""}



# Docker's EndpointSettings keys that Skiff has nothing for, as dockerd shows them unset.
_ENDPOINT_DEFAULTS: dict[str, Any] = {
    "IPAMConfig": None, "Links": None, "Aliases": None, "DriverOpts": None,
    "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def _credentials(pair: tuple[str, str] | None) -> Any:
    """(user, password) as the registry client's Credentials; None: the stored ones."""
    if pair is None:
        return None
    from engine.registry.credentials import Credentials

    return Credentials(*pair)


def parse_since(value: str | None) -> int | None:
    """docker's --since/--until (see engine.timestamps); None when not given."""
    return parse_timestamp(value) if value else None


def _names_tag(ref: str, tag: str) -> bool:
    try:
        return Reference.parse(ref).canonical == tag
    except InvalidArgument:
        return False


def _tag_of(ref: str, image: Image) -> str:
    """The tag ``ref`` names, if it names one of the image's tags (not an ID)."""
    for tag in image.repo_tags:
        if _names_tag(ref, tag):
            return tag
    return ""


def _str_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _replace(value: _T, **changes: Any) -> _T:
    from dataclasses import replace

    return replace(value, **changes)  # type: ignore[type-var]


def _read_json(path: Path) -> dict[str, Any]:
    import json

    try:
        with open(path) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {}



def _host_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _net_counters(pid: int) -> tuple[int, int]:
    """rx/tx bytes of the container's interfaces except loopback, from its netns."""
    rx = tx = 0
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            for line in f.readlines()[2:]:
                name, _, data = line.partition(":")
                if name.strip() == "lo":
                    continue
                fields = data.split()
                rx += int(fields[0])
                tx += int(fields[8])
    except (OSError, ValueError, IndexError):
        pass
    return rx, tx
