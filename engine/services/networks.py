"""``engine.networks``: user-defined bridge networks next to docker's predefined
three (bridge, host, none), as typed ``Network`` answers (engine/networkmodel.py).

The helper owns the links, addresses and NAT (engine/helper/network); this side
names containers and journals what the user asked for.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from typing import Any

from engine.errors import (
    Conflict,
    InUse,
    InvalidArgument,
    InvalidState,
    NetworkNotFound,
    NotFound,
    SkiffError,
)
from engine.names import check_network_name
from engine.networkattachments import Attachment
from engine.networkmodel import Network, NetworkEndpoint, endpoint_id, hex_id
from engine.networksubnets import NetworkSubnets
from engine.prune import EVERYTHING, PREDEFINED_NETWORKS, Pruned, PruneFilter
from engine.services.shared import Shared
from engine.wire.requests import NetworkCreate, NetworkDisconnect, NetworkList, NetworkRemove

__all__ = ["NetworkService", "endpoint_id", "hex_id"]

_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\Z")  # as --mac-address takes it


class NetworkService:
    def __init__(self, shared: Shared) -> None:
        self._s = shared

    async def create(self, name: str, subnet: str = "", gateway: str = "",
                     labels: dict[str, str] | None = None, *, internal: bool = False,
                     ip_range: str = "", subnets: NetworkSubnets | None = None) -> Network:
        """A user-defined bridge network; containers on it reach each other by name.
        ``internal``: and nothing else (no way out, no published ports); ``ip_range``:
        the part of the subnet addresses are handed out from. ``subnets`` says all of
        that at once, with IPv6 (engine/networksubnets.py: what the CLI, the API and
        compose ask for); without an IPv6 subnet, IPv6 takes a /64 of the host's pool."""
        if name in ("bridge", "host", "none", "default"):
            raise Conflict(f"network with name {name} already exists")
        check_network_name(name)
        asked = subnets or NetworkSubnets(subnet, gateway, ip_range)
        result = await self._s.call(NetworkCreate(
            name=name, subnet=asked.subnet or None, gateway=asked.gateway or None,
            ip_range=asked.ip_range or None, internal=internal, ipv6=asked.ipv6 or None,
            subnet6=asked.subnet6 or None, gateway6=asked.gateway6 or None,
            ip_range6=asked.ip_range6 or None,
            aux=[f"{k}={v}" for k, v in asked.aux.items()] or None))
        self._s.network_labels.set(name, dict(labels or {}))
        created = self._network(result)
        self._s.emit("network", "create", created.id, name=name, type="bridge")
        return created

    async def list(self) -> builtins.list[Network]:
        listed = await self._s.call(NetworkList())
        found = {n["Name"]: self._network(n) for n in listed}
        for name in PREDEFINED_NETWORKS:
            found.setdefault(name, self._network({"Name": name, "Driver": {
                "host": "host", "none": "null"}.get(name, "bridge"), "Containers": {}}))
        return sorted(found.values(), key=lambda n: n.name)

    async def get(self, name: str) -> Network:
        """By name or ID prefix; raises NetworkNotFound."""
        for network in await self.list():
            if network.name == name or network.id.startswith(name):
                return network
        raise NetworkNotFound(f"network {name} not found")

    async def inspect(self, name: str) -> Network:
        """What ``get`` returns (its ``docker_json()`` is docker network inspect's)."""
        return await self.get(name)

    async def remove(self, name: str) -> None:
        if name in ("bridge", "host", "none", "default"):
            raise InvalidArgument(f"{name} is a pre-defined network and cannot be removed")
        # As docker's: only containers that run have endpoints; a stopped one that names
        # the network finds it gone when it starts (compose recreates a changed network so).
        attached = set(self._s.network_attachments.on_network(name))
        users = [r.name for r in self._s.container_store.all()
                 if (r.config.network == name or r.id in attached)
                 and self._s.status.state(r).status.is_active]
        if users:
            raise InUse(f"error while removing network: network {name} has active endpoints "
                        f"(containers {', '.join(users)})")
        gone = await self.get(name)
        await self._s.call(NetworkRemove(name=name))
        self._s.network_labels.remove(name)
        self._s.emit("network", "destroy", gone.id, name=gone.name, type="bridge")

    async def prune(self, chosen: PruneFilter = EVERYTHING, *,
                    dry_run: bool = False) -> Pruned:
        """Remove the user-defined networks that no container (running or not) is on
        and that ``chosen`` allows. With ``dry_run`` nothing goes: the answer is what
        the prune would do now."""
        wanted = {record.config.network for record in self._s.container_store.all()}
        result = Pruned()
        for network in await self.list():
            name = network.name
            if name in PREDEFINED_NETWORKS or name in wanted or network.containers:
                continue
            if not chosen.allows(dict(network.labels), network.created):
                continue
            if dry_run:
                result.deleted.append(name)
                continue
            try:
                await self.remove(name)
            except NotFound:
                continue
            except SkiffError as exc:
                result.errors.append(exc)
                continue
            result.deleted.append(name)
        return result

    async def connect(self, network: str, ref: str, aliases: Sequence[str] = (),
                      ip: str = "", ip6: str = "", mac: str = "", *,
                      links: Sequence[str] = (), link_local_ips: Sequence[str] = ()) -> None:
        """Join a network beyond the container's own, now if it runs and at every start
        (engine/networkattachments.py); a created container joins when it starts.
        ``mac``: the interface's MAC address there (docker's EndpointConfig.MacAddress);
        ``links``: network-scoped links, "NAME[:ALIAS]" (hosts entries from its next
        start on, while the linked container is on that network); ``link_local_ips``:
        more addresses of its interface there (IPAMConfig.LinkLocalIPs)."""
        from engine.containers.hostopts import parse_link_local_ip
        from engine.containers.links import parse_link

        if mac and not _MAC.match(mac):
            raise InvalidArgument(f"{mac} is not a valid mac address")
        mac = mac.lower().replace("-", ":")
        links = [parse_link(link) for link in links]
        link_local_ips = [parse_link_local_ip(a) for a in link_local_ips]
        record = self._s.container_store.find(ref)
        found = await self.get(network)
        network = found.name
        own = "bridge" if record.config.network == "default" else record.config.network
        running = self._s.status.state(record).running
        # Running, it is on what it is connected to now (its own network may have been
        # disconnected); created, on its own network and those recorded.
        connected = record.id in found.containers if running else (
            network == own or network in [a.network for a in
                                          self._s.network_attachments.of(record.id)])
        if connected:
            raise Conflict(f"endpoint with name {record.name} already exists in network "
                           f"{network}")
        if network in ("host", "none"):
            raise InvalidArgument(f"container cannot be connected to the {network} network "
                                  "and another one")
        if own in ("host", "none"):
            raise InvalidArgument(f"a container on the {own} network cannot be connected to "
                                  "another network")
        if aliases and network == "bridge":
            raise InvalidArgument("network-scoped alias is supported only for containers in "
                                  "user defined networks")
        attachment = Attachment(network, builtins.list(aliases), ip, ip6, mac,
                                builtins.list(links), builtins.list(link_local_ips))
        if running:
            await self._s.connect(record, attachment)
        self._s.network_attachments.add(record.id, attachment)
        self._s.emit("network", "connect", network, name=network, container=record.id,
                     type="bridge")

    async def disconnect(self, network: str, ref: str) -> None:
        record = self._s.container_store.find(ref)
        attached = self._s.network_attachments.remove(record.id, network)
        if self._s.status.state(record).running:
            await self._s.call(NetworkDisconnect(id=record.id, network=network))
        elif not attached:
            raise InvalidState(f"container {record.name} is not connected to network "
                               f"{network}")
        self._s.emit("network", "disconnect", network, name=network, container=record.id,
                     type="bridge")

    def _network(self, data: dict[str, Any]) -> Network:
        """The network the helper reports, with its containers named and its labels."""
        from engine.predefined import PredefinedNetworks

        name = str(data.get("Name", ""))
        names = {r.id: r.name for r in self._s.container_store.all()}
        containers = {cid: _endpoint(name, cid, names[cid], info or {})
                      for cid, info in (data.get("Containers") or {}).items() if cid in names}
        created = str(data.get("Created") or "")
        if name in PREDEFINED_NETWORKS:
            created = PredefinedNetworks(self._s.db).created(name, created)
        return Network(
            name=name, id=hex_id("network", name), created=created,
            driver=str(data.get("Driver", "bridge")),
            subnet=str(data.get("Subnet") or ""), gateway=str(data.get("Gateway") or ""),
            ip_range=str(data.get("IPRange") or ""), internal=bool(data.get("Internal")),
            bridge=str(data.get("Bridge") or ""), labels=self._s.network_labels.get(name),
            containers=containers, enable_ipv6=bool(data.get("EnableIPv6")),
            subnet6=str(data.get("Subnet6") or ""), gateway6=str(data.get("Gateway6") or ""),
            ip_range6=str(data.get("IPRange6") or ""),
            aux_addresses=dict(data.get("AuxiliaryAddresses") or {}))


def _endpoint(network: str, container_id: str, name: str, info: dict[str, Any]
              ) -> NetworkEndpoint:
    """One container on the network, from what the helper reports of its endpoint."""
    address = str(info.get("IPAddress") or "")
    prefix = info.get("IPPrefixLen")
    address6 = str(info.get("GlobalIPv6Address") or "")
    prefix6 = info.get("GlobalIPv6PrefixLen")
    return NetworkEndpoint(
        container_id=container_id, name=name, endpoint_id=endpoint_id(network, container_id),
        mac_address=str(info.get("MacAddress") or ""),
        ipv4_address=f"{address}/{prefix}" if address and prefix else address,
        aliases=tuple(str(a) for a in info.get("Aliases") or ()),
        ipv6_address=f"{address6}/{prefix6}" if address6 and prefix6 else address6)
