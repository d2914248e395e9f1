"""Making the host's networking match the network records again (after a crash, and
whenever the helper starts): what :meth:`.Networking.repair` does once no container
start is in flight.

The records win: endpoints of containers that are not live are released, every
network's bridge is made or fixed up and the rule set re-applied from the
records; then links, bridges and sandboxes that no record owns are deleted, and the
spare sandboxes of helpers that are gone (:mod:`.spares`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.helper.network import links, spares
from engine.helper.network.base import SANDBOX, SPARES
from engine.helper.network.netns import destroy_sandbox, sandboxes_under
from engine.helper.network.ruleset import apply_records

if TYPE_CHECKING:
    from engine.helper.network.networking import Networking

__all__ = ["RepairReport", "repair"]


@dataclass
class RepairReport:
    released: dict[str, list[str]] = field(default_factory=dict)  # network -> container ids
    links: list[str] = field(default_factory=list)
    bridges: list[str] = field(default_factory=list)
    sandboxes: list[Path] = field(default_factory=list)


def repair(net: Networking, live: set[str], sandbox_root: Path | None) -> RepairReport:
    """Forget what is not ``live``, make every record's bridge and rules again, and
    delete links, bridges and sandboxes (below ``sandbox_root``) nobody owns."""
    report = RepairReport()
    with net.ipam.transaction() as records:
        for name, record in records.items():
            gone = sorted(record.endpoints.keys() - live)
            for cid in gone:
                record.release(cid)
            if gone:
                report.released[name] = gone
            links.ensure_bridge(record.bridge, record.subnet, record.gateway,
                                record.gateway6_interface)
        apply_records(net.netfilter, records, net.bridge_prefix, net.ipam.directory)
    by_bridge = {r.bridge: r for r in records.values()}
    for bridge in links.bridges(net.bridge_prefix):
        owned = by_bridge.get(bridge)
        for port in links.bridge_ports(bridge):
            if owned is not None and port.spare and spares.alive(port.spare):
                continue  # a running helper's spare (spares.py)
            if owned is None or port.owner not in owned.endpoints:
                links.detach(port.ifname)
                report.links.append(port.ifname)
        if owned is None:
            links.remove_bridge(bridge)
            report.bridges.append(bridge)
    report.sandboxes += spares.collect(net.ipam.directory / SPARES)
    if sandbox_root is not None:
        for path in sandboxes_under(sandbox_root):
            if path.name == SANDBOX and path.parent.name not in live:
                destroy_sandbox(path)
                report.sandboxes.append(path)
    if report.released:
        net.refresh_hosts({cid for r in records.values() if r.user_defined
                           for cid in r.endpoints})
    return report
