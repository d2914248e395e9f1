"""Skiff's host networking as the helper uses it: one object, a verb per step.

:class:`Networking` ties the pieces together around the network records
(:mod:`.ipam`): every change is one locked transaction that updates the
records, re-applies the whole netfilter rule set rendered from them, and only
then commits, so the rules on the host never describe more than the records.
Kernel objects are named so they can be found without records: bridges by
prefix, veths by their owner alias, sandboxes by their mount.

At container start the runtime calls, in order (see :meth:`start_container`,
which does all of it and undoes it on failure)::

    plan = plan_network(config.network, config.ports, config.network_aliases)
    net.check_ports(cid, ports)                      # refuse a taken port first
    if plan.sandbox: create_sandbox(net.sandbox_path(cid))
    for i, name in enumerate(plan.networks):
        net.connect(cid, name, hostname=..., names=[name, *aliases], default_route=i == 0)
    if plan.publish: net.publish(cid, plan.networks[0], ports)
    net.write_files(cid, hostname, plan)             # hosts, hostname, resolv.conf
    ... init setns()s into net.sandbox_path(cid) when plan.sandbox

and :meth:`cleanup_container` once the container is stopped for good (stop,
kill, rm; not between restarts by policy). :meth:`repair` runs when the
helper starts and after a crash.

A network created with IPv6 has a second subnet (its own, or a /64 of the IPv6
pool) and its containers an IPv6 address and route beside the IPv4 ones
(forwarding and rules: :mod:`.ruleset`).

An instance acts for one caller (``uid``, from the helper's peer): it finds,
joins and removes only that user's networks and the shared default one
(another user's network is "not found", as one that does not exist), and
applies :mod:`.policy` to the subnets and host ports it asks for. Container
cleanup and repair work on every user's records.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path

from engine.errors import Conflict, InUse, InvalidArgument, NameInUse, NetworkNotFound
from engine.helper.network import etcfiles, leaving, links
from engine.helper.network.endpoints import (
    PortRequest,
    check_mac,
    hosts_for,
    published,
    taken_ports,
)
from engine.helper.network.ipam import Endpoint, Ipam, NetworkRecord, record_key, visible
from engine.helper.network.netfilter import Netfilter, detect_backend
from engine.helper.network.netns import create_sandbox, destroy_sandbox
from engine.helper.network.plan import NetworkPlan
from engine.helper.network.policy import check_host_ports, check_subnet, choose_subnet
from engine.helper.network.pools import default_bridge_ipv6, load_pools
from engine.helper.network.ports import resolve_ports, unprivileged_port_start
from engine.helper.network.repair import RepairReport, repair
from engine.helper.network.rules import PublishedPort
from engine.helper.network.ruleset import apply_records
from engine.helper.network.subnets import (
    DEFAULT_NETWORK,
    PREDEFINED,
    bridge_name,
)
from engine.names import check_network_name

__all__ = ["Join", "Networking", "PortRequest", "RepairReport", "StartedNetwork"]

SANDBOX = "netns"


@dataclass(frozen=True)
class Join:
    """A network a container joins at start beyond what its mode says (docker network
    connect, compose's extra networks), or its own network's address (--ip)."""

    network: str
    aliases: tuple[str, ...] = ()
    address: IPv4Address | None = None
    address6: IPv6Address | None = None


@dataclass(frozen=True)
class StartedNetwork:
    """What start_container set up, for inspect and ``skiff port``."""

    plan: NetworkPlan
    endpoints: dict[str, Endpoint]  # network name -> endpoint
    ports: list[PublishedPort]
    files: dict[str, Path]  # "hosts" | "hostname" | "resolv.conf" -> file to bind-mount


class Networking:
    """Networks, container endpoints and published ports on this host.

    ``state_dir`` holds the network records (under the helper's root);
    ``container_dir`` maps a container id to its directory, where the sandbox
    and the generated /etc files live. ``uid`` is the caller the instance acts
    for. ``table`` and ``bridge_prefix`` name what Skiff owns in the kernel;
    tests pass their own.
    """

    def __init__(self, state_dir: Path, container_dir: Callable[[str], Path], *, uid: int,
                 table: str = "skiff", bridge_prefix: str = "skiff",
                 backend: str = "") -> None:
        self.uid = uid
        self.ipam = Ipam(state_dir)
        self.container_dir = container_dir
        self.bridge_prefix = bridge_prefix
        self._table, self._backend = table, backend
        # Bridges this instance set up as their records say: a container's start checks
        # that the bridge is still there, not its addresses (~16 ms of netlink a start).
        self._bridges_set_up: dict[str, tuple[object, ...]] = {}

    @functools.cached_property
    def netfilter(self) -> Netfilter:
        """Found when rules change: a container's release without published ports
        (what each monitor does as its container ends) runs no `nft list tables`."""
        return Netfilter(self._table, self._backend or detect_backend())

    def sandbox_path(self, container_id: str) -> Path:
        return self.container_dir(container_id) / SANDBOX

    # -- networks ---------------------------------------------------------------------------

    def networks(self) -> dict[str, NetworkRecord]:
        """The caller's networks and the shared default one, by name."""
        return {r.name: r for r in self.ipam.read().values() if r.owner in (None, self.uid)}

    def network(self, name: str) -> NetworkRecord:
        return self._find(self.ipam.read(), name)

    def _find(self, records: dict[str, NetworkRecord], name: str) -> NetworkRecord:
        record = visible(records, name, self.uid)
        if record is None:
            raise NetworkNotFound(f"network {name} not found")
        return record

    def create_network(self, name: str, subnet: IPv4Network | None = None,
                       gateway: IPv4Address | None = None, *, internal: bool = False,
                       ip_range: IPv4Network | None = None, ipv6: bool = False,
                       subnet6: IPv6Network | None = None, gateway6: IPv6Address | None = None,
                       ip_range6: IPv6Network | None = None) -> NetworkRecord:
        """Create one of the caller's networks: record, bridge, rules. The
        default network ("bridge") is created by the first container that uses it.
        ``internal``: its containers reach each other and nothing else; ``ip_range``:
        where in the subnet addresses are handed out; ``ipv6``: an IPv6 subnet too
        (``subnet6``, else one from the pools)."""
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
                                      ip_range6=ip_range6)
            self._ensure_bridge(record)
            records[record.key] = record
            self._apply(records)
        return record

    def _new_record(self, records: dict[str, NetworkRecord], name: str, owner: int | None,
                    subnet: IPv4Network | None, gateway: IPv4Address | None, *,
                    internal: bool = False, ip_range: IPv4Network | None = None,
                    ipv6: bool = False, subnet6: IPv6Network | None = None,
                    gateway6: IPv6Address | None = None,
                    ip_range6: IPv6Network | None = None) -> NetworkRecord:
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
                             subnet6=subnet6, gateway6=gateway6, ip_range6=ip_range6)

    def _ensure_bridge(self, record: NetworkRecord, *, known: bool = False) -> None:
        """The record's bridge, made or fixed up; ``known``: trust what this instance
        set up before if the bridge is still there (a container's start; repair and
        network creation look at everything)."""
        wanted = (record.subnet, record.gateway, record.gateway6_interface)
        if known and self._bridges_set_up.get(record.bridge) == wanted \
                and links.link_exists(record.bridge):
            return
        links.ensure_bridge(record.bridge, *wanted)
        self._bridges_set_up[record.bridge] = wanted

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
            links.remove_bridge(record.bridge)

    # -- containers -------------------------------------------------------------------------

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
        try:
            if plan.sandbox:
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
                                                  mac=mac if index == 0 else "")
            published: list[PublishedPort] = []
            if plan.publish and plan.networks and ports and plan.networks[0] not in internal:
                published = self.publish(container_id, plan.networks[0], ports)
            files = self.write_files(container_id, hostname, plan)
        except BaseException:
            self.cleanup_container(container_id)
            raise
        return StartedNetwork(plan, endpoints, published, files)

    def check_ports(self, container_id: str, ports: Sequence[PortRequest]) -> None:
        """Refuse a host port the caller may not publish (privileged) and (InUse)
        an explicit one another container or program holds."""
        fixed = [p for p in ports if p.host_port]
        self._check_privileged(p.host_port for p in fixed)
        records = self.ipam.read()
        resolve_ports([published(p) for p in fixed], taken_ports(records, container_id, self.uid))

    def _check_privileged(self, host_ports: Iterable[int]) -> None:
        if self.uid != 0:
            check_host_ports(host_ports, uid=self.uid, unprivileged_start=unprivileged_port_start())

    def connect(self, container_id: str, network: str, *, hostname: str,
                names: Sequence[str] = (), address: IPv4Address | None = None,
                default_route: bool = True, mac: str = "",
                address6: IPv6Address | None = None) -> Endpoint:
        """Give the container's sandbox an interface and an address on ``network``;
        the default network is created on first use. ``mac`` (--mac-address) must be
        unicast and not another interface's on the bridge: every user's containers
        share the default one, and a copied MAC address would take their traffic."""
        sandbox = self.sandbox_path(container_id)
        if (address is not None or address6 is not None) and network == DEFAULT_NETWORK:
            raise InvalidArgument("user specified IP address is supported on user defined "
                                  "networks only")
        with self.ipam.transaction() as records:
            record = visible(records, network, self.uid)
            if record is None and network != DEFAULT_NETWORK:
                raise NetworkNotFound(f"network {network} not found")
            if record is None or (network == DEFAULT_NETWORK and not record.endpoints):
                ipv6, subnet6 = default_bridge_ipv6()  # root's choice, when nobody is on it
                if record is None or ipv6 != (record.subnet6 is not None) or (
                        subnet6 is not None and subnet6 != record.subnet6):
                    if record is not None:  # made again, off the host first (unused)
                        del records[record.key]
                        leaving.drop(record)
                        links.remove_bridge(record.bridge)
                    record = self._new_record(records, network, None, None, None,
                                              ipv6=ipv6, subnet6=subnet6)
                    records[record.key] = record
                    self._apply(records)
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
            endpoint.veth = links.attach(
                sandbox, record.bridge, endpoint.address,
                record.gateway if default_route else None, ifname=ifname, mac=endpoint.mac,
                owner=container_id, address6=endpoint.address6,
                gateway6=record.gateway6).host_ifname
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
            if endpoint.address6 is None and any(":" in p.host_ip for p in resolved):
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

    def write_files(self, container_id: str, hostname: str,
                    plan: NetworkPlan) -> dict[str, Path]:
        """Write the container's hosts, hostname and resolv.conf; returns their paths."""
        directory = self.container_dir(container_id)
        files = {name: directory / name for name in
                 (etcfiles.HOSTS, etcfiles.HOSTNAME, etcfiles.RESOLV_CONF)}
        options = self.etc_options(container_id)
        if plan.host_network:
            try:
                hosts = Path("/etc/hosts").read_text() + options.hosts_lines("127.0.0.1")
            except OSError:
                hosts = etcfiles.render_hosts(hostname, [], extra=options.hosts_lines())
        else:
            hosts = hosts_for(self.ipam.read(), container_id, hostname, options)
        etcfiles.write_in_place(files[etcfiles.HOSTS], hosts)
        etcfiles.write_in_place(files[etcfiles.HOSTNAME], f"{hostname}\n")
        etcfiles.write_in_place(files[etcfiles.RESOLV_CONF], etcfiles.apply_dns(
            etcfiles.host_resolv_conf(plan.host_network), options))
        return files

    def etc_options(self, container_id: str) -> etcfiles.EtcOptions:
        return etcfiles.read_options(self.container_dir(container_id))

    def refresh_hosts(self, container_ids: Iterable[str]) -> None:
        """Rewrite the hosts files of these containers (those that have one)
        after a peer joined or left one of their networks."""
        records = self.ipam.read()
        for cid in container_ids:
            path = self.container_dir(cid) / etcfiles.HOSTS
            if not path.exists():
                continue
            own = [r.endpoints[cid] for r in records.values() if cid in r.endpoints]
            hostname = own[0].hostname if own else ""
            etcfiles.write_in_place(path, hosts_for(records, cid, hostname,
                                                     self.etc_options(cid)))

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

    # -- repair -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        """Held (shared) from a container's sandbox to its running monitor. Every
        user's helper shares this host's networking, so repair waits for starts in
        flight rather than take a starting container for a dead one."""
        with self.ipam.locked(".starts.lock", exclusive=False):
            yield

    def repair(self, live_container_ids: Callable[[], Iterable[str]],
               sandbox_root: Path | None = None) -> RepairReport:
        """Make the host match the records for the live containers (asked once no
        start is in flight): forget the others, recreate missing bridges, re-apply
        the rules, and delete links, bridges and sandboxes (below ``sandbox_root``)
        nobody owns. Idempotent."""
        with self.ipam.locked(".starts.lock", exclusive=True):
            return repair(self, set(live_container_ids()), sandbox_root)

    def teardown(self) -> None:
        """Remove every network, bridge and rule of this instance (uninstall, tests).
        Containers' sandboxes are left to cleanup_container."""
        with self.ipam.transaction() as records:
            for record in records.values():
                leaving.drop(record)
                links.remove_bridge(record.bridge)
            records.clear()
            self._apply(records)  # no rules left, IPv6 forwarding as it was
        for bridge in links.bridges(self.bridge_prefix):
            links.remove_bridge(bridge)

    def _apply(self, records: dict[str, NetworkRecord]) -> None:
        apply_records(self.netfilter, records, self.bridge_prefix, self.ipam.directory)
