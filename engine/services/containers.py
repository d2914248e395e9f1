"""``engine.containers``: every container verb.

Each verb follows one pattern: lock → refresh from reality → check the status
machine → act → save → emit. This file holds the lifecycle (create, start,
stop, kill, restart, pause, unpause, update, rename, remove, prune, wait); the
mixins hold the rest: streams (attach, exec, logs, top) in containerstreams.py,
files (copy, archives, export, changes) in containerfiles.py, and what is shown
about a container (inspect, port, the reason of its state) in containerinfo.py.
"""

from __future__ import annotations

import asyncio
import builtins
import ipaddress
import os
import time
from collections.abc import Sequence
from dataclasses import replace

from engine.containers import runspec
from engine.containers.attachsession import AttachSession
from engine.containers.checks import check_resources
from engine.containers.config import ContainerConfig, MountSpec, Resources, RestartPolicy
from engine.containers.links import parse_link
from engine.containers.logopts import user_defaults
from engine.containers.model import Container
from engine.containers.securityopt import normalize_security_opts
from engine.containers.state import Status
from engine.containers.store import ContainerRecord
from engine.errors import (
    Conflict,
    ContainerNotFound,
    DamagedState,
    HelperLost,
    InvalidArgument,
    InvalidState,
    NameInUse,
    NotFound,
    SkiffError,
)
from engine.images.model import Image
from engine.names import check_container_name, check_volume_name, generate_name
from engine.prune import Pruned
from engine.services.containerbase import refuse_removing
from engine.services.containerfiles import ContainerFiles
from engine.services.containerinfo import ContainerInfo
from engine.services.containerstreams import ContainerStreams
from engine.wire.logformat import format_time, parse_time
from engine.wire.requests import (
    ContainerCreate,
    ContainerPause,
    ContainerRemove,
    ContainerRename,
    ContainerSignal,
    ContainerStop,
    ContainerUnpause,
    ContainerUpdate,
    DiskUsage,
)

__all__ = ["AUTO_REMOVE_GRACE", "ContainerService"]

#: A --rm container that exited is removed by whoever lists after this many seconds.
AUTO_REMOVE_GRACE = 5.0


class ContainerService(ContainerStreams, ContainerFiles, ContainerInfo):
    # -- the common verbs -------------------------------------------------------------
    async def list(self, all: bool = False) -> builtins.list[Container]:
        """The running containers (``all``: in any state), in creation order."""
        result = []
        for record in self._s.container_store.all():
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

    async def create(self, config: ContainerConfig, name: str = "") -> Container:
        s = self._s
        image = s.image_store.get(config.image_id or config.image)
        if config.image_id != image.id:
            config = replace(config, image_id=image.id)
        given = bool(name)
        name = check_container_name(name) if name else generate_name(s.container_store.names())
        if config.ipv4_address:
            _check_address(config.network, config.ipv4_address)
        if config.ipv6_address:
            _check_address(config.network, config.ipv6_address, 6)
        if config.links:
            config = replace(config, links=[parse_link(link) for link in config.links])
        if config.network_links:
            config = replace(config, network_links=[parse_link(k) for k in config.network_links])
        if config.log_driver in ("", "json-file"):  # the user's log-opts, as dockerd merges
            config = replace(config, log_options={**user_defaults(), **config.log_options})
        config = replace(config, mounts=await self._resolve_mounts(config, image),
                         security_opt=normalize_security_opts(config.security_opt))
        container_id = os.urandom(32).hex()
        created = format_time(time.time_ns())
        for attempt in range(10):
            request = runspec.container_spec(container_id, config, image, name)
            try:
                s.container_store.add(container_id, name, created, config, request)
                break
            except NameInUse:
                # A generated name that a parallel create took meanwhile: draw again.
                if given or attempt == 9:
                    raise
                name = generate_name(s.container_store.names())
        try:
            for layer in image.layers:
                await s.unpack_layer(layer)
            await s.call(ContainerCreate(id=container_id, spec=request))
        except BaseException:
            s.container_store.remove(container_id)
            raise
        s.emit("container", "create", container_id, name=name, image=config.image)
        return await self.get(container_id)

    async def _resolve_mounts(self, config: ContainerConfig, image: Image
                              ) -> builtins.list[MountSpec]:
        """Name anonymous volumes (the image's Volumes too) and create missing ones."""
        mounts = builtins.list(config.mounts)
        targets = {m.target for m in mounts}
        for path in image.run_config.get("Volumes") or {}:
            if path not in targets:
                mounts.append(MountSpec("volume", path))
        resolved = []
        for mount in mounts:
            if mount.type == "volume":
                name = check_volume_name(mount.source) if mount.source else os.urandom(32).hex()
                if not self._s.volume_store.exists(name):
                    await self._volumes.create(name, anonymous=not mount.source)
                mount = replace(mount, source=name)
            resolved.append(mount)
        return resolved

    async def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        """rm [-f] [-v]: with ``volumes``, its anonymous volumes go too."""
        s = self._s
        record = self._find(ref)
        async with self._lock(record.id):
            state = self._state(record)
            if state.status.is_active and not force:
                raise Conflict(f"You cannot remove a {state.status.value} container "
                               f"{record.id}. Stop the container before attempting removal "
                               "or force remove")
            if state.status.is_active:
                s.emit_container(record, "kill", signal="9")
            await s.repair_once()  # before the mark: our own removal is not a leftover
            s.container_store.mark_removing(record.id)
            try:
                await s.call(ContainerRemove(id=record.id, force=force))
            except ContainerNotFound:
                pass
            s.container_store.remove(record.id)
            s.network_attachments.forget(record.id)
            s.forget_stats(record.id)
            s.emit_container(record, "destroy")
        s.locks.pop(record.id, None)
        if volumes or record.config.auto_remove:
            for mount in record.config.mounts:
                if mount.type != "volume" or self._volumes.users(mount.source):
                    continue
                try:
                    if s.volume_store.get(mount.source).anonymous:
                        await self._volumes.remove(mount.source)
                except NotFound:
                    pass

    async def prune(self, *, dry_run: bool = False) -> Pruned:
        """Remove every container that is not running (created, exited, dead). With
        ``dry_run`` nothing goes: the answer is what the prune would do now."""
        stopped = [c for c in await self.list(all=True) if not c.state.status.is_active]
        result = Pruned()
        if not stopped:
            return result
        sizes = await self.sizes([c.id for c in stopped])
        if dry_run:
            return Pruned([c.id for c in stopped], sum(sizes.get(c.id, 0) for c in stopped))
        for container in stopped:
            try:
                await self.remove(container.id)
            except NotFound:
                continue
            except SkiffError as exc:
                result.errors.append(exc)
                continue
            result.deleted.append(container.id)
            result.reclaimed += sizes.get(container.id, 0)
        return result

    async def sizes(self, ids: Sequence[str]) -> dict[str, int]:
        """Bytes each container wrote (its writable layer), measured by the helper."""
        return (await self._s.call(DiskUsage(containers=builtins.list(ids),
                                             volumes=[]))).containers

    # -- running ------------------------------------------------------------------------
    async def start(self, ref: str) -> Container:
        record = self._find(ref)
        try:
            return await self._start(record)
        except SkiffError:
            await self._remove_unstarted(record)
            raise

    async def start_attached(self, ref: str) -> AttachSession:
        record = self._find(ref)
        try:
            return await super().start_attached(record.id)
        except SkiffError:
            await self._remove_unstarted(record)
            raise

    async def _remove_unstarted(self, record: ContainerRecord) -> None:
        """As dockerd: an AutoRemove container that could not start goes (a client of
        run --rm waits for its removal)."""
        if record.config.auto_remove and not self._state(record).status.is_active:
            await self._auto_remove(self._container(record))

    async def _start(self, record: ContainerRecord) -> Container:
        async with self._lock(record.id):
            state = self._state(record)
            if state.status is Status.PAUSED:
                raise InvalidState(f"cannot start a paused container {record.name}, try "
                                   "unpause instead")
            refuse_removing(record)
            if state.status.is_active:
                return self._container(record)
            with await self._bind_sources(record, start=True) as sources:
                request = self._start_request(record, sources.sources)
                try:
                    await self._s.call(request, sources.fds)
                except ContainerNotFound:
                    # The helper lost it (a crash before it was written): prepare it again.
                    await self._s.call(ContainerCreate(id=record.id, spec=record.spec))
                    await self._s.call(request, sources.fds)
                except HelperLost:
                    if not await self._started_anyway(record):
                        raise
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

    async def stop(self, ref: str, timeout: int | None = None,
                   signal: str | None = None) -> Container:
        """signal: instead of the container's stop signal (docker stop -s).

        Stopping a container that is not running does nothing and is no error, as
        in docker (its API answers 304 Not Modified).
        """
        record = self._find(ref)
        async with self._lock(record.id):
            state = self._state(record)
            if not state.status.can_stop():
                return self._container(record)
            signum = runspec.parse_signal(signal) if signal else _stop_signal(record)
            if timeout is None:
                timeout = record.config.stop_timeout if record.config.stop_timeout is not None \
                    else 10
            self._s.emit_container(record, "kill", signal=str(signum))
            await self._s.call(ContainerStop(id=record.id, signal=signum,
                                             timeout=max(0, timeout)))
            self._s.emit_container(record, "stop")
            return self._container(record)

    async def restart(self, ref: str, timeout: int | None = None) -> Container:
        container = await self.get(ref)
        if container.state.status.can_stop():
            await self.stop(container.id, timeout)
        started = await self.start(container.id)
        self._s.emit_container(self._find(container.id), "restart")
        return started

    async def kill(self, ref: str, signal: str = "SIGKILL") -> Container:
        record = self._find(ref)
        signum = runspec.parse_signal(signal)
        async with self._lock(record.id):
            if not self._state(record).status.can_kill():
                raise InvalidState(f"Cannot kill container: {ref}: Container {record.id} is "
                                   "not running")
            self._s.emit_container(record, "kill", signal=str(signum))
            await self._s.call(ContainerSignal(id=record.id, signal=signum))
            if signum == 9:
                await self._wait_inactive(record, 10.0)
            return self._container(record)

    async def pause(self, ref: str) -> Container:
        record = self._find(ref)
        async with self._lock(record.id):
            status = self._state(record).status
            if status is Status.PAUSED:
                raise InvalidState(f"Container {record.id} is already paused")
            if not status.can_pause():
                raise InvalidState(f"Container {record.id} is not running")
            await self._s.call(ContainerPause(id=record.id))
            return self._container(record)

    async def unpause(self, ref: str) -> Container:
        record = self._find(ref)
        async with self._lock(record.id):
            if not self._state(record).status.can_unpause():
                raise InvalidState(f"Container {record.id} is not paused")
            await self._s.call(ContainerUnpause(id=record.id))
            return self._container(record)

    async def wait(self, ref: str) -> int:
        """Until the container stops (one not started yet: until it started and
        stopped); its exit code."""
        record = self._find(ref)
        await self._wait_inactive(record, None, wait_created=True)
        return self._state(record).exit_code

    async def commit(self, ref: str, reference: str = "", *, changes: Sequence[str] = (),
                     message: str = "", author: str = "", pause: bool = True) -> Image:
        """docker commit: the container's changes as a new image (engine/build/commit.py)."""
        from engine.build.commit import commit_container

        return await commit_container(self._seam(), ref, reference, changes=changes,
                                      message=message, author=author, pause=pause)

    # -- changing ---------------------------------------------------------------------
    async def remove_link(self, ref: str, alias: str) -> None:
        """docker rm --link PARENT/ALIAS: the container no longer links ALIAS, from its
        next start (the linked container stays)."""
        record = self._find(ref)
        async with self._lock(record.id):
            links = [link for link in record.config.links
                     if link.partition(":")[2] != alias]
            if len(links) == len(record.config.links):
                raise ContainerNotFound(f"No such container: {record.name}/{alias}")
            self._s.container_store.update(record.id, replace(record.config, links=links),
                                           record.spec)

    async def rename(self, ref: str, new_name: str) -> Container:
        s = self._s
        record = self._find(ref)
        name = check_container_name(new_name)
        if name == record.name:
            raise InvalidArgument(f"Renaming a container with the same name as its current "
                                  f"name: {name}")
        s.container_store.rename(record.id, name)
        try:
            await s.call(ContainerRename(id=record.id, name=name))
        except BaseException:
            s.container_store.rename(record.id, record.name)
            raise
        s.emit("container", "rename", record.id, name=name, oldName=record.name,
               image=record.config.image)
        return await self.get(record.id)

    async def update(self, ref: str, *, memory: int | None = None,
                     nano_cpus: int | None = None, pids_limit: int | None = None,
                     restart_policy: RestartPolicy | None = None,
                     cpu_shares: int | None = None) -> Container:
        """docker update: new limits (None or CPU shares 0: unchanged; pids_limit <= 0:
        none) or restart policy, in force at once for a running container and from its
        next start."""
        record = self._find(ref)
        async with self._lock(record.id):
            config = record.config
            old = config.resources
            resources = Resources(
                memory=old.memory if memory is None else (memory or None),
                nano_cpus=old.nano_cpus if nano_cpus is None else (nano_cpus or None),
                pids_limit=old.pids_limit if pids_limit is None else (
                    pids_limit if pids_limit > 0 else None),
                cpu_shares=max(2, min(cpu_shares, 262144)) if cpu_shares
                else old.cpu_shares)
            policy = config.restart_policy if restart_policy is None else restart_policy
            if restart_policy is not None and config.auto_remove and policy.name != "no":
                raise InvalidArgument("Restart policy cannot be updated because AutoRemove is "
                                      "enabled for the container")
            check_resources(resources)
            update = ContainerUpdate(id=record.id, memory=resources.memory,
                                     nano_cpus=resources.nano_cpus,
                                     pids_limit=resources.pids_limit,
                                     restart_policy=policy.name,
                                     restart_max=policy.maximum_retry_count,
                                     cpu_shares=resources.cpu_shares)
            await self._s.call(update)
            limits = {k: v for k, v in update.to_args().items() if k != "id"}
            self._s.container_store.update(
                record.id, replace(config, resources=resources, restart_policy=policy),
                replace(record.spec, **limits))
            return self._container(self._find(record.id))


def _check_address(network: str, address: str, version: int = 4) -> None:
    """--ip (--ip6): an IPv4 (IPv6) address, on a user-defined network (docker's rule
    and words)."""
    try:
        (ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address)(address)
    except ValueError:
        raise InvalidArgument(f"invalid IPv{version} address: {address}") from None
    if network in ("", "default", "bridge", "host", "none"):
        raise InvalidArgument("user specified IP address is supported on user defined "
                              "networks only")


def _seconds_since(timestamp: str) -> float:
    try:
        return (time.time_ns() - parse_time(timestamp)) / 1e9
    except ValueError:
        return float("inf")  # no (readable) time: long ago


def _stop_signal(record: ContainerRecord) -> int:
    """The signal its spec says; with a spec that cannot be read (DamagedState), its
    config's or SIGTERM: stopping a container must not need its record whole."""
    try:
        return record.spec.stop_signal
    except DamagedState:
        return runspec.parse_signal(record.config.stop_signal or "SIGTERM")
