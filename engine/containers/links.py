"""Legacy links (``--link NAME[:ALIAS]``, the API's HostConfig.Links).

A link makes the linked container reachable from this one by its name and the
alias: at every start the engine finds where the linked container is now on this
one's network and the helper writes it into the hosts file, and gives the
process docker's variables about it (``ALIAS_PORT_80_TCP_ADDR`` and the rest,
:func:`link_environment`), under the container's own. The linked container must
run, on the same network.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from engine.errors import InvalidArgument
from engine.names import check_container_name

__all__ = ["docker_links", "link_environment", "parse_link"]


def parse_link(text: str) -> str:
    """``NAME[:ALIAS]``, or the API's ``/NAME:/CONTAINER/ALIAS``, as ``NAME:ALIAS``."""
    name, _, alias = text.partition(":")
    name = name.lstrip("/")
    alias = alias.rsplit("/", 1)[-1] if alias else name
    if not name or not alias:
        raise InvalidArgument(f"invalid format for link: {text}")
    check_container_name(name)
    try:
        check_container_name(alias)
    except InvalidArgument:
        raise InvalidArgument(f"invalid link alias {alias!r}: use letters, digits, '_', "
                              "'.' and '-'") from None
    return f"{name}:{alias}"


def docker_links(container_name: str, links: Sequence[str]) -> list[str] | None:
    """HostConfig.Links as docker shows them: ``/NAME:/CONTAINER/ALIAS``."""
    shown = []
    for link in links:
        name, _, alias = link.partition(":")
        shown.append(f"/{name}:/{container_name}/{alias}")
    return shown or None


def link_environment(container_name: str, alias: str, address: str,
                     exposed: Sequence[str], env: Sequence[str]) -> list[str]:
    """Docker's variables about one link: the linked container's ``exposed`` ports
    ("80/tcp") at ``address`` (each, the first as ``ALIAS_PORT``, and each run of
    consecutive ones as a range), its name, and its environment ``env`` (but HOME
    and PATH) as ``ALIAS_ENV_...``."""
    prefix = alias.upper().replace("-", "_")
    ports = sorted({_port(text) for text in exposed})  # tcp first, then by protocol
    found: list[str] = []
    if ports:
        _, number, protocol = ports[0]
        found.append(f"{prefix}_PORT={protocol}://{address}:{number}")
    for (_, protocol), group in groupby(ports, key=lambda p: (p[0], p[2])):
        numbers = [number for _, number, _ in group]
        start = 0
        for index, number in enumerate(numbers):
            name = f"{prefix}_PORT_{number}_{protocol.upper()}"
            found += [f"{name}={protocol}://{address}:{number}", f"{name}_ADDR={address}",
                      f"{name}_PORT={number}", f"{name}_PROTO={protocol}"]
            last = index + 1 == len(numbers) or numbers[index + 1] != number + 1
            if last:
                first = numbers[start]
                if first != number:
                    name = f"{prefix}_PORT_{first}_{protocol.upper()}"
                    found += [f"{name}_START={protocol}://{address}:{first}",
                              f"{name}_PORT_START={first}",
                              f"{name}_END={protocol}://{address}:{number}",
                              f"{name}_PORT_END={number}"]
                start = index + 1
    found.append(f"{prefix}_NAME=/{container_name}/{alias}")
    for item in env:
        key, sep, value = item.partition("=")
        if sep and key not in ("HOME", "PATH"):
            found.append(f"{prefix}_ENV_{key}={value}")
    return found


def _port(text: str) -> tuple[str, int, str]:
    """("80/tcp") as a key that sorts tcp first, then by protocol and number."""
    number, _, protocol = text.partition("/")
    protocol = protocol or "tcp"
    return ("" if protocol == "tcp" else protocol, int(number), protocol)
