"""What the network records say about one container's endpoints: whether its MAC
address may join a bridge, which host ports others hold, and its hosts file.

Pure functions of the records (engine/helper/network/ipam.py), kept apart from
:class:`~engine.helper.network.networking.Networking`, which changes them.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from typing import Protocol

from engine.errors import InUse, InvalidArgument
from engine.helper.network import etcfiles
from engine.helper.network.ipam import Endpoint, NetworkRecord
from engine.helper.network.rules import PublishedPort
from engine.helper.network.subnets import mac_for

__all__ = ["PortRequest", "check_mac", "hosts_for", "published", "taken_ports"]


class PortRequest(Protocol):
    """What publishing needs of a port binding (engine.containers.config.PortBinding)."""

    @property
    def container_port(self) -> int: ...
    @property
    def protocol(self) -> str: ...
    @property
    def host_ip(self) -> str: ...
    @property
    def host_port(self) -> int: ...


def check_mac(endpoint: Endpoint, record: NetworkRecord) -> None:
    """The endpoint's MAC address as the bridge may take it: a --mac-address unicast,
    and none that another interface there has (one derived from an address may meet
    a chosen one), nor one a leaving veth still has."""
    mac = endpoint.mac
    if endpoint.mac_address and (int(mac.split(":")[0], 16) & 1
                                 or mac == "00:00:00:00:00:00"):
        raise InvalidArgument(f"{mac} is not a valid mac address: use a unicast one (the "
                              "first byte even)")
    taken = {mac_for(record.gateway)} | {e.mac for cid, e in record.endpoints.items()
                                         if cid != endpoint.container_id}
    taken |= {gone.mac for gone in record.leaving.values()}
    if mac in taken:
        raise InUse(f"MAC address {mac} is already in use on network {record.name}")


def published(port: PortRequest) -> PublishedPort:
    return PublishedPort(port.protocol or "tcp", port.host_ip, port.host_port,
                         port.container_port)


def taken_ports(records: dict[str, NetworkRecord], container_id: str,
           uid: int) -> dict[tuple[str, int], list[tuple[str, str]]]:
    """Host ports other containers publish, with who holds them (another user's
    containers go unnamed)."""
    taken: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for record in records.values():
        for cid, endpoint in record.endpoints.items():
            if cid == container_id:
                continue
            if endpoint.owner != uid:
                owner = "another user's container"
            else:
                owner = f"container {endpoint.names[0] if endpoint.names else cid[:12]}"
            for port in endpoint.ports:
                taken.setdefault((port.protocol, port.host_port), []).append(
                    (port.host_ip, owner))
    return taken


def hosts_for(records: dict[str, NetworkRecord], container_id: str, hostname: str,
               options: etcfiles.EtcOptions | None = None) -> str:
    """The hosts file; --add-host's host-gateway is the gateway of the container's first
    network (Docker's: the default bridge's address on the host)."""
    joined = [r for r in records.values() if container_id in r.endpoints]
    mine = [r.endpoints[container_id] for r in joined]
    own: list[IPv4Address | IPv6Address] = [*(ep.address.ip for ep in mine),
           *(ep.address6.ip for ep in mine if ep.address6 is not None)]
    others = [(cid, ep) for r in joined if r.user_defined
              for cid, ep in sorted(r.endpoints.items()) if cid != container_id]
    peers: list[tuple[IPv4Address | IPv6Address, list[str]]] = [
        *((ep.address.ip, [*ep.names, cid[:12]]) for cid, ep in others),
        *((ep.address6.ip, [*ep.names, cid[:12]]) for cid, ep in others
          if ep.address6 is not None)]
    extra = (options or etcfiles.EtcOptions()).hosts_lines(
        str(joined[0].gateway) if joined else "")
    return etcfiles.render_hosts(hostname, own, peers, extra)
