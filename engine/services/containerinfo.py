"""The part of ``engine.containers`` that tells about a container: docker
inspect's facts (engine/containers/details.py), its published ports, why it is
in its state, and the command that would make it again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.containers.cmdline import run_command
from engine.containers.details import ContainerDetails
from engine.containers.explain import exit_reason
from engine.containers.inspectdoc import inspect_details, needs_live_endpoints
from engine.errors import ImageNotFound, NotFound
from engine.images.model import Image
from engine.services.containerbase import ContainerBase
from engine.wire.requests import NetworkList

__all__ = ["ContainerInfo"]


class ContainerInfo(ContainerBase):
    async def inspect(self, ref: str) -> ContainerDetails:
        """docker container inspect's facts (``docker_json()``: its document)."""
        return (await self.inspect_many([ref]))[0]

    async def inspect_many(self, refs: Sequence[str]) -> list[ContainerDetails]:
        """The inspect of each, with one look at the helper's endpoints for all of
        them (a listing of many running containers asks once, not once each)."""
        records = [self._find(ref) for ref in refs]
        containers = [self._container(record) for record in records]
        endpoints = await self._endpoints() if any(
            needs_live_endpoints(c) for c in containers) else []
        found = []
        for record, container in zip(records, containers, strict=True):
            try:
                image: Image | None = self._s.image_store.get(record.config.image_id)
            except ImageNotFound:
                image = None
            live = _live_of(endpoints, record.id) if needs_live_endpoints(container) \
                else None
            found.append(inspect_details(record, container, image, self._dir(record.id),
                                         self._s.network_attachments.of(record.id),
                                         self._mountpoint, live))
        return found

    async def _endpoints(self) -> list[dict[str, Any]]:
        """Every network with its endpoints, as the helper has them now."""
        return await self._s.call(NetworkList())

    def _mountpoint(self, volume: str) -> str:
        try:
            return self._s.volume_store.get(volume).mountpoint
        except NotFound:
            return ""

    async def port(self, ref: str) -> dict[str, list[dict[str, str]] | None]:
        """NetworkSettings.Ports of a running container: {"80/tcp": [{HostIp, HostPort}]}."""
        record = self._find(ref)
        if not self._state(record).running:
            return {}
        ports = _read_json(self._dir(record.id) / "network.json").get("Ports") or {}
        return {str(k): v for k, v in ports.items()}

    async def exit_reason(self, ref: str) -> str:
        """Why the container is in its state, in one plain sentence."""
        return exit_reason(await self.get(ref))

    async def command_line(self, ref: str) -> str:
        """The ``skiff run`` command that would create this container."""
        record = self._find(ref)
        return run_command(record.config, record.name)


def _live_of(networks: list[dict[str, Any]], container_id: str) -> dict[str, dict[str, Any]]:
    """The container's endpoints per network, from the helper's list of networks."""
    live: dict[str, dict[str, Any]] = {}
    for listed in networks:
        info = (listed.get("Containers") or {}).get(container_id)
        if info:
            live[str(listed.get("Name"))] = dict(info)
    return live


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {}
