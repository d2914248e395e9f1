"""Networks themselves: their records, bridges and rules made, found and removed
(``network create``, ``network rm``; the default network on its first use)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from engine.errors import Conflict, InUse, InvalidArgument, NameInUse
from engine.helper.network import leaving, links, spares
from engine.helper.network.base import SPARES, NetworkingBase
from engine.helper.network.ipam import NetworkRecord, record_key
from engine.helper.network.policy import check_subnet, choose_subnet
from engine.helper.network.pools import default_bridge_ipv6, load_pools
from engine.helper.network.subnets import DEFAULT_NETWORK, PREDEFINED, bridge_name
from engine.names import check_network_name

__all__ = ["Bridges"]


class Bridges(NetworkingBase):
    """Create and remove networks: record, bridge, rules, in one transaction."""

    def create_network(self, name: str, subnet: IPv4Network | None = None,
                       gateway: IPv4Address | None = None, *, internal: bool = False,
                       ip_range: IPv4Network | None = None, ipv6: bool = False,
                       subnet6: IPv6Network | None = None, gateway6: IPv6Address | None = None,
                       ip_range6: IPv6Network | None = None,
                       aux: dict[str, IPv4Address | IPv6Address] | None = None
                       ) -> NetworkRecord:
        """Create one of the caller's networks: record, bridge, rules. The
        default network ("bridge") is created by the first container that uses it.
        ``internal``: its containers reach each other and nothing else; ``ip_range``:
        where in the subnet addresses are handed out; ``ipv6``: an IPv6 subnet too
        (``subnet6``, else one from the pools); ``aux``: addresses never handed out."""
        if ip_range is not None and subnet is None:
            raise InvalidArgument("an IP range needs a subnet (--subnet) to belong to")
        if name in PREDEFINED:
            raise NameInUse(f"network with name {name} already exists")
        check_network_name(name)
        with self.ipam.transaction() as records:
            if record_key(name, self.uid) in records:
                raise NameInUse(f"network with name {name} already exists")
            record = self._new_record(records, name, self.uid, subnet, gateway,
                                      internal=internal, ip_range=ip_range, ipv6=ipv6,
                                      subnet6=subnet6, gateway6=gateway6,
                                      ip_range6=ip_range6, aux=aux)
            self._ensure_bridge(record)
            records[record.key] = record
            self._apply(records)
        return record

    def _default_network(self, records: dict[str, NetworkRecord],
                         record: NetworkRecord | None) -> NetworkRecord:
        """The default network's record (its ``record`` so far, if any), made on first
        use, and made again while nobody is on it if root changed its IPv6 since."""
        if record is not None and record.endpoints:
            return record
        ipv6, subnet6 = default_bridge_ipv6()  # root's choice, when nobody is on it
        if record is None or ipv6 != (record.subnet6 is not None) or (
                subnet6 is not None and subnet6 != record.subnet6):
            if record is not None:  # made again, off the host first (unused)
                del records[record.key]
                leaving.drop(record)
                if self.spares is not None:
                    self.spares.drop(record.bridge)
                links.remove_bridge(record.bridge)
            record = self._new_record(records, DEFAULT_NETWORK, None, None, None,
                                      ipv6=ipv6, subnet6=subnet6)
            records[record.key] = record
            self._apply(records)
        return record

    def _new_record(self, records: dict[str, NetworkRecord], name: str, owner: int | None,
                    subnet: IPv4Network | None, gateway: IPv4Address | None, *,
                    internal: bool = False, ip_range: IPv4Network | None = None,
                    ipv6: bool = False, subnet6: IPv6Network | None = None,
                    gateway6: IPv6Address | None = None,
                    ip_range6: IPv6Network | None = None,
                    aux: dict[str, IPv4Address | IPv6Address] | None = None) -> NetworkRecord:
        bridge = bridge_name(self.bridge_prefix, record_key(name, owner))
        if any(r.bridge == bridge for r in records.values()):
            raise Conflict(f"the bridge {bridge} that network {name} would get belongs to "
                           "another network; choose another name")
        ours: list[IPv4Network | IPv6Network] = [r.subnet for r in records.values()]
        ours += [r.subnet6 for r in records.values() if r.subnet6 is not None]
        bridges = {r.bridge for r in records.values()}
        routes = [net for net in links.host_routes() if net not in ours]
        addresses = [a for a in links.host_addresses() if a.link not in bridges]
        pools = load_pools()
        if subnet is None:
            reserved = []
            if name != DEFAULT_NETWORK and DEFAULT_NETWORK not in records:
                # the default network's first choice stays free for it
                reserved.append(choose_subnet(pools, networks=ours, routes=routes,
                                              addresses=addresses))
            chosen = choose_subnet(pools, networks=ours, routes=routes, addresses=addresses,
                                   reserved=reserved)
            assert isinstance(chosen, IPv4Network)
            subnet = chosen
        else:
            check_subnet(subnet, uid=owner or 0, pools=pools if owner else (),
                         networks=ours, routes=routes, addresses=addresses)
        if ipv6 and subnet6 is None:
            chosen = choose_subnet(pools, networks=ours, routes=routes, addresses=addresses,
                                   version=6)
            assert isinstance(chosen, IPv6Network)
            subnet6 = chosen
        elif subnet6 is not None:
            check_subnet(subnet6, uid=owner or 0, pools=pools if owner else (),
                         networks=ours, routes=routes, addresses=addresses)
        if gateway is None:
            gateway = subnet.network_address + 1
        return NetworkRecord(name, bridge, subnet, gateway, user_defined=name != DEFAULT_NETWORK,
                             owner=owner, internal=internal, ip_range=ip_range,
                             subnet6=subnet6, gateway6=gateway6, ip_range6=ip_range6,
                             aux=dict(aux or {}))

    def remove_network(self, name: str) -> None:
        """Remove one of the caller's networks with no containers: rules, bridge, record."""
        if name in PREDEFINED:
            raise InvalidArgument(f"{name} is a pre-defined network and cannot be removed")
        with self.ipam.transaction() as records:
            record = self._find(records, name)
            if record.endpoints:
                users = ", ".join(ep.names[0] if ep.names else cid[:12]
                                  for cid, ep in sorted(record.endpoints.items()))
                raise InUse(f"network {name} is in use by container {users}; stop or "
                            "disconnect them first")
            del records[record.key]
            self._apply(records)
            leaving.drop(record)
            if self.spares is not None:
                self.spares.drop(record.bridge)
            links.remove_bridge(record.bridge)

    def teardown(self) -> None:
        """Remove every network, bridge and rule of this instance (uninstall, tests).
        Containers' sandboxes are left to cleanup_container; every helper's spares go
        first (one still running then makes its containers' veths itself)."""
        if self.spares is not None:
            self.spares.close()
            self.spares = None
        with self.ipam.locked(".starts.lock", exclusive=True):  # none half made
            spares.collect(self.ipam.directory / SPARES, keep=lambda _holder: False)
        with self.ipam.transaction() as records:
            for record in records.values():
                leaving.drop(record)
                links.remove_bridge(record.bridge)
            records.clear()
            self._apply(records)  # no rules left, IPv6 forwarding as it was
        for bridge in links.bridges(self.bridge_prefix):
            links.remove_bridge(bridge)
