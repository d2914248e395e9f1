"""What ``engine.networks`` answers: a network and the containers on it, typed.

The engine's clients read these fields; ``docker_json`` is docker network
inspect's document for the two that print it (``skiff network inspect`` and the
Docker API), one home for that shape. A container's aliases on a network are
Skiff's to show (the window lists them); docker's document has no place for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Network", "NetworkEndpoint", "endpoint_id", "hex_id"]


@dataclass(frozen=True)
class NetworkEndpoint:
    """A container on a network, as it is connected now."""

    container_id: str
    name: str  # the container's name
    endpoint_id: str
    mac_address: str = ""
    ipv4_address: str = ""  # with its prefix length, "10.88.0.2/16"; "" when none
    aliases: tuple[str, ...] = ()  # the names it answers to there beyond its own
    ipv6_address: str = ""  # "fd12:3456:789a:1::2/64" on a network with IPv6; "": none

    def docker_json(self) -> dict[str, Any]:
        return {"Name": self.name, "EndpointID": self.endpoint_id,
                "MacAddress": self.mac_address, "IPv4Address": self.ipv4_address,
                "IPv6Address": self.ipv6_address}


@dataclass(frozen=True)
class Network:
    """A network: docker's predefined bridge, host and none, or a user-defined bridge."""

    name: str
    id: str
    created: str  # RFC 3339, UTC
    driver: str = "bridge"  # bridge | host | null
    subnet: str = ""  # "" for host and none
    gateway: str = ""
    ip_range: str = ""  # where addresses are handed out; "": the whole subnet
    internal: bool = False
    bridge: str = ""  # the Linux bridge that carries it, once made
    labels: Mapping[str, str] = field(default_factory=dict)
    containers: Mapping[str, NetworkEndpoint] = field(default_factory=dict)  # by ID
    enable_ipv6: bool = False  # an IPv6 subnet beside the IPv4 one
    subnet6: str = ""
    gateway6: str = ""
    ip_range6: str = ""
    aux_addresses: Mapping[str, str] = field(default_factory=dict)  # reserved: name -> address

    @property
    def predefined(self) -> bool:
        return self.name in ("bridge", "host", "none")

    def docker_json(self) -> dict[str, Any]:
        """docker network inspect's document."""
        ipam: list[dict[str, Any]] = []
        if self.subnet:
            ipam.append({"Subnet": self.subnet, "Gateway": self.gateway})
            if self.ip_range:
                ipam[0]["IPRange"] = self.ip_range
        if self.subnet6:
            ipam.append({"Subnet": self.subnet6, "Gateway": self.gateway6,
                         **({"IPRange": self.ip_range6} if self.ip_range6 else {})})
        for config in ipam:  # each subnet's own, as dockerd shows them (when there are)
            six = ":" in config["Subnet"]
            aux = {k: v for k, v in self.aux_addresses.items() if (":" in v) == six}
            if aux:
                config["AuxiliaryAddresses"] = aux
        return {
            "Name": self.name, "Id": self.id, "Created": self.created, "Scope": "local",
            "Driver": self.driver, "EnableIPv6": self.enable_ipv6,
            "IPAM": {"Driver": "default", "Options": None, "Config": ipam},  # as dockerd
            "Internal": self.internal, "Attachable": False,
            "Containers": {cid: ep.docker_json() for cid, ep in self.containers.items()},
            "Options": {"com.docker.network.bridge.name": self.bridge} if self.bridge else {},
            "Labels": dict(self.labels),
        }


def hex_id(kind: str, name: str) -> str:
    """A stable 64-hex ID for what docker identifies by a random one (networks,
    sandboxes, endpoints): the same every time it is shown."""
    import hashlib  # OpenSSL's, ~4 ms: not for a listing that shows no ID

    return hashlib.sha256(f"skiff-{kind}:{name}".encode()).hexdigest()


def endpoint_id(network: str, container_id: str) -> str:
    return hex_id("endpoint", f"{network}/{container_id}")
