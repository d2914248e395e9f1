"""The network map as plain data: switches, nodes, links and published ports.

Built from what ``skiff network inspect`` says (each network's containers and
their addresses) and each running container's published ports; the widget only
places and draws it, so a test can hold the picture to ``network inspect``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.desktop.networks.data import NetworkEntry

__all__ = ["Arrow", "Link", "MapData", "Node", "Switch", "map_data"]


@dataclass(frozen=True)
class Switch:
    name: str
    subnet: str
    driver: str
    gateway: str = ""  # the host's address on it: containers route out through it


@dataclass(frozen=True)
class Node:
    container_id: str
    name: str
    networks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Link:
    container_id: str
    network: str
    address: str


@dataclass(frozen=True)
class Arrow:
    container_id: str
    host: str  # 0.0.0.0:8080
    target: str  # 80/tcp


@dataclass(frozen=True)
class MapData:
    switches: list[Switch]
    nodes: list[Node]
    links: list[Link]
    arrows: list[Arrow]


def map_data(entries: Sequence[NetworkEntry],
             ports: Mapping[str, Mapping[str, list[dict[str, str]] | None]]) -> MapData:
    """``ports``: each running container's ``NetworkSettings.Ports`` by its ID. The
    predefined host and none networks have no switch: nothing is switched there."""
    switches = [Switch(e.name, e.subnet, e.driver, e.gateway) for e in entries
                if e.name not in ("host", "none")]
    shown = {s.name for s in switches}
    links: list[Link] = []
    names: dict[str, str] = {}
    on: dict[str, list[str]] = {}
    for entry in entries:
        if entry.name not in shown:
            continue
        for member in entry.members:
            links.append(Link(member.container_id, entry.name, member.address))
            names[member.container_id] = member.name
            on.setdefault(member.container_id, []).append(entry.name)
    nodes = [Node(cid, names[cid], on[cid]) for cid in sorted(names, key=names.__getitem__)]
    arrows = []
    for node in nodes:
        for target, bindings in sorted((ports.get(node.container_id) or {}).items()):
            for binding in bindings or []:
                host = f"{binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort', '')}"
                arrows.append(Arrow(node.container_id, host, target))
    return MapData(switches, nodes, links, arrows)
