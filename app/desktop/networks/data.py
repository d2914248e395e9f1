"""What the Networks page lists, from the engine's networks and the containers.

A network row carries the engine's ``Network``; its members are the containers
on it with their addresses, and the aliases they answer to there.
The subnet check runs as the user types, before the engine is asked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine import Container, Network

__all__ = ["PREDEFINED", "Member", "NetworkEntry", "check_subnet", "network_entries"]

PREDEFINED = ("bridge", "host", "none")


@dataclass(frozen=True)
class Member:
    container_id: str
    name: str
    address: str  # 172.18.0.2/16, and its IPv6 one after it: "172.18.0.2/16, fd12::2/64"
    mac: str
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NetworkEntry:
    network: Network
    members: list[Member]
    wanted_by: list[str]  # containers (any state) made to join it

    @property
    def name(self) -> str:
        return self.network.name

    @property
    def driver(self) -> str:
        return self.network.driver

    @property
    def subnet(self) -> str:
        """Its subnet, and its IPv6 one after it ("10.1.0.0/24, fd12::/64")."""
        return ", ".join(s for s in (self.network.subnet, self.network.subnet6) if s)

    @property
    def gateway(self) -> str:
        return self.network.gateway

    @property
    def created(self) -> str:
        return self.network.created

    @property
    def predefined(self) -> bool:
        return self.name in PREDEFINED


def network_entries(networks: Sequence[Network], containers: Sequence[Container]
                    ) -> list[NetworkEntry]:
    by_id = {c.id: c for c in containers}
    entries = []
    for network in networks:
        members = []
        for cid, endpoint in network.containers.items():
            if cid not in by_id:
                continue
            address = ", ".join(a for a in (endpoint.ipv4_address, endpoint.ipv6_address) if a)
            members.append(Member(cid, endpoint.name, address, endpoint.mac_address,
                                  list(endpoint.aliases)))
        wanted = sorted(c.name for c in containers if c.config.network == network.name)
        entries.append(NetworkEntry(network, sorted(members, key=lambda m: m.name), wanted))
    return entries


def check_subnet(subnet: str, gateway: str) -> str:
    """Why the subnet and gateway cannot be used ("" when they can; both may be empty)."""
    if not subnet:
        return "Give a subnet for the gateway too." if gateway else ""
    try:
        network = ipaddress.ip_network(subnet, strict=True)
    except ValueError as exc:
        return f"{subnet} is not a subnet: {exc}. Write it as 10.20.0.0/24."
    if network.version != 4:
        return "Only IPv4 subnets are supported."
    if network.prefixlen > 30:
        return f"{subnet} is too small: give a prefix of /30 or shorter."
    if not network.is_private:
        return f"{subnet} is not a private range: use 10.0.0.0/8, 172.16.0.0/12 or " \
               "192.168.0.0/16."
    if gateway:
        try:
            address = ipaddress.ip_address(gateway)
        except ValueError:
            return f"{gateway} is not an IPv4 address."
        if address not in network or address in (network.network_address,
                                                  network.broadcast_address):
            return f"The gateway {gateway} is not a usable address of {subnet}."
    return ""
