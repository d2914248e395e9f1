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
from dataclasses import dataclass, field, replace
from ipaddress import ip_address, ip_network

from engine.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["IpamEntry", "NetworkSubnets", "network_subnets", "pair_flags"]


@dataclass(frozen=True)
class IpamEntry:
    """One IPAM config as Docker has it: a subnet, the gateway and range in it, and the
    addresses in it that are never handed out (its auxiliary addresses, by name)."""

    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    aux: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: object) -> IpamEntry:
        """From the API's IPAM config ({"Subnet", "Gateway", "IPRange",
        "AuxiliaryAddresses"}) or compose's ({"subnet", "gateway", "ip_range",
        "aux_addresses"})."""
        if not isinstance(config, Mapping):
            raise InvalidArgument("each IPAM config must be an object with a Subnet")
        aux = config.get("AuxiliaryAddresses") or config.get("aux_addresses") or {}
        if not isinstance(aux, Mapping):
            raise InvalidArgument("AuxiliaryAddresses must be an object of names and addresses")
        subnet, gateway, ip_range = (str(config.get(upper) or config.get(lower) or "")
                                     for upper, lower in (("Subnet", "subnet"),
                                                          ("Gateway", "gateway"),
                                                          ("IPRange", "ip_range")))
        return cls(subnet, gateway, ip_range, {str(k): str(v) for k, v in aux.items()})


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
    aux: Mapping[str, str] = field(default_factory=dict)  # name -> address, either subnet's


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
            if entry.gateway or entry.ip_range or entry.aux:
                raise InvalidArgument("a gateway, IP range or aux-address needs a subnet: "
                                      "give the subnet it belongs to (--subnet)")
            continue
        version = _version(entry.subnet, "subnet")
        if version == 6 and not ipv6:
            continue
        for text, what in ((entry.gateway, "gateway"), (entry.ip_range, "IP range"),
                           *((a, "aux-address") for a in entry.aux.values())):
            if text and _version(text, what) != version:
                raise InvalidArgument(f"no matching subnet for {what} {text}")
        if version in by_version:
            raise InvalidArgument(f"a Skiff network has one IPv{version} subnet: "
                                  f"{by_version[version].subnet} and {entry.subnet} were given")
        by_version[version] = entry
    v4, v6 = by_version.get(4, IpamEntry()), by_version.get(6, IpamEntry())
    return NetworkSubnets(v4.subnet, v4.gateway, v4.ip_range, ipv6, v6.subnet, v6.gateway,
                          v6.ip_range, {**v4.aux, **v6.aux})


def pair_flags(subnets: Sequence[str], gateways: Sequence[str],
               ip_ranges: Sequence[str], aux: Mapping[str, str] | None = None
               ) -> list[IpamEntry]:
    """The CLI's repeated --subnet, --gateway, --ip-range and --aux-address as IPAM
    configs: each gateway and range with the subnet of its IP version, each aux-address
    with the subnet that holds it (docker's pairing)."""
    entries = [IpamEntry(subnet) for subnet in subnets]
    for name, text in (aux or {}).items():
        holder = next((i for i, e in enumerate(entries) if _holds(e.subnet, text)), None)
        if holder is None:
            raise InvalidArgument(f"no matching subnet for aux-address {text}")
        entries[holder] = replace(entries[holder], aux={**entries[holder].aux, name: text})
    for values, key in ((gateways, "gateway"), (ip_ranges, "ip_range")):
        for value in values:
            version = _version(value, key.replace("_", " "))
            given: dict[str, Any] = {key: value}
            index = next((i for i, e in enumerate(entries)
                          if _version(e.subnet, "subnet") == version and not getattr(e, key)),
                         None)
            if index is None:
                entries.append(IpamEntry(**given))  # refused: no subnet for it
                continue
            entries[index] = replace(entries[index], **given)
    return entries


def _holds(subnet: str, address: str) -> bool:
    try:
        return ip_address(address) in ip_network(subnet, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid aux-address {address!r}") from None
