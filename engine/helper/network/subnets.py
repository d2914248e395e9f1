"""Naming networks and links: pure functions, no kernel.

Link names are derived, not stored: "<prefix>0" for the default network,
"<prefix>-<hash of the network's record key>" for the others (the key holds
the owner, so two users' networks of one name get two bridges), "veth<8 hex>"
for the host end of a container's pair. Subnets are chosen by :mod:`.policy`.
"""

from __future__ import annotations

import hashlib
import os
from ipaddress import IPv4Address

from engine.errors import InvalidArgument

__all__ = [
    "DEFAULT_NETWORK",
    "PREDEFINED",
    "bridge_name",
    "mac_for",
    "new_veth_name",
]

DEFAULT_NETWORK = "bridge"
PREDEFINED = (DEFAULT_NETWORK, "host", "none")
IFNAMSIZ = 15
def bridge_name(prefix: str, key: str) -> str:
    """The Linux bridge for the network recorded under ``key`` (see ipam.record_key):
    "skiff0" for the default one, else "skiff-<8 hex>"."""
    if key == DEFAULT_NETWORK:
        name = f"{prefix}0"
    else:
        name = f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    if len(name) > IFNAMSIZ:
        raise InvalidArgument(f"bridge prefix {prefix!r} is too long for a link name")
    return name


def new_veth_name() -> str:
    return f"veth{os.urandom(4).hex()}"


def mac_for(address: IPv4Address) -> str:
    """A locally administered MAC derived from the address, as docker does: a
    container that comes back with the same address keeps neighbours' ARP valid."""
    return "02:42:" + ":".join(f"{byte:02x}" for byte in address.packed)
