"""Choosing subnets and naming links: pure functions, no kernel.

The default network gets 10.88.0.0/16 unless the host already routes part of
it (a VPN, a LAN); user networks take /24s from a pool. Link names are
derived, not stored: "<prefix>0" for the default network, "<prefix>-<hash>"
for the others, "veth<8 hex>" for the host end of a container's pair.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network

from engine.errors import InvalidArgument

__all__ = [
    "DEFAULT_NETWORK",
    "bridge_name",
    "choose_subnet",
    "default_candidates",
    "mac_for",
    "new_veth_name",
    "user_candidates",
    "validate_network_name",
]

DEFAULT_NETWORK = "bridge"
IFNAMSIZ = 15
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def validate_network_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidArgument(f"invalid network name {name!r}: use letters, digits, '_', '.' "
                              "and '-', starting with a letter or digit (at most 64)")
    if name in ("host", "none", "default"):
        raise InvalidArgument(f"network name {name!r} is reserved")
    return name


def bridge_name(prefix: str, network: str) -> str:
    """The Linux bridge for a network: "skiff0" for the default one, else "skiff-<8 hex>"."""
    if network == DEFAULT_NETWORK:
        name = f"{prefix}0"
    else:
        name = f"{prefix}-{hashlib.sha256(network.encode()).hexdigest()[:8]}"
    if len(name) > IFNAMSIZ:
        raise InvalidArgument(f"bridge prefix {prefix!r} is too long for a link name")
    return name


def new_veth_name() -> str:
    return f"veth{secrets.token_hex(4)}"


def mac_for(address: IPv4Address) -> str:
    """A locally administered MAC derived from the address, as docker does: a
    container that comes back with the same address keeps neighbours' ARP valid."""
    return "02:42:" + ":".join(f"{byte:02x}" for byte in address.packed)


def default_candidates() -> Iterator[IPv4Network]:
    yield IPv4Network("10.88.0.0/16")
    for second in range(90, 128):
        yield IPv4Network(f"10.{second}.0.0/16")
    for second in range(18, 32):
        yield IPv4Network(f"172.{second}.0.0/16")


def user_candidates() -> Iterator[IPv4Network]:
    for third in range(256):
        yield IPv4Network(f"10.89.{third}.0/24")
    for third in range(128, 256):
        yield IPv4Network(f"192.168.{third}.0/24")


def choose_subnet(candidates: Iterable[IPv4Network],
                  taken: Iterable[IPv4Network]) -> IPv4Network:
    """The first candidate that overlaps no taken network (default routes ignored)."""
    busy = [net for net in taken if net.prefixlen > 0]
    for candidate in candidates:
        if not any(candidate.overlaps(net) for net in busy):
            return candidate
    raise InvalidArgument("no free subnet left for a new network: every candidate overlaps "
                          "a host route or another network; give one with --subnet")
