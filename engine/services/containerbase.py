"""What every part of ``engine.containers`` builds on: finding a container,
reading its state, its lock, its bind sources, and waiting for it to stop.

``ContainerService`` (engine/services/containers.py) is put together from this
base and one mixin per job (files, streams, information), so each file stays
about one thing.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import changefeed
from engine.containers.bindsources import BindSources, device_binds, open_bind_sources
from engine.containers.model import Container
from engine.containers.state import ContainerState, Status
from engine.containers.store import ContainerRecord
from engine.errors import ContainerNotFound, InvalidArgument, InvalidState
from engine.services.shared import Shared
from engine.services.volumes import VolumeService
from engine.wire.requests import ContainerStart

if TYPE_CHECKING:
    from engine.build.seam import EngineSeam

__all__ = ["ContainerBase", "refuse_removing"]


class ContainerBase:
    def __init__(self, shared: Shared, volumes: VolumeService,
                 seam: Callable[[], EngineSeam]) -> None:
        self._s = shared
        self._volumes = volumes
        self.volumes = volumes  # for the builder's seam (engine/build/seam.py)
        self._seam = seam  # the builder's way in (engine/build/seam.py), for commit
        self._top_procs: dict[str, dict[int, Any]] = {}  # psutil.Process kept between calls

    async def get(self, ref: str) -> Container:
        """By name, full or unique short ID; raises ContainerNotFound."""
        return self._container(self._find(ref))

    def _find(self, ref: str) -> ContainerRecord:
        return self._s.container_store.find(ref)

    def _state(self, record: ContainerRecord | str) -> ContainerState:
        return self._s.status.state(record)

    def _container(self, record: ContainerRecord) -> Container:
        return Container(record.id, record.name, record.created, record.config,
                         self._state(record))

    def _lock(self, container_id: str) -> asyncio.Lock:
        return self._s.lock(container_id)

    def _dir(self, container_id: str) -> Path:
        return self._s.dir(container_id)

    async def _bind_sources(self, record: ContainerRecord, *, start: bool) -> BindSources:
        """The container's bind sources, opened by us as the user: at a start (a missing
        one is made, like docker run -v), or for a look into a stopped container."""
        binds = device_binds(record.spec)
        if not any((b.get("type") or "bind") in ("bind", "device") for b in binds) or \
                (not start and self._state(record).status.is_active):
            return BindSources([], [])
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(
            open_bind_sources, binds, create=start, skip_missing=not start))

    def _start_request(self, record: ContainerRecord, sources: list[int],
                       attach: bool = False) -> ContainerStart:
        """container_start's request: with every network the container joins beyond its
        own (engine/networkattachments.py) and its own one's address, so that all are
        there before its process runs, and at every restart its monitor makes."""
        config = record.config
        own = "bridge" if config.network == "default" else config.network
        joins: list[dict[str, Any]] = []
        attachments = self._s.network_attachments.of(record.id)
        # its own network as created, or as connected again since (disconnect, connect)
        again = next((a for a in attachments if a.network == own), None)
        mine = {"ip": config.ipv4_address or None, "ip6": config.ipv6_address or None,
                "link_local": list(config.network_link_local_ips) or None}
        scoped = [(own, link) for link in config.network_links]
        if again is not None:
            mine = {"ip": again.ip or None, "ip6": again.ip6 or None, "mac": again.mac or None,
                    "link_local": list(again.link_local_ips) or None}
            scoped = [(own, link) for link in again.links]
        if any(mine.values()):
            joins.append({"network": own, **mine})
        for attachment in attachments:
            if attachment.network != own:
                joins.append({"network": attachment.network,
                              "aliases": list(attachment.aliases),
                              "ip": attachment.ip or None, "ip6": attachment.ip6 or None,
                              "mac": attachment.mac or None,
                              "link_local": list(attachment.link_local_ips) or None})
                scoped += [(attachment.network, link) for link in attachment.links]
        hosts, env = self._links(record, own) if config.links else (None, None)
        if scoped:
            hosts = [*(hosts or []), *self._scoped_links(scoped)]
        return ContainerStart(id=record.id, attach=True if attach else None, sources=sources,
                              networks=joins or None, links=hosts or None, link_env=env)

    def _scoped_links(self, links: list[tuple[str, str]]) -> list[str]:
        """Network-scoped links (an endpoint's Links) as hosts entries: the alias and
        name of each linked container that runs on that network now; one that does not
        resolves to nothing, as in dockerd's DNS (no error)."""
        hosts: list[str] = []
        for network, link in links:
            name, _, alias = link.partition(":")
            try:
                target = self._find(name)
            except ContainerNotFound:
                continue
            address = self._address_on(target, network) if self._state(target).running \
                else ""
            if address:
                hosts += [f"{n}:{address}" for n in dict.fromkeys((alias, target.name))]
        return hosts

    def _address_on(self, target: ContainerRecord, network: str) -> str:
        """The running ``target``'s IPv4 address on ``network`` ("" when not there)."""
        import json

        try:
            settings = json.loads((self._dir(target.id) / "network.json").read_text())
            return str(settings["Networks"][network]["IPAddress"] or "")
        except (OSError, ValueError, KeyError, TypeError):
            return ""

    def _links(self, record: ContainerRecord, network: str) -> tuple[list[str], list[str]]:
        """Its legacy links as hosts entries and docker's variables: where each linked
        container is now on ``network`` (docker's errors when it is not there)."""
        from engine.containers.links import link_environment

        hosts: list[str] = []
        env: list[str] = []
        for link in record.config.links:
            name, _, alias = link.partition(":")
            try:
                target = self._find(name)
            except ContainerNotFound:
                raise ContainerNotFound(f"could not get container for {name}") from None
            if not self._state(target).running:
                raise InvalidState(f"Cannot link to a non running container: /{target.name} "
                                   f"AS /{record.name}/{alias}")
            address = self._address_on(target, network)
            if not address:
                raise InvalidArgument(f"Cannot link to /{target.name}, as it does not belong "
                                      f"to the network {network}")
            hosts += [f"{n}:{address}" for n in dict.fromkeys((alias, target.name))]
            env += link_environment(record.name, alias, address, target.spec.exposed,
                                    target.spec.env)
        return hosts, env

    async def _wait_inactive(self, record: ContainerRecord, timeout: float | None,
                             wait_created: bool = False) -> None:
        """Until it stops, woken by the ChangeFeed (polling only what it cannot watch)."""
        delay = 0.002
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._s.change_feed() as feed:
            while True:
                feed.clear()
                for pid in feed.take_exited():
                    # dead now, whatever the half-second cache of monitor_alive says
                    self._s.status.forget_monitor(pid)
                try:
                    status = self._state(self._find(record.id)).status
                except ContainerNotFound:
                    return
                if not status.is_active and not (wait_created and status is Status.CREATED):
                    return
                feed.follow(self._s.status.cached_monitor_pids([record.id]))
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    return
                pause = changefeed.SAFETY_LOOK if feed.complete else delay
                if deadline is not None:
                    pause = min(pause, deadline - now)
                await feed.wait(pause)
                delay = min(delay * 2, 0.1)


def refuse_removing(record: ContainerRecord) -> None:
    """A container whose removal was interrupted is finished off, never started afresh."""
    if record.removing:
        raise InvalidState(f"container {record.id} is marked for "
                           "removal and cannot be started")
