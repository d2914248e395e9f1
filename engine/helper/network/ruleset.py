"""The host's netfilter rules and IPv6 forwarding as the network records say.

Every change to the records re-applies the whole rule set (:mod:`.rules`)
rendered from them: each network's subnets, the ports its endpoints publish
(to their IPv4 address and, on a network with IPv6, their IPv6 one), and the
host's IPv6 forwarding, which is on while a network has IPv6. When Skiff was
the one to turn it on (a flag file beside the records), the rules also keep
the host from forwarding anything else, as Docker's DROP policy does, and it
is turned off again with the last such network.

Forwarding makes the kernel ignore router advertisements on every interface
that accepts them only while not forwarding (accept_ra 1, the default): the
host would lose the routes and addresses its routers give it. So while Skiff
keeps forwarding on, the interfaces the host has routes from advertisements on
accept them even so (accept_ra 2), and go back to 1 when it goes off; the
flag file lists them.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path

from engine.helper.network.ipam import Endpoint, NetworkRecord
from engine.helper.network.netfilter import Netfilter
from engine.helper.network.rules import Dnat, PublishedPort, plan_rules

__all__ = ["FORWARDING6", "OUR_FORWARDING6", "apply_records", "targets"]

FORWARDING6 = Path("/proc/sys/net/ipv6/conf/all/forwarding")
OUR_FORWARDING6 = "ipv6-forwarding"  # in the records' directory: Skiff turned it on


def targets(endpoint: Endpoint, port: PublishedPort) -> list[IPv4Address | IPv6Address]:
    """Where a published port leads: the IPv4 address, and the IPv6 one for a port
    on every host address when the endpoint has one (a host address picks its family);
    none for ::1, which no rule can take (the monitor relays it: runtime/loopproxy.py)."""
    if port.host_ip == "::1":
        return []
    if ":" in port.host_ip:
        return [endpoint.address6.ip] if endpoint.address6 is not None else []
    if port.host_ip or endpoint.address6 is None:
        return [endpoint.address.ip]
    return [endpoint.address.ip, endpoint.address6.ip]


def apply_records(netfilter: Netfilter, records: dict[str, NetworkRecord], bridge_prefix: str,
                  state_dir: Path) -> None:
    """Make the kernel's rules (and IPv6 forwarding) what ``records`` say."""
    nets: list[tuple[str, IPv4Network | IPv6Network]] = [
        (r.bridge, r.subnet) for r in records.values()]
    nets += [(r.bridge, r.subnet6) for r in records.values() if r.subnet6 is not None]
    dnats = [Dnat(cid, address, port) for r in records.values()
             for cid, ep in r.endpoints.items() for port in ep.ports
             for address in targets(ep, port)]
    internal = {r.bridge for r in records.values() if r.internal}
    guard = _forwarding6(state_dir, any(r.subnet6 is not None for r in records.values()))
    netfilter.apply(plan_rules(nets, dnats, bridge_prefix, internal, guard))


def _forwarding6(state_dir: Path, wanted: bool) -> bool:
    """IPv6 forwarding on while ``wanted``; True when Skiff turned it on, so the rules
    guard the host's other interfaces."""
    flag = state_dir / OUR_FORWARDING6
    ours = flag.exists()
    try:
        on = FORWARDING6.read_text().strip() == "1"
    except OSError:
        return False  # no IPv6 in this kernel: no network has any
    if wanted and not on:
        kept = _keep_router_advertisements()
        flag.write_text(json.dumps({"accept_ra": kept}))
        FORWARDING6.write_text("1")
        return True
    if not wanted and ours:
        if on:
            FORWARDING6.write_text("0")
        _restore_router_advertisements(flag)
        flag.unlink()
        return False
    return wanted and ours


def _keep_router_advertisements() -> list[str]:
    """accept_ra 1 -> 2 where the host has routes from advertisements; their names."""
    from engine.helper.network.links import advertised_links

    changed = []
    for name in advertised_links():
        conf = FORWARDING6.parent.parent / name
        try:
            if (conf / "accept_ra").read_text().strip() == "1":
                (conf / "accept_ra").write_text("2")
                changed.append(conf.name)
        except OSError:
            continue  # gone meanwhile
    return changed


def _restore_router_advertisements(flag: Path) -> None:
    try:
        names = json.loads(flag.read_text() or "{}").get("accept_ra", [])
    except (OSError, ValueError, AttributeError):
        return
    for name in names:
        path = FORWARDING6.parent.parent / str(name) / "accept_ra"
        try:
            if "/" not in str(name) and path.read_text().strip() == "2":
                path.write_text("1")
        except OSError:
            continue  # that interface is gone
