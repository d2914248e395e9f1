"""Containers on networks: a container's sandbox, interfaces, addresses and published
ports at start, ``network connect`` and ``disconnect``, and their release.

At container start the runtime calls, in order (see :meth:`Attachments.start_container`,
which does all of it and undoes it on failure)::

    plan = plan_network(config.network, config.ports, config.network_aliases)
    net.check_ports(cid, ports)                      # refuse a taken port first
    if plan.sandbox: create_sandbox(net.sandbox_path(cid))
    for i, name in enumerate(plan.networks):
        net.connect(cid, name, hostname=..., names=[name, *aliases], default_route=i == 0)
    if plan.publish: net.publish(cid, plan.networks[0], ports)
    net.write_files(cid, hostname, plan)             # hosts, hostname, resolv.conf
    ... init setns()s into net.sandbox_path(cid) when plan.sandbox

and :meth:`Attachments.cleanup_container` once the container is stopped for good
(stop, kill, rm; not between restarts by policy).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

from engine.errors import Conflict, InvalidArgument, NetworkNotFound
from engine.helper.network import leaving, links
from engine.helper.network.bridges import Bridges
from engine.helper.network.endpoints import PortRequest, check_mac, published, taken_ports
from engine.helper.network.ipam import Endpoint, NetworkRecord, visible
from engine.helper.network.netns import create_sandbox, destroy_sandbox
from engine.helper.network.plan import NetworkPlan
from engine.helper.network.policy import check_host_ports
from engine.helper.network.ports import resolve_ports, unprivileged_port_start
from engine.helper.network.rules import PublishedPort
from engine.helper.network.spares import Spare
from engine.helper.network.subnets import DEFAULT_NETWORK

__all__ = ["Attachments", "Join", "StartedNetwork"]


@dataclass(frozen=True)
class Join:
    """A network a container joins at start beyond what its mode says (docker network
    connect, compose's extra networks), or its own network's address (--ip)."""

    network: str
    aliases: tuple[str, ...] = ()
    address: IPv4Address | None = None
    address6: IPv6Address | None = None
    mac: str = ""  # the endpoint's MacAddress; "" derives one from the address
    link_local: tuple[IPv4Address | IPv6Address, ...] = ()  # more addresses (LinkLocalIPs)


@dataclass(frozen=True)
class StartedNetwork:
    """What start_container set up, for inspect and ``skiff port``."""

    plan: NetworkPlan
    endpoints: dict[str, Endpoint]  # network name -> endpoint
    ports: list[PublishedPort]
    files: dict[str, Path]  # "hosts" | "hostname" | "resolv.conf" -> file to bind-mount


class Attachments(Bridges):
    """A container's endpoints: made at start, changed by connect and disconnect,
    released when it stops for good."""

    def start_container(self, container_id: str, plan: NetworkPlan, *, hostname: str,
                        name: str = "", aliases: Sequence[str] = (),
                        ports: Sequence[PortRequest] = (),
                        joins: Sequence[Join] = (), mac: str = "") -> StartedNetwork:
        """Everything networking does at container start, undone on failure: the
        plan's network, then those ``joins`` adds, all before the process runs."""
        wanted = {join.network: join for join in joins}
        extra = [n for n in wanted if n not in plan.networks]
        if extra and plan.mode != "bridge":
            raise InvalidArgument(f"a container on the {plan.mode} network cannot be "
                                  "connected to another network")
        joined = (*plan.networks, *extra)
        records = self.networks()
        internal = {n for n in joined if n in records and records[n].internal}
        # the default route goes through the first network that leads out, as docker's
        route = next((n for n in joined if n not in internal), None)
        if plan.publish:
            self.check_ports(container_id, ports)
        spare = None
        try:
            if plan.sandbox:
                spare = self._take_spare(container_id, joined[:1], records)
                if spare is None:
                    create_sandbox(self.sandbox_path(container_id))
            endpoints = {}
            for index, network in enumerate(joined):
                join = wanted.get(network, Join(network))
                own = aliases if index < len(plan.networks) else ()
                names = [n for n in (name, *own, *join.aliases) if n]
                endpoints[network] = self.connect(container_id, network, hostname=hostname,
                                                  names=names, address=join.address,
                                                  address6=join.address6,
                                                  default_route=network == route,
                                                  mac=join.mac or (mac if index == 0
                                                                   else ""),
                                                  link_local=join.link_local,
                                                  spare=spare if index == 0 else None)
            published: list[PublishedPort] = []
            if plan.publish and plan.networks and ports and plan.networks[0] not in internal:
                published = self.publish(container_id, plan.networks[0], ports)
            files = self.write_files(container_id, hostname, plan)
        except BaseException:
            self.cleanup_container(container_id)
            raise
        return StartedNetwork(plan, endpoints, published, files)

    def _take_spare(self, container_id: str, first: Sequence[str],
                    records: dict[str, NetworkRecord]) -> Spare | None:
        """A spare sandbox (:mod:`.spares`) on the bridge of the ``first`` network,
        now the container's; None without one (or a network)."""
        record = records.get(first[0]) if first else None
        if self.spares is None or record is None:
            return None
        return self.spares.take(record.bridge, self.sandbox_path(container_id))

    def check_ports(self, container_id: str, ports: Sequence[PortRequest]) -> None:
        """Refuse a host port the caller may not publish (privileged) and (InUse)
        an explicit one another container or program holds."""
        fixed = [p for p in ports if p.host_port]
        if not fixed:  # nothing to look for: no read of the records
            return
        self._check_privileged(p.host_port for p in fixed)
        records = self.ipam.read()
        resolve_ports([published(p) for p in fixed], taken_ports(records, container_id, self.uid))

    def _check_privileged(self, host_ports: Iterable[int]) -> None:
        if self.uid != 0:
            check_host_ports(host_ports, uid=self.uid, unprivileged_start=unprivileged_port_start())

    def connect(self, container_id: str, network: str, *, hostname: str,
                names: Sequence[str] = (), address: IPv4Address | None = None,
                default_route: bool = True, mac: str = "",
                address6: IPv6Address | None = None, spare: Spare | None = None,
                link_local: Sequence[IPv4Address | IPv6Address] = ()) -> Endpoint:
        """Give the container's sandbox an interface and an address on ``network``;
        the default network is created on first use. ``mac`` (--mac-address) must be
        unicast and not another interface's on the bridge: every user's containers
        share the default one, and a copied MAC address would take their traffic.
        ``spare``: the sandbox is a spare's, whose veth pair is used if it is on
        that network's bridge still (and deleted if not). ``link_local``: more
        addresses of that interface, each alone (docker's LinkLocalIPs)."""
        sandbox = self.sandbox_path(container_id)
        if (address is not None or address6 is not None) and network == DEFAULT_NETWORK:
            raise InvalidArgument("user specified IP address is supported on user defined "
                                  "networks only")
        with self.ipam.transaction() as records:
            record = visible(records, network, self.uid)
            if network == DEFAULT_NETWORK:
                record = self._default_network(records, record)
            elif record is None:
                raise NetworkNotFound(f"network {network} not found")
            if any(a.version == 6 for a in link_local) and record.subnet6 is None:
                raise InvalidArgument(f"an IPv6 link-local IP needs a network with IPv6: "
                                      f"{network} has none")
            if container_id in record.endpoints:
                raise Conflict(f"the container is already connected to network {network}")
            ifname = f"eth{sum(container_id in r.endpoints for r in records.values())}"
            leaving.settle(record, joining=container_id)
            endpoint = record.allocate(container_id, address, address6)
            endpoint.mac_address = mac
            check_mac(endpoint, record)
            endpoint.owner = self.uid
            endpoint.hostname = hostname
            endpoint.names = list(dict.fromkeys(names))
            self._ensure_bridge(record, known=True)
            if spare is not None and not (spare.bridge == record.bridge and ifname == "eth0"
                                          and spare.current()):
                links.detach(spare.host_ifname)  # its bridge was made again meanwhile
                spare.close()
                spare = None
            gateway = record.gateway if default_route else None
            if spare is not None:
                with contextlib.closing(spare):
                    endpoint.veth = links.take_spare(
                        sandbox, spare.host_ifname, endpoint.address, gateway,
                        mac=endpoint.mac, owner=container_id, address6=endpoint.address6,
                        gateway6=record.gateway6, requests=spare.requests,
                        peer_index=spare.peer_index).host_ifname
            else:
                endpoint.veth = links.attach(
                    sandbox, record.bridge, endpoint.address, gateway, ifname=ifname,
                    mac=endpoint.mac, owner=container_id, address6=endpoint.address6,
                    gateway6=record.gateway6).host_ifname
            if link_local:
                links.add_addresses(sandbox, ifname, link_local, endpoint.veth)
        if self.spares is not None and ifname == "eth0":
            self.spares.want(record.bridge)
        if record.user_defined:
            self.refresh_hosts(record.endpoints.keys() - {container_id})
        return endpoint

    def rename(self, container_id: str, old: str, new: str) -> None:
        """A renamed container answers to its new name on every network (its aliases
        stay); the peers' hosts files say so at once."""
        peers: set[str] = set()
        with self.ipam.transaction() as records:
            for record in records.values():
                endpoint = record.endpoints.get(container_id)
                if endpoint is None:
                    continue
                names = [new if n == old else n for n in endpoint.names]
                endpoint.names = list(dict.fromkeys(names if old in endpoint.names
                                                    else [new, *names]))
                if record.user_defined:
                    peers |= set(record.endpoints)
        self.refresh_hosts(peers)

    def disconnect(self, container_id: str, network: str) -> None:
        """Take the container off ``network`` (its interface, address, ports there)."""
        with self.ipam.transaction() as records:
            record = self._find(records, network)
            endpoint = record.endpoints.get(container_id)
            if endpoint is None:
                raise InvalidArgument(f"the container is not connected to network {network}")
            self._detach(container_id, record.bridge, endpoint.veth)  # before it is free
            record.release(container_id)
            if endpoint.ports:
                self._apply(records)
        self.refresh_hosts([container_id, *record.endpoints])

    def publish(self, container_id: str, network: str,
                ports: Sequence[PortRequest]) -> list[PublishedPort]:
        """DNAT host ports to the container's address on ``network``; host port 0
        gets a free one. Refuses (InUse) a port already held."""
        self._check_privileged(p.host_port for p in ports)
        with self.ipam.transaction() as records:
            record = visible(records, network, self.uid)
            endpoint = record.endpoints.get(container_id) if record else None
            if endpoint is None:
                raise InvalidArgument(f"the container is not connected to network {network}")
            resolved = resolve_ports([published(p) for p in ports], taken_ports(
                records, container_id, self.uid), ipv6=endpoint.address6 is not None)
            # ::1 is relayed to the IPv4 address (runtime/loopproxy.py), as docker-proxy does
            if endpoint.address6 is None and any(":" in p.host_ip and p.host_ip != "::1"
                                                 for p in resolved):
                raise InvalidArgument(f"cannot publish on an IPv6 address: network {network} "
                                      "has no IPv6 (create it with --ipv6)")
            self._check_privileged(p.host_port for p in resolved)  # picked ones too
            endpoint.ports = resolved
            self._apply(records)
        return list(endpoint.ports)

    def unpublish(self, container_id: str) -> None:
        with self.ipam.transaction() as records:
            changed = False
            for record in records.values():
                endpoint = record.endpoints.get(container_id)
                if endpoint is not None and endpoint.ports:
                    endpoint.ports = []
                    changed = True
            if changed:
                self._apply(records)

    def cleanup_container(self, container_id: str) -> None:
        """Remove the container's rules, addresses, links and sandbox. Idempotent;
        safe after a crash anywhere in start or in an earlier cleanup. Its veths go
        with the sandbox's namespace, in the kernel's time: what they had stays
        taken until they are gone (:mod:`.leaving`)."""
        with self.ipam.transaction() as records:
            touched = [r for r in records.values() if container_id in r.endpoints]
            had_ports = any(r.endpoints[container_id].ports for r in touched)
            for record in touched:
                if not record.endpoints[container_id].veth:  # recorded before veths were
                    self._detach(container_id, record.bridge, "")
                record.release(container_id)
                leaving.settle(record)
            if had_ports:
                self._apply(records)
        destroy_sandbox(self.sandbox_path(container_id))
        self.refresh_hosts({cid for r in touched if r.user_defined for cid in r.endpoints})

    def _detach(self, container_id: str, bridge: str, veth: str) -> None:
        """Delete the container's veth on ``bridge`` (``veth``: its recorded host end);
        one recorded before veths were is found among the bridge's ports."""
        if veth:
            links.detach(veth)
            return
        for port in links.bridge_ports(bridge):
            if port.owner == container_id:
                links.detach(port.ifname)
