"""The helper's network verbs and the glue its container service and monitors use.

Networks and containers are the caller's own (``uid``, from SO_PEERCRED): a
verb that names a network sees the caller's networks and the shared default
one (see :mod:`.ipam` for names, :mod:`.policy` for subnets and ports); a verb
that names a container finds it under ``root/users/<uid>/containers``. Every
Networking instance keeps its records under the helper root, so the helper,
the container monitors and repair all see the same records and kernel objects.
``SKIFF_NET_PREFIX``, ``SKIFF_NET_TABLE`` and ``SKIFF_NETFILTER`` rename the
bridges and the nft table or force a backend (tests keep off the real ones).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from pathlib import Path
from typing import Any

from engine.errors import (
    ContainerNotFound,
    InvalidArgument,
    InvalidState,
    KernelFeatureMissing,
    NetworkNotFound,
)
from engine.helper.network.ipam import Endpoint, Ipam, NetworkRecord, visible
from engine.helper.network.netns import is_sandbox
from engine.helper.network.networking import Join, Networking, PortRequest, StartedNetwork
from engine.helper.network.plan import NetworkPlan
from engine.helper.network.policy import check_host_ports
from engine.helper.network.ports import unprivileged_port_start
from engine.helper.network.rules import PublishedPort
from engine.helper.network.subnets import DEFAULT_NETWORK, PREDEFINED
from engine.processes import is_alive

__all__ = [
    "NetworkVerbs",
    "check_container_network",
    "default_networking",
    "docker_ports",
    "endpoint_json",
    "live_container_ids",
    "network_json",
    "network_settings",
]

_ACTIVE = ("running", "restarting", "paused")


def _container_dir(root: Path, container_id: str) -> Path:
    for found in (root / "users").glob(f"*/containers/{container_id}"):
        return found
    return root / "users" / "0" / "containers" / container_id  # absent: nothing to do there


def default_networking(root: Path, uid: int) -> Networking:
    """The host's networking for the helper whose storage root is ``root``,
    acting for user ``uid``."""
    return Networking(root / "network", lambda cid: _container_dir(root, cid), uid=uid,
                      table=os.environ.get("SKIFF_NET_TABLE", "skiff"),
                      bridge_prefix=os.environ.get("SKIFF_NET_PREFIX", "skiff"),
                      backend=os.environ.get("SKIFF_NETFILTER", ""))


def live_container_ids(root: Path) -> set[str]:
    """Containers of every user whose monitor still runs them (or will restart them)."""
    live = set()
    for status_file in (root / "users").glob("*/containers/*/status.json"):
        try:
            status = json.loads(status_file.read_text())
        except (OSError, ValueError):
            continue
        if status.get("status") in _ACTIVE and is_alive(int(status.get("monitor_pid", 0))):
            live.add(status_file.parent.name)
    return live



# -- JSON shapes (docker's names where docker has one) ------------------------------------------

def endpoint_json(network: NetworkRecord, endpoint: Endpoint) -> dict[str, Any]:
    address6 = endpoint.address6
    return {
        "NetworkName": network.name,
        "IPAddress": str(endpoint.address.ip),
        "IPPrefixLen": endpoint.address.network.prefixlen,
        "Gateway": str(network.gateway),
        "MacAddress": endpoint.mac,
        "Aliases": endpoint.names[1:],
        "Name": endpoint.names[0] if endpoint.names else "",
        "GlobalIPv6Address": str(address6.ip) if address6 is not None else "",
        "GlobalIPv6PrefixLen": address6.network.prefixlen if address6 is not None else 0,
        "IPv6Gateway": str(network.gateway6) if address6 is not None else "",
    }


def _link_local(texts: Sequence[str] | None) -> tuple[IPv4Address | IPv6Address, ...]:
    """An endpoint's LinkLocalIPs (protocol.py checked their shape)."""
    found = []
    for text in texts or ():
        try:
            found.append(ip_address(text))
        except ValueError:
            raise InvalidArgument(f"invalid link-local IP address: {text}") from None
    return tuple(found)


def _aux_addresses(entries: Sequence[str]) -> dict[str, IPv4Address | IPv6Address]:
    """network_create's "name=address" entries (protocol.py checked their shape)."""
    found: dict[str, IPv4Address | IPv6Address] = {}
    for entry in entries:
        name, _, text = entry.partition("=")
        try:
            found[name] = ip_address(text)
        except ValueError:
            raise InvalidArgument(f"invalid aux-address {text!r}") from None
    return found


def network_json(record: NetworkRecord, uid: int) -> dict[str, Any]:
    """The network as user ``uid`` sees it: with their own containers only."""
    return {
        "Name": record.name,
        "Driver": "bridge",
        "Bridge": record.bridge,
        "Subnet": str(record.subnet),
        "Gateway": str(record.gateway),
        "UserDefined": record.user_defined,
        "Created": record.created,
        "Internal": record.internal,
        "IPRange": str(record.ip_range) if record.ip_range is not None else "",
        "EnableIPv6": record.subnet6 is not None,
        "Subnet6": str(record.subnet6) if record.subnet6 is not None else "",
        "Gateway6": str(record.gateway6) if record.subnet6 is not None else "",
        "IPRange6": str(record.ip_range6) if record.ip_range6 is not None else "",
        "AuxiliaryAddresses": {name: str(a) for name, a in record.aux.items()},
        "Containers": {cid: endpoint_json(record, ep)
                       for cid, ep in sorted(record.endpoints.items()) if ep.owner == uid},
    }


def docker_ports(published: Sequence[PublishedPort], exposed: Sequence[str] = (),
                 ipv6: bool = False) -> dict[str, list[dict[str, str]] | None]:
    """NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]};
    exposed but unpublished ports ("443/tcp") map to None, as docker shows them. With
    ``ipv6`` (the container has an IPv6 address there) a port on every host address
    is on the IPv6 ones too: docker's second binding, HostIp "::"."""
    ports: dict[str, list[dict[str, str]] | None] = {key: None for key in exposed}
    for port in published:
        key = f"{port.container_port}/{port.protocol}"
        bindings = ports.get(key) or []
        bindings.append({"HostIp": port.host_ip or "0.0.0.0", "HostPort": str(port.host_port)})
        if ipv6 and not port.host_ip:
            bindings.append({"HostIp": "::", "HostPort": str(port.host_port)})
        ports[key] = bindings
    return ports


def network_settings(started: StartedNetwork, networks: dict[str, NetworkRecord],
                     exposed: Sequence[str] = ()) -> dict[str, Any]:
    """A container's NetworkSettings for inspect."""
    per_network = {name: endpoint_json(networks[name], ep)
                   for name, ep in started.endpoints.items() if name in networks}
    if started.plan.mode == "host":
        per_network = {"host": {}}
    elif started.plan.mode == "none":
        per_network = {"none": {}}
    first = next(iter(per_network.values()), {})
    return {
        "IPAddress": first.get("IPAddress", ""),
        "IPPrefixLen": first.get("IPPrefixLen", 0),
        "Gateway": first.get("Gateway", ""),
        "GlobalIPv6Address": first.get("GlobalIPv6Address", ""),
        "GlobalIPv6PrefixLen": first.get("GlobalIPv6PrefixLen", 0),
        "IPv6Gateway": first.get("IPv6Gateway", ""),
        "MacAddress": first.get("MacAddress", ""),
        "SandboxKey": "" if not started.plan.sandbox else "netns",
        "Ports": docker_ports(started.ports, exposed, ipv6=bool(first.get("GlobalIPv6Address"))),
        "Networks": per_network,
    }


def check_container_network(root: Path, uid: int, plan: NetworkPlan,
                            ports: Sequence[dict[str, Any]]) -> None:
    """At create, what start would refuse anyway: a network the caller cannot see
    (another user's is "not found", as docker says of a missing one), a host port
    the caller may not publish."""
    if plan.publish and uid != 0:
        check_host_ports([int(p["host_port"]) for p in ports], uid=uid,
                         unprivileged_start=unprivileged_port_start())
    wanted = [name for name in plan.networks if name != DEFAULT_NETWORK]
    if wanted:
        directory = root / "network"
        records = Ipam(directory).read() if directory.is_dir() else {}
        for name in wanted:
            if visible(records, name, uid) is None:
                raise NetworkNotFound(f"network {name} not found")


def _parse(kind: Any, value: str | None, what: str) -> Any:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError as exc:
        raise InvalidArgument(f"invalid {what} {value!r}: {exc}") from None


# -- verbs --------------------------------------------------------------------------------------

class NetworkVerbs:
    """network_* verbs for one caller (``uid``) of the helper at ``root``."""

    def __init__(self, root: Path, uid: int, networking: Networking | None = None) -> None:
        self.root = root
        self.uid = uid
        self.net = networking or default_networking(root, uid)

    def _own_running(self, container_id: str) -> Path:
        path = self.root / "users" / str(self.uid) / "containers" / container_id
        if not path.is_dir():
            raise ContainerNotFound(f"No such container: {container_id}")
        if not is_sandbox(path / "netns"):
            raise InvalidState(f"container {container_id[:12]} is not running on a network "
                               "of its own; start it first")
        return path

    # -- the protocol's network verbs (engine/helper/verbs.py) --------------------
    def create(self, name: str, subnet: str | None, gateway: str | None,
               ip_range: str | None, internal: bool | None, ipv6: bool | None = None,
               subnet6: str | None = None, gateway6: str | None = None,
               ip_range6: str | None = None, aux: Sequence[str] | None = None
               ) -> dict[str, Any]:
        network = _parse(IPv4Network, subnet, "subnet")
        gateway_address = _parse(IPv4Address, gateway, "gateway")
        if gateway_address is not None and network is None:
            raise InvalidArgument("a gateway needs a subnet (--subnet) to belong to")
        pool = _parse(IPv4Network, ip_range, "IP range")
        if (subnet6 or gateway6 or ip_range6) and not ipv6:
            raise InvalidArgument("an IPv6 subnet or gateway needs IPv6 enabled (--ipv6)")
        if ipv6 and not Path("/proc/sys/net/ipv6/conf").is_dir():
            raise KernelFeatureMissing("IPv6 is disabled in this host's kernel: a network "
                                       "with IPv6 cannot be made")
        if (gateway6 or ip_range6) and not subnet6:
            raise InvalidArgument("an IPv6 gateway or IP range needs an IPv6 subnet "
                                  "(--subnet) to belong to")
        return network_json(self.net.create_network(
            name, network, gateway_address, internal=bool(internal), ip_range=pool,
            ipv6=bool(ipv6), subnet6=_parse(IPv6Network, subnet6, "IPv6 subnet"),
            gateway6=_parse(IPv6Address, gateway6, "IPv6 gateway"),
            ip_range6=_parse(IPv6Network, ip_range6, "IPv6 IP range"),
            aux=_aux_addresses(aux or ())), self.uid)

    def remove(self, name: str) -> dict[str, Any]:
        self._release_ended(name)
        self.net.remove_network(name)
        return {}

    def _release_ended(self, name: str) -> None:
        """As docker's, only running containers have endpoints: `wait c && network rm
        n` and `rm c && network rm n` find none of c's left. A monitor releases its
        container's network after it records the exit, and `rm` does not wait for
        that (run --rm's removal would): what it has yet to release goes here, once
        no start is in flight (a starting container is not live yet), as repair does."""
        if name in PREDEFINED:
            return  # refused by remove_network
        with self.net.ipam.locked(".starts.lock", exclusive=True):
            endpoints = self.net.network(name).endpoints
            if not endpoints:
                return
            live = live_container_ids(self.root)
            for container_id in endpoints.keys() - live:
                self.net.cleanup_container(container_id)

    def list(self) -> list[dict[str, Any]]:
        return [network_json(r, self.uid) for _, r in sorted(self.net.networks().items())]

    def inspect(self, name: str) -> dict[str, Any]:
        return network_json(self.net.network(name), self.uid)

    def connect(self, container_id: str, network: str, name: str | None,
                hostname: str | None, aliases: Sequence[str] | None,
                ip: str | None, ip6: str | None = None,
                mac: str | None = None,
                link_local: Sequence[str] | None = None) -> dict[str, Any]:
        self._own_running(container_id)
        if aliases and network == DEFAULT_NETWORK:
            raise InvalidArgument("network-scoped alias is supported only for containers "
                                  "in user defined networks")
        endpoint = self.net.connect(
            container_id, network, hostname=hostname or "",
            names=[n for n in (name or "", *(aliases or [])) if n],
            address=_parse(IPv4Address, ip, "address"),
            address6=_parse(IPv6Address, ip6, "IPv6 address"), default_route=False,
            mac=mac or "", link_local=_link_local(link_local))
        return endpoint_json(self.net.network(network), endpoint)

    def disconnect(self, container_id: str, network: str) -> dict[str, Any]:
        self._own_running(container_id)
        self.net.disconnect(container_id, network)
        return {}

    def repair(self) -> dict[str, Any]:
        if self.uid != 0:  # it touches every user's containers
            raise InvalidArgument("only root repairs the host's networking; it repairs "
                                  "itself whenever the helper starts")
        report = self.net.repair(lambda: live_container_ids(self.root), self.root / "users")
        return {"released": report.released, "links": report.links,
                "bridges": report.bridges, "sandboxes": [str(p) for p in report.sandboxes]}

    def start_container(self, container_id: str, plan: NetworkPlan, *, hostname: str,
                        name: str = "", aliases: Sequence[str] = (),
                        ports: Sequence[PortRequest] = (),
                        exposed: Sequence[str] = (),
                        joins: Sequence[dict[str, Any]] = (), mac: str = "") -> dict[str, Any]:
        """For the container service's start: set up, return NetworkSettings.
        ``joins`` are container_start's checked "networks" (protocol.py)."""
        wanted = [Join(j["network"], tuple(j.get("aliases") or ()),
                       _parse(IPv4Address, j.get("ip"), "address"),
                       _parse(IPv6Address, j.get("ip6"), "IPv6 address"), j.get("mac") or "",
                       _link_local(j.get("link_local")))
                  for j in joins]
        if any(j.aliases for j in wanted if j.network == DEFAULT_NETWORK):
            raise InvalidArgument("network-scoped alias is supported only for containers "
                                  "in user defined networks")
        started = self.net.start_container(container_id, plan, hostname=hostname, name=name,
                                           aliases=aliases, ports=ports, joins=wanted,
                                           mac=mac)
        return network_settings(started, self.net.networks(), exposed)
