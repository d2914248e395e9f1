"""What the drawn "What is this?" shows of one container, as plain data.

The same facts as the tables below it (learn/data.py), reduced to the parts of
the picture: the namespaces as walls (its own, or shared with the host), the
cgroup limits as gauges, the layers stacked under the writable layer, and the
network interface with the published ports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.desktop.learn import data as learndata
from app.desktop.learn.data import LearnFacts
from app.desktop.widgets.layerstack import LayerRow

__all__ = ["Gauge", "Sketch", "Wall", "sketch"]


@dataclass(frozen=True)
class Wall:
    kind: str  # pid | net | mnt ...
    name: str  # "Process IDs"
    hides: str  # what the wall hides from the container
    own: bool  # False: shared with the host, no wall there


@dataclass(frozen=True)
class Gauge:
    resource: str
    limit: str  # "64.0 MiB", "none"
    now: str
    fraction: float | None  # use / limit, when both are known


@dataclass(frozen=True)
class Sketch:
    container_id: str
    name: str
    running: bool
    walls: list[Wall] = field(default_factory=list)
    gauges: list[Gauge] = field(default_factory=list)
    layers: list[LayerRow] = field(default_factory=list)  # from the top: writable first
    interface: str = ""  # "eth0 172.17.0.2 on bridge", or why none
    ports: list[str] = field(default_factory=list)  # "0.0.0.0:8080 → 80/tcp"


def sketch(facts: LearnFacts) -> Sketch:
    container = facts.container
    walls = [Wall(row.kind, row.name, row.meaning, not row.shared)
             for row in learndata.namespace_rows(facts.namespaces or [])]
    gauges = [Gauge(row.resource, row.limit, row.now, row.fraction)
              for row in learndata.limit_rows(container, facts.stats)]
    network = learndata.network_facts(container, facts.network, facts.networks)
    if network.mode in ("none", "host"):
        interface = "no network of its own" if network.mode == "none" else \
            "the host's own network (no wall)"
    elif network.address:
        interface = f"eth0 {network.address} on {network.mode}"
    else:
        interface = f"eth0 on {network.mode} (when running)"
    return Sketch(container.id, container.name, container.state.status.is_active, walls,
                  gauges, learndata.layer_rows(facts.image, facts.changes), interface,
                  list(network.ports))
