"""What a caller may ask of the host's network: subnets, gateways, host ports.

Pure rules over what the host has (its routes and addresses, read by
:mod:`.links`), Skiff's networks and the configured pools (:mod:`.pools`),
so they are tested without root. The networking layer applies them inside its
locked transaction, just before it acts.

- Everyone: a subnet overlaps no other Skiff network (any user's: Docker's
  "Pool overlaps" error) and no address of the host, taken with its prefix (the
  host's own LAN: a bridge there would cut the host off it). A gateway is a
  host address of its subnet.
- Non-root callers (uid != 0): the subnet lies inside one of the pools and
  overlaps no host route but the default one, so a network can never capture
  traffic the host sends elsewhere (8.8.8.0/24, a VPN's range, another LAN).
  Root may choose any other subnet, as Docker lets it.
- Automatic subnets come from the pools, clear of networks, addresses and
  every route but the default one, for everyone.
- IPv6 subnets (a network's second one, with ``--ipv6``) follow the same rules
  against the host's IPv6 addresses and routes and the IPv6 pools; link-local
  and multicast ranges are never a network's.
- Non-root callers publish no host port below the host's
  ``net.ipv4.ip_unprivileged_port_start``: they could not bind one either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)

from engine.errors import Conflict, InvalidArgument
from engine.helper.network.pools import Pool, describe, inside, of_version

Subnet = IPv4Network | IPv6Network

__all__ = [
    "POOL_OVERLAP",
    "HostAddress",
    "check_gateway",
    "check_host_ports",
    "check_subnet",
    "choose_subnet",
]

#: Docker's words when a subnet overlaps another network's.
POOL_OVERLAP = "invalid pool request: Pool overlaps with other one on this address space"


@dataclass(frozen=True)
class HostAddress:
    """An address of the host with its prefix, and the link it is on."""

    interface: IPv4Interface | IPv6Interface
    link: str


_SMALLEST = {4: 30, 6: 124}
_NEVER6 = (IPv6Network("fe80::/10"), IPv6Network("ff00::/8"), IPv6Network("::/128"),
           IPv6Network("::1/128"), IPv6Network("::ffff:0:0/96"))


def _check_size(subnet: Subnet) -> None:
    smallest = _SMALLEST[subnet.version]
    if subnet.prefixlen > smallest:
        raise InvalidArgument(f"subnet {subnet} is too small: use /{smallest} or larger")
    if isinstance(subnet, IPv6Network) and any(subnet.overlaps(n) for n in _NEVER6):
        raise InvalidArgument(f"subnet {subnet} cannot be a network's: use a unique local "
                              "(fd00::/8) or global IPv6 prefix")


def check_gateway(subnet: Subnet, gateway: IPv4Address | IPv6Address) -> None:
    """A gateway must be a host address of its subnet."""
    _check_size(subnet)
    if gateway not in subnet:
        raise InvalidArgument(f"no matching subnet for gateway {gateway}")
    ends = (subnet.network_address,) if subnet.version == 6 else (
        subnet.network_address, subnet.broadcast_address)
    if gateway in ends:
        which = "network" if gateway == subnet.network_address else "broadcast"
        raise InvalidArgument(f"gateway {gateway} is the {which} address of {subnet}; "
                              "choose a host address of the subnet")


def _address_clash(subnet: Subnet,
                   addresses: Iterable[HostAddress]) -> HostAddress | None:
    return next((a for a in addresses if a.interface.version == subnet.version
                 and subnet.overlaps(a.interface.network)), None)


def _specific(routes: Iterable[Subnet], version: int = 4) -> list[Subnet]:
    # not the default route, nor what no network can be (IPv6 link-local, multicast)
    return [route for route in routes if route.prefixlen > 0 and route.version == version
            and not (isinstance(route, IPv6Network)
                     and any(route.subnet_of(n) for n in _NEVER6))]


def _same(version: int, networks: Iterable[Subnet]) -> list[Subnet]:
    return [net for net in networks if net.version == version]


def check_subnet(subnet: Subnet, *, uid: int, pools: Sequence[Pool],
                 networks: Iterable[Subnet], routes: Iterable[Subnet],
                 addresses: Iterable[HostAddress]) -> None:
    """Refuse a subnet the caller asked for by name (--subnet) that they may not have.

    ``networks`` are Skiff's networks of every user; ``routes`` the host's
    routes that are not Skiff's networks'; ``addresses`` the host's
    addresses that are not on Skiff's bridges.
    """
    _check_size(subnet)
    if uid != 0 and not inside(subnet, pools):
        raise InvalidArgument(f"subnet {subnet} is outside the private address pools of this "
                              f"host ({describe(of_version(pools, subnet.version))}): only "
                              "root can use other subnets")
    if any(subnet.overlaps(net) for net in _same(subnet.version, networks)):
        raise Conflict(POOL_OVERLAP)
    clash = _address_clash(subnet, addresses)
    if clash is not None:
        raise Conflict(f"subnet {subnet} overlaps the host's address {clash.interface} on "
                       f"{clash.link}; choose another subnet")
    if uid != 0:
        for route in _specific(routes, subnet.version):
            if subnet.overlaps(route):
                raise Conflict(f"subnet {subnet} overlaps the host's route to {route}; "
                               "choose another subnet")


def choose_subnet(pools: Sequence[Pool], *, networks: Iterable[Subnet],
                  routes: Iterable[Subnet], addresses: Iterable[HostAddress],
                  reserved: Iterable[Subnet] = (), version: int = 4) -> Subnet:
    """The first subnet of the pools of ``version`` that overlaps nothing the host or
    Skiff uses."""
    pools = of_version(pools, version)
    busy = _same(version, [*networks, *_specific(routes, version),
                           *(a.interface.network for a in addresses), *reserved])
    for pool in pools:
        for candidate in pool.subnets():
            if not any(candidate.overlaps(net) for net in busy):
                return candidate
    raise Conflict(f"no free subnet left in the address pools ({describe(pools)}): every one "
                   "overlaps a host route, a host address or another network; remove a "
                   "network or ask root to add a pool")


def check_host_ports(host_ports: Iterable[int], *, uid: int, unprivileged_start: int) -> None:
    """Refuse a non-root caller a host port the kernel would not let them bind."""
    if uid == 0:
        return
    for port in host_ports:
        if 0 < port < unprivileged_start:
            raise InvalidArgument(f"publishing port {port} needs root: ports below "
                                  f"{unprivileged_start} are privileged on this host")
