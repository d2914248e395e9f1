"""Published ports: docker's ``-p`` syntax read and written, and one check of a binding.

``-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]`` with equal-length ranges
(``8000-8001:80-81``) and bracketed IPv6 addresses (``[::1]:8080:80``). The CLI's
``-p``, the window's Ports table and the REST API's PortBindings all come
through :func:`port_binding`, so each refuses the same ports in the same words.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from engine.containers.config import PortBinding
from engine.errors import InvalidArgument

__all__ = ["PROTOCOLS", "exposed_ports", "format_publish", "parse_expose", "parse_publish",
           "port_binding"]

PROTOCOLS = ("tcp", "udp", "sctp")


def port_binding(container_port: int | str, protocol: str = "tcp", host_ip: str = "",
                 host_port: int | str = 0) -> PortBinding:
    """One binding from its four parts (as typed or as numbers); host port 0: any free one."""
    container = str(container_port).strip()
    proto = (protocol.strip() or "tcp").lower()
    if "/" in container:
        container, proto = container.split("/", 1)
        proto = proto.lower()
    if not container.isdigit() or not 0 < int(container) < 65536:
        raise InvalidArgument(f"invalid containerPort: {container!r} (ports are 1 to 65535)")
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto!r} (use tcp, udp or sctp)")
    host = str(host_port).strip()
    if host and (not host.isdigit() or not 0 <= int(host) < 65536):
        raise InvalidArgument(f"invalid hostPort: {host!r} (ports are 1 to 65535, or none for "
                              "any free port)")
    address = host_ip.strip().removeprefix("[").removesuffix("]")
    if address:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise InvalidArgument(f"invalid IP address: {address!r} (leave it out for all "
                                  "addresses)") from None
    return PortBinding(int(container), proto, address, int(host or 0))


def _port_range(text: str, what: str, original: str) -> list[int]:
    start, dash, end = text.partition("-")
    try:
        first = int(start)
        last = int(end) if dash else first
    except ValueError:
        raise InvalidArgument(f"invalid {what}: {text!r} in {original!r}") from None
    if not (0 < first <= 65535 and 0 < last <= 65535) or last < first:
        raise InvalidArgument(f"invalid {what}: {text!r} in {original!r} (ports are 1 to 65535)")
    return list(range(first, last + 1))


def parse_publish(text: str) -> list[PortBinding]:
    """``-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]``, with equal-length ranges."""
    original = text
    rest, proto = _split_proto(text)
    host_ip = ""
    if rest.startswith("["):  # [::1]:8080:80
        close = rest.find("]")
        if close < 0 or rest[close + 1:close + 2] != ":":
            raise InvalidArgument(f"invalid IP address in {original!r}")
        host_ip, rest = rest[1:close], rest[close + 2:]
        parts = [host_ip, *rest.split(":")] if rest.count(":") == 1 else [host_ip, "", rest]
    else:
        parts = rest.split(":")
    if len(parts) == 1:
        host_part, container_part = "", parts[0]
    elif len(parts) == 2:
        host_part, container_part = parts
    elif len(parts) == 3:
        host_ip, host_part, container_part = parts
    else:
        raise InvalidArgument(f"invalid publish format: {original!r} "
                              "(use [IP:][HOSTPORT:]CONTAINERPORT[/PROTO])")
    if not container_part:
        raise InvalidArgument(f"no port specified: {original!r}")
    container_ports = _port_range(container_part, "containerPort", original)
    host_ports = _port_range(host_part, "hostPort", original) if host_part else \
        [0] * len(container_ports)
    if len(host_ports) != len(container_ports):
        raise InvalidArgument(f"invalid ranges in {original!r}: the host and container port "
                              "ranges must have the same length")
    try:
        return [port_binding(c, proto, host_ip, h)
                for h, c in zip(host_ports, container_ports, strict=True)]
    except InvalidArgument as exc:
        raise InvalidArgument(f"{exc} in {original!r}") from None


def parse_expose(text: str) -> list[str]:
    """``--expose PORT[-PORT][/PROTO]``: the ExposedPorts keys it adds ("80/tcp")."""
    rest, proto = _split_proto(text)
    if not rest:
        raise InvalidArgument(f"no port specified: {text!r}")
    return [f"{port}/{proto}" for port in _port_range(rest, "containerPort", text)]


def exposed_ports(texts: Iterable[str]) -> list[str]:
    """The ExposedPorts keys several --expose values add, sorted, each once."""
    return sorted({key for text in texts for key in parse_expose(text)})


def _split_proto(text: str) -> tuple[str, str]:
    """``PORTS[/PROTO]``: the part before the protocol, and the protocol (tcp if none)."""
    rest, slash, proto = text.rpartition("/")
    if not slash:
        rest, proto = text, "tcp"
    proto = proto.lower()
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto!r} in {text!r} (use tcp, udp or sctp)")
    return rest, proto


def format_publish(binding: PortBinding) -> str:
    """The ``-p`` value that :func:`parse_publish` reads back as ``binding``."""
    spec = str(binding.container_port)
    if binding.protocol != "tcp":
        spec += f"/{binding.protocol}"
    if binding.host_port or binding.host_ip:
        host = str(binding.host_port) if binding.host_port else ""
        spec = f"{host}:{spec}"
        if binding.host_ip:
            address = f"[{binding.host_ip}]" if ":" in binding.host_ip else binding.host_ip
            spec = f"{address}:{spec}"
    return spec
