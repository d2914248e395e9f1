"""Host ports for published container ports: validate, pick, refuse if taken.

A port is taken when another Skiff container publishes it (our ports are DNAT
rules, not sockets, so the caller passes them in) or when a host socket holds
it (a bind test in the host's network namespace). A refusal names who holds
the port, so the user knows what to stop.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Mapping, Sequence
from ipaddress import IPv6Address, ip_address

import psutil

from engine.errors import InUse, InvalidArgument
from engine.helper.network.rules import PublishedPort

__all__ = ["check_host_port", "pick_host_port", "port_user", "resolve_ports",
           "unprivileged_port_start"]

#: Ports other Skiff containers publish: (protocol, host port) -> [(host ip, holder)],
#: the holder as a refusal names it ("container web-1").
Taken = Mapping[tuple[str, int], Sequence[tuple[str, str]]]


def unprivileged_port_start() -> int:
    """The first port a user may bind on this host (net.ipv4.ip_unprivileged_port_start)."""
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as file:
            return int(file.read())
    except (OSError, ValueError):
        return 1024  # the kernel's default, and its only value before Linux 4.11


def _label(protocol: str, port: int) -> str:
    return str(port) if protocol == "tcp" else f"{port}/{protocol}"


def _normalise_ip(host_ip: str, protocol: str) -> str:
    """"" for every address; ::1 is relayed by the monitor (TCP only: runtime/loopproxy.py)."""
    if host_ip in ("", "0.0.0.0", "::"):
        return ""
    try:
        address = ip_address(host_ip.strip("[]"))
    except ValueError:
        raise InvalidArgument(f"invalid host address {host_ip!r} in a published port") from None
    if isinstance(address, IPv6Address) and address.is_link_local:
        raise InvalidArgument(f"cannot publish on {host_ip}: the kernel does not forward "
                              "its connections to a container")
    if isinstance(address, IPv6Address) and address.is_loopback and protocol != "tcp":
        raise InvalidArgument(f"cannot publish {protocol} on [::1]: Skiff relays TCP only "
                              "there (the kernel does not forward ::1)")
    return str(address)


def port_user(protocol: str, port: int, host_ip: str = "") -> str:
    """Who holds a host port: "process nginx (pid 1234)" or "another program"."""
    try:
        connections = psutil.net_connections(kind=protocol)
    except (psutil.Error, OSError):
        return "another program"
    for conn in connections:
        if not conn.laddr or conn.laddr.port != port or conn.pid is None:
            continue
        if protocol == "tcp" and conn.status != psutil.CONN_LISTEN:
            continue
        if host_ip and conn.laddr.ip not in (host_ip, "0.0.0.0", "::", f"::ffff:{host_ip}"):
            continue
        try:
            name = psutil.Process(conn.pid).name()
        except psutil.Error:
            name = "?"
        return f"process {name} (pid {conn.pid})"
    return "another program"


def _bind(protocol: str, host_ip: str, port: int) -> int:
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    family = socket.AF_INET6 if ":" in host_ip else socket.AF_INET
    with socket.socket(family, kind) as sock:
        if protocol == "tcp":  # TIME_WAIT leftovers are no conflict; listeners are
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:  # IPv6's own sockets (IPv4's are bound apart)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host_ip or "0.0.0.0", port))
        return int(sock.getsockname()[1])


def check_host_port(protocol: str, host_ip: str, port: int) -> None:
    """Raise InUse naming the holder if a host socket holds the port."""
    try:
        _bind(protocol, host_ip, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise InUse(f"port {_label(protocol, port)} is already in use by "
                        f"{port_user(protocol, port, host_ip)}") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise InvalidArgument(f"cannot publish on {host_ip}: it is not an address of "
                                  "this host") from None
        if exc.errno == errno.EACCES:
            raise InUse(f"port {_label(protocol, port)} cannot be bound: {exc.strerror}") \
                from None
        raise


def pick_host_port(protocol: str, host_ip: str, avoid: set[int], ipv6: bool = False) -> int:
    """A free port from the kernel's ephemeral range that is not in ``avoid`` (with
    ``ipv6``, free on the host's IPv6 addresses too)."""
    for _ in range(64):
        port = _bind(protocol, host_ip, 0)
        if port in avoid:
            continue
        try:
            if ipv6:
                _bind(protocol, "::", port)
        except OSError:
            continue
        return port
    raise InUse(f"found no free {protocol} port to publish on")


def _clashes(host_ip: str, other_ip: str) -> bool:
    return not host_ip or not other_ip or host_ip == other_ip


def resolve_ports(bindings: Sequence[PublishedPort], taken: Taken,
                  ipv6: bool = False) -> list[PublishedPort]:
    """Concrete host ports for ``bindings`` (host_port 0: pick one), refusing
    any port held by another container (``taken``) or by a host socket (with
    ``ipv6``, the container has an IPv6 address: a port on every host address is
    on the IPv6 ones too)."""
    resolved: list[PublishedPort] = []
    for binding in bindings:
        if binding.protocol not in ("tcp", "udp"):
            raise InvalidArgument(f"invalid protocol {binding.protocol!r} in published port "
                                  f"{binding.container_port}: use tcp or udp")
        if not 1 <= binding.container_port <= 65535 or not 0 <= binding.host_port <= 65535:
            raise InvalidArgument(f"invalid port number in published port {binding}")
        host_ip = _normalise_ip(binding.host_ip, binding.protocol)
        mine = {(p.protocol, p.host_port): p.host_ip for p in resolved}
        port = binding.host_port
        if port == 0:
            avoid = {p for proto, p in [*taken, *mine] if proto == binding.protocol}
            port = pick_host_port(binding.protocol, host_ip, avoid, ipv6 and not host_ip)
        else:
            for other_ip, owner in taken.get((binding.protocol, port), ()):
                if _clashes(host_ip, other_ip):
                    raise InUse(f"port {_label(binding.protocol, port)} is already in use by "
                                f"{owner}")
            other = mine.get((binding.protocol, port))
            if other is not None and _clashes(host_ip, other):
                raise InvalidArgument(f"port {_label(binding.protocol, port)} is published "
                                      "twice")
            check_host_port(binding.protocol, host_ip, port)
            if ipv6 and not host_ip:
                check_host_port(binding.protocol, "::", port)
        resolved.append(PublishedPort(binding.protocol, host_ip, port, binding.container_port))
    return resolved
