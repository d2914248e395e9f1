"""What the Networks page and the network map ask of the engine, through the bridge.

Narrow seams over the Engine's networks service (``e.networks.list()``...): the
page and the map never call the engine themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from app.desktop.networks.data import NetworkEntry, network_entries
from app.desktop.networks.mapdata import MapData, map_data

if TYPE_CHECKING:
    from app.desktop.bridge import Bridge, Pending
    from engine import Engine

__all__ = ["connect", "create", "disconnect", "listing", "map_listing", "prune",
           "prune_preview", "remove"]


def listing(bridge: Bridge, on_done: Callable[[list[NetworkEntry]], None]) -> Pending:
    async def call(e: Engine) -> list[NetworkEntry]:
        return network_entries(await e.networks.list(), await e.containers.list(all=True))

    return bridge.submit("list the networks", call, on_done)


def create(bridge: Bridge, name: str, subnet: str, gateway: str, ipv6: bool,
           on_done: Callable[[Any], None]) -> Pending:
    from engine import NetworkSubnets

    asked = NetworkSubnets(subnet, gateway, ipv6=ipv6)
    return bridge.submit(f"create the network {name}",
                         lambda e: e.networks.create(name, subnets=asked), on_done)


def remove(bridge: Bridge, names: Sequence[str], on_done: Callable[[None], None]) -> Pending:
    async def call(e: Engine) -> None:
        for name in names:
            await e.networks.remove(name)

    return bridge.submit(f"remove {', '.join(names)}", call, on_done)


def connect(bridge: Bridge, network: str, container: str, aliases: Sequence[str],
            on_done: Callable[[None], None]) -> Pending:
    return bridge.submit(f"connect {container} to {network}",
                         lambda e: e.networks.connect(network, container, list(aliases)),
                         on_done)


def disconnect(bridge: Bridge, network: str, container: str,
               on_done: Callable[[None], None]) -> Pending:
    return bridge.submit(f"disconnect {container} from {network}",
                         lambda e: e.networks.disconnect(network, container), on_done)


def prune(bridge: Bridge, on_done: Callable[[Any], None]) -> Pending:
    return bridge.submit("prune networks", lambda e: e.networks.prune(), on_done)


def prune_preview(bridge: Bridge, on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None) -> Pending:
    return bridge.submit("count what a network prune takes",
                         lambda e: e.networks.prune(dry_run=True), on_done, on_error)


def map_listing(bridge: Bridge, on_done: Callable[[MapData], None]) -> Pending:
    """The networks, and the published ports of each running container."""
    async def call(e: Engine) -> MapData:
        containers = await e.containers.list(all=True)
        entries = network_entries(await e.networks.list(), containers)
        ports = {c.id: await e.containers.port(c.id) for c in containers if c.state.running}
        return map_data(entries, ports)

    return bridge.submit("draw the network map", call, on_done)
