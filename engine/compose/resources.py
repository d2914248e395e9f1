"""The networks and volumes a project's services use: created where missing, and
brought back in line when the compose file changed them, as docker compose does.

Compose labels what it creates with a hash of its configuration. A network whose
hash differs is recreated (it holds no data): the project's containers on it stop,
it goes, the new one comes, and ``up`` starts them again on it. A volume whose
hash differs holds data, so it is recreated only when the user said yes (``up
-y``); otherwise it is kept and the user is told. Objects without the hash (made
by hand, or by an older Compose) are used as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from engine.compose.gojson import network_hash, volume_hash
from engine.compose.loader import Project
from engine.compose.planner import HASH, PROJECT, VERSION
from engine.containers.model import Container
from engine.errors import NotFound
from engine.networksubnets import IpamEntry, network_subnets

if TYPE_CHECKING:
    from engine.engine import Engine

__all__ = ["ProjectResources"]

Progress = Callable[[str, str, str], None]
#: the project's containers of these services (not one-offs)
Lookup = Callable[[Sequence[str]], Awaitable[list[Container]]]
#: stop (or remove) a container, telling the progress
Act = Callable[[Container], Awaitable[None]]


class ProjectResources:
    def __init__(self, engine: Engine, project: Project, progress: Progress,
                 containers: Lookup, stop: Act, remove: Act) -> None:
        self.engine = engine
        self.project = project
        self.progress = progress
        self._containers = containers
        self._stop = stop
        self._remove = remove

    async def networks(self, services: Sequence[str]) -> None:
        existing = {n.name: n for n in await self.engine.networks.list()}
        used = {net for s in services for net in self.project.services[s].get("networks") or {}}
        for key in sorted(used):
            spec = self.project.networks[key]
            name = str(spec["name"])
            found = existing.get(name)
            if found is not None and not spec.get("external"):
                if found.labels.get(HASH, network_hash(spec)) == network_hash(spec):
                    continue
                await self._remove_changed_network(key, name)
            elif found is not None:
                continue
            if spec.get("external"):
                raise NotFound(f"network {name} declared as external, but could not be found")
            subnets = network_subnets([IpamEntry.of(c) for c in (spec.get("ipam") or {}).get(
                "config") or []], bool(spec.get("enable_ipv6")))
            self.progress("Network", name, "Creating")
            await self.engine.networks.create(
                name, labels={**(spec.get("labels") or {}), PROJECT: self.project.name,
                              "com.docker.compose.network": key,
                              "com.docker.compose.version": VERSION, HASH: network_hash(spec)},
                internal=bool(spec.get("internal")), subnets=subnets)
            self.progress("Network", name, "Created")

    async def _remove_changed_network(self, key: str, name: str) -> None:
        """Its containers stop (they keep naming it, and start on the new one)."""
        users = [s for s, spec in self.project.services.items()
                 if key in (spec.get("networks") or {})]
        for container in await self._containers(users):
            await self._stop(container)
        await self.engine.networks.remove(name)
        self.progress("Network", name, "Removed")

    async def volumes(self, services: Sequence[str], recreate_changed: bool = False) -> None:
        existing = {v.name: v for v in await self.engine.volumes.list()}
        used = {v["source"] for s in services for v in self.project.services[s].get("volumes")
                or [] if v.get("type") == "volume" and v.get("source")}
        for key in sorted(used):
            spec = self.project.volumes[key]
            name = str(spec["name"])
            found = existing.get(name)
            if found is not None and not spec.get("external"):
                if found.labels.get(HASH, volume_hash(spec)) == volume_hash(spec):
                    continue
                if not recreate_changed:
                    self.progress("Warning", "", f'Volume "{name}" exists but doesn\'t match '
                                  "configuration in compose file: kept as it is (up -y "
                                  "recreates it; its data will be lost)")
                    continue
                await self._remove_changed_volume(key, name)
            elif found is not None:
                continue
            if spec.get("external"):
                raise NotFound(f"volume {name} declared as external, but could not be found")
            self.progress("Volume", name, "Creating")
            await self.engine.volumes.create(name, {
                **(spec.get("labels") or {}), PROJECT: self.project.name,
                "com.docker.compose.volume": key, "com.docker.compose.version": VERSION,
                HASH: volume_hash(spec)})
            self.progress("Volume", name, "Created")

    async def _remove_changed_volume(self, key: str, name: str) -> None:
        """The containers that mount it go first (``up`` makes them again)."""
        users = [s for s, spec in self.project.services.items()
                 if any(v.get("type") == "volume" and v.get("source") == key
                        for v in spec.get("volumes") or [])]
        for container in await self._containers(users):
            await self._remove(container)
        await self.engine.volumes.remove(name)
        self.progress("Volume", name, "Removed")
