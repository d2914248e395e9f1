"""The part of ``engine.containers`` that tells about a container: docker's
inspect JSON, its published ports, why it is in its state, and the command
that would make it again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.containers.cmdline import run_command
from engine.containers.explain import exit_reason
from engine.containers.inspectdoc import inspect_document, needs_live_endpoints
from engine.errors import ImageNotFound, NotFound
from engine.images.model import Image
from engine.services.containerbase import ContainerBase
from engine.wire.requests import NetworkList

__all__ = ["ContainerInfo"]


class ContainerInfo(ContainerBase):
    async def inspect(self, ref: str) -> dict[str, Any]:
        """docker container inspect's JSON (engine/containers/inspectdoc.py)."""
        record = self._find(ref)
        container = self._container(record)
        try:
            image: Image | None = self._s.image_store.get(record.config.image_id)
        except ImageNotFound:
            image = None
        live = await self._live_endpoints(record.id) if needs_live_endpoints(container) \
            else None
        return inspect_document(record, container, image, self._dir(record.id),
                                self._s.network_attachments.of(record.id), self._mountpoint,
                                live)

    async def _live_endpoints(self, container_id: str) -> dict[str, dict[str, Any]]:
        """The container's endpoints per network, as the helper has them now."""
        live: dict[str, dict[str, Any]] = {}
        for listed in await self._s.call(NetworkList()):
            info = (listed.get("Containers") or {}).get(container_id)
            if info:
                live[str(listed.get("Name"))] = dict(info)
        return live

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


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {}
