"""The subnets a network is created with, from Docker's list of them.

Docker takes a network's subnets as a list (the CLI's repeated ``--subnet``,
``--gateway`` and ``--ip-range``; the API's and compose's IPAM configs), each
gateway and range going with the subnet that holds it. A Skiff network has
one IPv4 subnet and, with IPv6 enabled, one IPv6 subnet: this is the one rule
that turns the list into those, for the CLI, the API and compose alike, with
the refusals in one line each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import ip_address, ip_network

from engine.errors import InvalidArgument

__all__ = ["IpamEntry", "NetworkSubnets", "network_subnets", "pair_flags"]


@dataclass(frozen=True)
class IpamEntry:
    """One IPAM config as Docker has it: a subnet, the gateway and range in it."""

    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""

    @classmethod
    def of(cls, config: object) -> IpamEntry:
        """From the API's IPAM config ({"Subnet", "Gateway", "IPRange"}) or compose's
        ({"subnet", "gateway", "ip_range"})."""
        if not isinstance(config, Mapping):
            raise InvalidArgument("each IPAM config must be an object with a Subnet")
        return cls(*(str(config.get(upper) or config.get(lower) or "") for upper, lower in (
            ("Subnet", "subnet"), ("Gateway", "gateway"), ("IPRange", "ip_range"))))


@dataclass(frozen=True)
class NetworkSubnets:
    """What ``engine.networks.create`` takes: "" leaves a choice to the helper."""

    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    ipv6: bool = False
    subnet6: str = ""
    gateway6: str = ""
    ip_range6: str = ""


def _version(text: str, what: str) -> int:
    try:
        return (ip_network(text, strict=False) if "/" in text else ip_address(text)).version
    except ValueError:
        raise InvalidArgument(f"invalid {what} {text!r}") from None


def network_subnets(entries: Sequence[IpamEntry], ipv6: bool = False) -> NetworkSubnets:
    """One IPv4 and (``ipv6``) one IPv6 subnet with their gateways and range. Without
    ``ipv6``, an IPv6 entry is passed over unchecked, as dockerd does (the network has
    no IPv6)."""
    by_version: dict[int, IpamEntry] = {}
    for entry in entries:
        if not entry.subnet:
            if entry.gateway or entry.ip_range:
                raise InvalidArgument("a gateway or IP range needs a subnet: give the "
                                      "subnet it belongs to (--subnet)")
            continue
        version = _version(entry.subnet, "subnet")
        if version == 6 and not ipv6:
            continue
        for text, what in ((entry.gateway, "gateway"), (entry.ip_range, "IP range")):
            if text and _version(text, what) != version:
                raise InvalidArgument(f"no matching subnet for {what} {text}")
        if version in by_version:
            raise InvalidArgument(f"a Skiff network has one IPv{version} subnet: "
                                  f"{by_version[version].subnet} and {entry.subnet} were given")
        by_version[version] = entry
    v4, v6 = by_version.get(4, IpamEntry()), by_version.get(6, IpamEntry())
    return NetworkSubnets(v4.subnet, v4.gateway, v4.ip_range, ipv6, v6.subnet, v6.gateway,
                          v6.ip_range)


def pair_flags(subnets: Sequence[str], gateways: Sequence[str],
               ip_ranges: Sequence[str]) -> list[IpamEntry]:
    """The CLI's repeated --subnet, --gateway and --ip-range as IPAM configs: each
    gateway and range with the subnet of its IP version (docker's pairing)."""
    entries = [IpamEntry(subnet) for subnet in subnets]
    for values, key in ((gateways, "gateway"), (ip_ranges, "ip_range")):
        for value in values:
            version = _version(value, key.replace("_", " "))
            index = next((i for i, e in enumerate(entries)
                          if _version(e.subnet, "subnet") == version and not getattr(e, key)),
                         None)
            if index is None:
                entries.append(IpamEntry(**{key: value}))  # refused: no subnet for it
                continue
            entries[index] = IpamEntry(**{**vars(entries[index]), key: value})
    return entries
