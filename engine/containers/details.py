"""What ``engine.containers.inspect`` (and ``engine.Reader``'s) answers: a
container as it is now, typed.

The engine's clients read these fields; ``docker_json`` is docker container
inspect's document for those that print or serve it (``skiff inspect`` and its
``--format`` templates, the Docker API, the window's Inspect tab), built in one
place (engine/containers/inspect.py). The helper reports a running container's
networks in Docker's names (its network.json, network_list); ``from_helper``
reads them, taking what a key lacks or mistypes as unset. What is stored is read
into these by engine/containers/inspectdoc.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.containers.config import ContainerConfig
from engine.containers.imageconfig import EffectiveConfig
from engine.containers.model import Container
from engine.containers.state import ContainerState
from engine.frozen import field, frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ContainerDetails", "EndpointSettings", "HostPort", "MountPoint",
           "NetworkSettings", "UsernsMapping"]


@frozen
class HostPort:
    """Where a container port is published on the host."""

    host_ip: str
    host_port: str  # as docker shows it: a string

    def docker_json(self) -> dict[str, str]:
        return {"HostIp": self.host_ip, "HostPort": self.host_port}


#: NetworkSettings.Ports: "80/tcp" -> its bindings, None when exposed only
Ports = Mapping[str, "tuple[HostPort, ...] | None"]


@frozen
class EndpointSettings:
    """The container on one network (docker's EndpointSettings)."""

    ip_address: str = ""
    ip_prefix_len: int = 0
    gateway: str = ""
    mac_address: str = ""
    aliases: tuple[str, ...] | None = None  # the names it has there beyond its own
    ipv4_requested: str = ""  # --ip / network connect --ip (IPAMConfig.IPv4Address)
    ipv6_requested: str = ""  # --ip6 / network connect --ip6 (IPAMConfig.IPv6Address)
    network_id: str = ""
    endpoint_id: str = ""
    ipv6_gateway: str = ""
    global_ipv6_address: str = ""
    global_ipv6_prefix_len: int = 0
    driver_opts: Mapping[str, str] | None = None  # as asked at create (DriverOpts)
    links: tuple[str, ...] = ()  # network-scoped links as asked, "NAME:ALIAS"
    link_local_ips: tuple[str, ...] = ()  # IPAMConfig.LinkLocalIPs as asked

    @classmethod
    def from_helper(cls, data: Mapping[str, Any]) -> EndpointSettings:
        aliases = data.get("Aliases")
        return cls(ip_address=_str(data, "IPAddress"), ip_prefix_len=_int(data, "IPPrefixLen"),
                   gateway=_str(data, "Gateway"), mac_address=_str(data, "MacAddress"),
                   aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list)
                   else None,
                   ipv6_gateway=_str(data, "IPv6Gateway"),
                   global_ipv6_address=_str(data, "GlobalIPv6Address"),
                   global_ipv6_prefix_len=_int(data, "GlobalIPv6PrefixLen"))

    def docker_json(self) -> dict[str, Any]:
        return {
            "IPAMConfig": {**({"IPv4Address": self.ipv4_requested} if self.ipv4_requested
                              else {}),
                           **({"IPv6Address": self.ipv6_requested} if self.ipv6_requested
                              else {}),
                           **({"LinkLocalIPs": list(self.link_local_ips)}
                              if self.link_local_ips else {})} or None,
            "Links": list(self.links) or None,
            "Aliases": list(self.aliases) if self.aliases is not None else None,
            "MacAddress": self.mac_address,
            "DriverOpts": dict(self.driver_opts) if self.driver_opts else None,
            **({"NetworkID": self.network_id} if self.network_id else {}),
            **({"EndpointID": self.endpoint_id} if self.endpoint_id else {}),
            "Gateway": self.gateway,
            "IPAddress": self.ip_address,
            "IPPrefixLen": self.ip_prefix_len,
            "IPv6Gateway": self.ipv6_gateway,
            "GlobalIPv6Address": self.global_ipv6_address,
            "GlobalIPv6PrefixLen": self.global_ipv6_prefix_len,
            "DNSNames": None,
        }


@frozen
class NetworkSettings:
    """A container's networks, its sandbox and its ports (docker's NetworkSettings);
    the top-level addresses are its first network's, as docker shows the default
    bridge's."""

    networks: Mapping[str, EndpointSettings] = field(default_factory=dict)
    ports: Ports = field(default_factory=dict)
    sandbox_key: str = ""  # the path of its network namespace; "": none of its own
    sandbox_id: str = ""
    ip_address: str = ""
    ip_prefix_len: int = 0
    gateway: str = ""
    mac_address: str = ""
    ipv6_gateway: str = ""
    global_ipv6_address: str = ""
    global_ipv6_prefix_len: int = 0

    @classmethod
    def from_helper(cls, data: Mapping[str, Any]) -> NetworkSettings:
        """The helper's network.json of a started container."""
        networks = data.get("Networks")
        ports = data.get("Ports")
        return cls(
            networks={str(name): EndpointSettings.from_helper(value)
                      for name, value in networks.items() if isinstance(value, dict)}
            if isinstance(networks, dict) else {},
            ports={str(key): tuple(HostPort(_str(b, "HostIp"), _str(b, "HostPort"))
                                   for b in value if isinstance(b, dict))
                   if isinstance(value, list) else None
                   for key, value in ports.items()} if isinstance(ports, dict) else {},
            sandbox_key=_str(data, "SandboxKey"),
            ip_address=_str(data, "IPAddress"), ip_prefix_len=_int(data, "IPPrefixLen"),
            gateway=_str(data, "Gateway"), mac_address=_str(data, "MacAddress"),
            ipv6_gateway=_str(data, "IPv6Gateway"),
            global_ipv6_address=_str(data, "GlobalIPv6Address"),
            global_ipv6_prefix_len=_int(data, "GlobalIPv6PrefixLen"))

    def docker_json(self) -> dict[str, Any]:
        return {
            "Bridge": "", "SandboxID": self.sandbox_id, "HairpinMode": False,
            "IPAddress": self.ip_address, "IPPrefixLen": self.ip_prefix_len,
            "Gateway": self.gateway, "MacAddress": self.mac_address,
            "IPv6Gateway": self.ipv6_gateway, "GlobalIPv6Address": self.global_ipv6_address,
            "GlobalIPv6PrefixLen": self.global_ipv6_prefix_len,
            "SandboxKey": self.sandbox_key,
            "Ports": {key: [b.docker_json() for b in bindings] if bindings is not None
                      else None for key, bindings in self.ports.items()},
            "Networks": {name: ep.docker_json() for name, ep in self.networks.items()},
        }


@frozen
class MountPoint:
    """A mount as the container has it (docker's Mounts entry)."""

    type: str  # bind | volume | tmpfs
    source: str  # a volume's: its directory on the host ("" once it is gone)
    destination: str
    read_only: bool = False
    name: str = ""  # a volume's name
    mode: str = ""
    propagation: str = ""

    def docker_json(self) -> dict[str, Any]:
        return {"Type": self.type, **({"Name": self.name} if self.type == "volume" else {}),
                "Source": self.source, "Destination": self.destination,
                **({"Driver": "local"} if self.type == "volume" else {}),
                "Mode": self.mode, "RW": not self.read_only, "Propagation": self.propagation}


@frozen
class UsernsMapping:
    """How a container in a user namespace is mapped (the helper's userns.json)."""

    uid_map: tuple[str, ...]
    gid_map: tuple[str, ...]
    layers: str = ""  # idmapped mounts of the shared layers, or the user's shifted copies

    @classmethod
    def from_helper(cls, data: Mapping[str, Any]) -> UsernsMapping | None:
        if not data:
            return None
        return cls(_strs(data.get("uid_map")), _strs(data.get("gid_map")),
                   _str(data, "layers"))


@frozen
class ContainerDetails:
    """A container with what it runs and how it is set up now: docker inspect's facts."""

    container: Container
    effective: EffectiveConfig  # its config merged with its image's (when it is here)
    args: list[str]  # what runs: entrypoint and command
    env: list[str]
    log_path: str
    network: NetworkSettings
    mounts: tuple[MountPoint, ...] = ()
    userns: UsernsMapping | None = None  # None: not remapped
    # the files mounted at /etc/resolv.conf, /etc/hostname and /etc/hosts ("": not yet)
    resolv_conf_path: str = ""
    hostname_path: str = ""
    hosts_path: str = ""

    @property
    def id(self) -> str:
        return self.container.id

    @property
    def name(self) -> str:
        return self.container.name

    @property
    def config(self) -> ContainerConfig:
        return self.container.config

    @property
    def state(self) -> ContainerState:
        return self.container.state

    def docker_json(self) -> dict[str, Any]:
        """docker container inspect's document."""
        from engine.containers.inspect import container_inspect

        return container_inspect(self)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _strs(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()
