"""Bridges and veth pairs through netlink (pyroute2).

The host end of each container's veth carries its owner in the link alias
("skiff:<container id>"), so the kernel itself says which container a link
belongs to and repair needs no separate record of link names.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
    ip_interface,
)
from pathlib import Path

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from engine.errors import (
    Conflict,
    HelperError,
    KernelFeatureMissing,
    NetworkNotFound,
    SkiffError,
)
from engine.helper.network import rtnetlink
from engine.helper.network.netns import run_in_netns
from engine.helper.network.policy import HostAddress
from engine.helper.network.subnets import mac_for, new_veth_name

__all__ = [
    "OWNER_ALIAS",
    "RTPROT_RA",
    "SPARE_ALIAS",
    "AttachResult",
    "BridgePort",
    "advertised_links",
    "attach",
    "bridge_ports",
    "bridges",
    "detach",
    "ensure_bridge",
    "host_addresses",
    "host_routes",
    "link_exists",
    "make_spare",
    "remove_bridge",
    "take_spare",
]

OWNER_ALIAS = "skiff:"
SPARE_ALIAS = "skiff-spare:"  # a spare veth's host end: "skiff-spare:<holder>"
IFA_F_NODAD = 0x02  # an address of ours is unique: no duplicate detection (and no wait)


@dataclass(frozen=True)
class AttachResult:
    host_ifname: str
    mac: str


@dataclass(frozen=True)
class BridgePort:
    ifname: str
    owner: str  # container id from the link alias, "" if none
    spare: str = ""  # the holder of a spare (see spares.py) from its alias, "" if none


def _index(ipr: IPRoute, ifname: str) -> int | None:
    found = ipr.link_lookup(ifname=ifname)
    return found[0] if found else None


def _kind(link: object) -> str:
    info = link.get_attr("IFLA_LINKINFO")  # type: ignore[attr-defined]
    return str(info.get_attr("IFLA_INFO_KIND")) if info is not None else ""


def _sysctl(name: str, value: str) -> None:
    with open(f"/proc/sys/{name}", "w") as file:
        file.write(value)


def _failed(what: str, exc: NetlinkError | OSError) -> SkiffError:
    code = exc.code if isinstance(exc, NetlinkError) else (exc.errno or 0)
    reason = os.strerror(code) if code else str(exc)
    if code == errno.EOPNOTSUPP:
        return KernelFeatureMissing(f"{what}: the kernel lacks support ({reason}); "
                                    "load the bridge and veth modules")
    return HelperError(f"{what}: {reason}")


def ensure_bridge(name: str, subnet: IPv4Network, gateway: IPv4Address,
                  gateway6: IPv6Interface | None = None) -> None:
    """Create (or fix up) bridge ``name`` with ``gateway`` as its only address (and
    ``gateway6`` its only global IPv6 one), up.

    Also turns on IPv4 forwarding and route_localnet on the bridge, which lets
    connections to 127.0.0.1 be DNATed to a container (netfilter drops any
    other 127/8 traffic coming from the bridge), and off the bridge's acceptance
    of router advertisements (containers send them there). IPv6 forwarding is the
    networking layer's (it depends on every network: see ruleset.py).
    """
    wanted = (str(gateway), subnet.prefixlen)
    wanted6 = (str(gateway6.ip), gateway6.network.prefixlen) if gateway6 else None

    def work() -> None:
        with IPRoute() as ipr:
            index = _index(ipr, name)
            if index is None:
                try:
                    ipr.link("add", ifname=name, kind="bridge", address=mac_for(gateway))
                except NetlinkError as exc:
                    if exc.code != errno.EEXIST:
                        raise
                index = _index(ipr, name)
            assert index is not None
            present = set()
            for msg in ipr.get_addr(index=index, family=socket.AF_INET):
                here = (msg.get_attr("IFA_ADDRESS"), msg["prefixlen"])
                if here == wanted:
                    present.add(here)
                else:
                    ipr.addr("del", index=index, address=here[0], prefixlen=here[1])
            if not present:
                ipr.addr("add", index=index, address=wanted[0], prefixlen=wanted[1])
            if wanted6 is not None:
                _sysctl(f"net/ipv6/conf/{name}/disable_ipv6", "0")
            present6 = False
            for msg in ipr.get_addr(index=index, family=socket.AF_INET6):
                here = (msg.get_attr("IFA_ADDRESS"), msg["prefixlen"])
                if IPv6Address(here[0]).is_link_local:
                    continue
                if here == wanted6:
                    present6 = True
                else:
                    ipr.addr("del", index=index, address=here[0], prefixlen=here[1])
            if wanted6 is not None and not present6:
                ipr.addr("add", index=index, address=wanted6[0], prefixlen=wanted6[1],
                         flags=IFA_F_NODAD)
            ipr.link("set", index=index, state="up")
        _sysctl("net/ipv4/ip_forward", "1")
        _sysctl(f"net/ipv4/conf/{name}/route_localnet", "1")
        if os.path.exists(f"/proc/sys/net/ipv6/conf/{name}"):
            # a container's router advertisement must not give the host routes or
            # addresses (Docker's CVE-2020-13401): the host takes none on a bridge
            _sysctl(f"net/ipv6/conf/{name}/accept_ra", "0")

    try:
        run_in_netns(None, work)
    except (NetlinkError, OSError) as exc:
        raise _failed(f"cannot set up bridge {name}", exc) from None


def _delete_link(name: str, what: str, alias: str | None = None) -> None:
    def work() -> None:
        with IPRoute() as ipr:
            index = _index(ipr, name)
            if index is None:
                return
            try:  # the kernel may delete a released veth meanwhile
                if alias is not None:
                    found = ipr.get_links(index)
                    if not found or str(found[0].get("ifalias") or "") != alias:
                        return
                ipr.link("del", index=index)
            except NetlinkError as exc:
                if exc.code != errno.ENODEV:
                    raise

    try:
        run_in_netns(None, work)
    except (NetlinkError, OSError) as exc:
        raise _failed(f"cannot remove {what} {name}", exc) from None


def remove_bridge(name: str) -> None:
    """Delete bridge ``name`` (its ports are released, not deleted). Idempotent."""
    _delete_link(name, "bridge")


def _configure(ifname: str, address: IPv4Interface, gateway: IPv4Address | None,
               address6: IPv6Interface | None, gateway6: IPv6Address | None,
               mac: str | None = None) -> None:
    """In the sandbox's thread: give its end of a veth (and ``mac``) its addresses,
    up, and the default routes through the gateways given (one batch of requests)."""
    index = socket.if_nametoindex(ifname)
    if address6 is None and os.path.exists(f"/proc/sys/net/ipv6/conf/{ifname}"):
        # an IPv4 network's interface has no IPv6, not even link-local (Docker's)
        _sysctl(f"net/ipv6/conf/{ifname}/disable_ipv6", "1")
    if address6 is not None:
        _sysctl(f"net/ipv6/conf/{ifname}/disable_ipv6", "0")
        _sysctl(f"net/ipv6/conf/{ifname}/accept_ra", "0")  # its routes are ours
    rtnetlink.send(_configuration(index, address, gateway, address6, gateway6, mac))


def _configuration(index: int, address: IPv4Interface, gateway: IPv4Address | None,
                   address6: IPv6Interface | None, gateway6: IPv6Address | None,
                   mac: str | None) -> list[rtnetlink.Request]:
    requests = [rtnetlink.add_address(index, address)]
    if address6 is not None:
        requests.append(rtnetlink.add_address(index, address6, IFA_F_NODAD))
    requests.append(rtnetlink.set_link(index, mac=mac, up=True))
    if gateway is not None:
        requests.append(rtnetlink.add_default_route(gateway))
    if gateway is not None and address6 is not None and gateway6 is not None:
        requests.append(rtnetlink.add_default_route(gateway6))
    return requests


def _add_veth(sandbox: Path, bridge: str, host_ifname: str, ifname: str, mac: str | None,
              alias: str) -> int:
    """In the caller's namespace (the host's): a veth pair, ``host_ifname`` (``alias``,
    hairpin) on ``bridge`` and up, ``ifname`` (with ``mac``, else the kernel's) in the
    sandbox; one batch of requests (:mod:`.rtnetlink`). The bridge's index."""
    try:
        bridge_index = socket.if_nametoindex(bridge)
    except OSError:
        raise NetworkNotFound(f"bridge {bridge} does not exist; recreate the network"
                              ) from None
    fd = os.open(sandbox, os.O_RDONLY | os.O_CLOEXEC)
    try:
        # hairpin: a container reaching its own published port through the host is
        # DNATed back out of the port it came in by
        rtnetlink.send([rtnetlink.add_veth(host_ifname, ifname, master=bridge_index,
                                           peer_netns=fd, peer_mac=mac),
                        rtnetlink.set_link(0, name=host_ifname, alias=alias, hairpin=True)])
    except OSError:
        detach(host_ifname)  # made, but not named or hairpinned
        raise
    finally:
        os.close(fd)
    return bridge_index


def attach(sandbox: Path, bridge: str, address: IPv4Interface, gateway: IPv4Address | None,
           ifname: str = "eth0", mac: str | None = None, owner: str = "",
           address6: IPv6Interface | None = None,
           gateway6: IPv6Address | None = None) -> AttachResult:
    """Connect a sandbox to a bridge with a veth pair.

    The host end ("veth<8 hex>", alias "skiff:<owner>") joins the bridge; the
    other end is created directly inside the sandbox as ``ifname``, gets
    ``address`` (and ``address6``, else IPv6 is off there) and, when ``gateway``
    is given, the default route through it (and through ``gateway6``).

    Two batches of netlink requests, one on each side (:mod:`.rtnetlink`): ~4 ms
    where pyroute2's six round trips took ~10 ms in a quiet namespace here (its
    Python cost as much as the kernel).
    """
    host_ifname = new_veth_name()
    mac = mac or mac_for(address.ip)

    def sandbox_side() -> None:
        _configure(ifname, address, gateway, address6, gateway6)

    try:  # raw requests need no thread of their own: in the caller's namespace
        _add_veth(sandbox, bridge, host_ifname, ifname, mac, OWNER_ALIAS + owner)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise Conflict(f"the sandbox already has an interface {ifname}") from None
        raise _failed(f"cannot create the veth pair for {bridge}", exc) from None
    _or_detach(lambda: run_in_netns(sandbox, sandbox_side), sandbox, host_ifname, ifname)
    return AttachResult(host_ifname, mac)


def add_addresses(sandbox: Path, ifname: str,
                  addresses: Sequence[IPv4Address | IPv6Address], host_ifname: str) -> None:
    """More addresses on the sandbox's ``ifname``, each alone (/32, /128: no route
    comes with them), as docker's LinkLocalIPs; the pair goes if they cannot be added."""
    def work() -> None:
        index = socket.if_nametoindex(ifname)
        rtnetlink.send([rtnetlink.add_address(index, ip_interface(a), IFA_F_NODAD * (
            a.version == 6)) for a in addresses])

    _or_detach(lambda: run_in_netns(sandbox, work), sandbox, host_ifname, ifname)


def make_spare(sandbox: Path, bridge: str, holder: str, ifname: str = "eth0") -> tuple[str, int]:
    """A veth pair for a spare sandbox (:mod:`.spares`): the host end on ``bridge``
    and up, alias "skiff-spare:<holder>"; the other end ``ifname`` in the sandbox,
    down, with no address and IPv6 off. Returns the host end's name and the bridge's
    index (a bridge made again has another)."""
    host_ifname = new_veth_name()

    def sandbox_side() -> None:
        if os.path.exists(f"/proc/sys/net/ipv6/conf/{ifname}"):
            _sysctl(f"net/ipv6/conf/{ifname}/disable_ipv6", "1")

    try:
        bridge_index = _add_veth(sandbox, bridge, host_ifname, ifname, None,
                                 SPARE_ALIAS + holder)
    except OSError as exc:
        raise _failed(f"cannot create a spare veth pair for {bridge}", exc) from None
    _or_detach(lambda: run_in_netns(sandbox, sandbox_side), sandbox, host_ifname, ifname)
    return host_ifname, bridge_index


def take_spare(sandbox: Path, host_ifname: str, address: IPv4Interface,
               gateway: IPv4Address | None, ifname: str = "eth0", mac: str | None = None,
               owner: str = "", address6: IPv6Interface | None = None,
               gateway6: IPv6Address | None = None, requests: socket.socket | None = None,
               peer_index: int = 0) -> AttachResult:
    """What :func:`attach` leaves to do on a spare's veth pair: the host end named
    the container's ("skiff:<owner>"), the sandbox's end given its MAC address,
    addresses and routes, up: two batches of requests (:mod:`.rtnetlink`), the
    sandbox's on ``requests``, a socket of its namespace with its end at
    ``peer_index``, if given (and IPv6 stays off), where attach made a pair."""
    mac = mac or mac_for(address.ip)

    def configure() -> None:  # raw sockets: in the caller's thread (and namespace)
        rtnetlink.send([rtnetlink.set_link(socket.if_nametoindex(host_ifname),
                                           alias=OWNER_ALIAS + owner)])
        if requests is not None and address6 is None:  # IPv6 is off there already
            rtnetlink.send(_configuration(peer_index, address, gateway, None, None, mac),
                           requests)
        else:  # IPv6 on needs the sandbox's own /proc/sys
            run_in_netns(sandbox, lambda: _configure(ifname, address, gateway, address6,
                                                     gateway6, mac=mac))

    _or_detach(configure, sandbox, host_ifname, ifname)
    return AttachResult(host_ifname, mac)


def _or_detach(configure: Callable[[], None], sandbox: Path, host_ifname: str,
               ifname: str) -> None:
    """Run ``configure`` on a pair just made or taken; if it fails the pair goes (its
    host end detached) and the kernel's refusal reads as one line."""
    try:
        configure()
    except BaseException as exc:
        detach(host_ifname)
        if isinstance(exc, NetlinkError | OSError):
            raise _failed(f"cannot configure {ifname} in {sandbox}", exc) from None
        raise


def detach(host_ifname: str, owner: str | None = None) -> None:
    """Delete a veth pair by its host end (the sandbox end goes with it). Idempotent.
    With ``owner``, only if that container's alias is still on it."""
    _delete_link(host_ifname, "link", None if owner is None else OWNER_ALIAS + owner)


def bridges(prefix: str) -> list[str]:
    """Bridges named like ours: "<prefix>0" and "<prefix>-*"."""

    def work() -> list[str]:
        with IPRoute() as ipr:
            return [str(link.get("ifname")) for link in ipr.get_links()
                    if _kind(link) == "bridge" and _ours(str(link.get("ifname")), prefix)]

    return run_in_netns(None, work)


def _ours(ifname: str, prefix: str) -> bool:
    return ifname == f"{prefix}0" or ifname.startswith(f"{prefix}-")


def link_exists(name: str) -> bool:
    """Whether this network namespace has a link ``name`` (one ioctl, no netlink dump)."""
    try:
        socket.if_nametoindex(name)
    except OSError:
        return False
    return True


def bridge_ports(bridge: str) -> list[BridgePort]:
    """The veth links enslaved to ``bridge`` with the container that owns each."""

    def work() -> list[BridgePort]:
        with IPRoute() as ipr:
            index = _index(ipr, bridge)
            if index is None:
                return []
            ports = []
            for link in ipr.get_links():
                if link.get("master") != index or _kind(link) != "veth":
                    continue
                alias = str(link.get("ifalias") or "")
                owner = alias[len(OWNER_ALIAS):] if alias.startswith(OWNER_ALIAS) else ""
                spare = alias[len(SPARE_ALIAS):] if alias.startswith(SPARE_ALIAS) else ""
                ports.append(BridgePort(str(link.get("ifname")), owner, spare))
            return ports

    return run_in_netns(None, work)


def host_routes() -> list[IPv4Network | IPv6Network]:
    """Destinations of the host's IPv4 and IPv6 routes (main and other tables, not
    local; not IPv6 multicast)."""

    def work() -> list[IPv4Network | IPv6Network]:
        with IPRoute() as ipr:
            found: list[IPv4Network | IPv6Network] = []
            for family, kind in ((socket.AF_INET, IPv4Network), (socket.AF_INET6, IPv6Network)):
                for route in ipr.get_routes(family=family):
                    if route.get("table") == 255 or not route["dst_len"]:
                        continue
                    found.append(kind(f"{route.get('dst')}/{route['dst_len']}", strict=False))
            return found

    return run_in_netns(None, work)


RTPROT_RA = 9  # a route the kernel took from a router advertisement


def advertised_links() -> list[str]:
    """The links the host has IPv6 routes from router advertisements on."""

    def work() -> list[str]:
        with IPRoute() as ipr:
            names = {link["index"]: str(link.get("ifname")) for link in ipr.get_links()}
            return sorted({names[r.get_attr("RTA_OIF")] for r in
                           ipr.get_routes(family=socket.AF_INET6)
                           if r["proto"] == RTPROT_RA and r.get_attr("RTA_OIF") in names})

    return run_in_netns(None, work)


def host_addresses() -> list[HostAddress]:
    """The host's IPv4 and IPv6 addresses with their prefix, and the link each is on."""

    def work() -> list[HostAddress]:
        with IPRoute() as ipr:
            names = {link["index"]: str(link.get("ifname")) for link in ipr.get_links()}
            found: list[HostAddress] = []
            for family, kind in ((socket.AF_INET, IPv4Interface),
                                 (socket.AF_INET6, IPv6Interface)):
                found.extend(HostAddress(kind(f"{msg.get_attr('IFA_ADDRESS')}/"
                                              f"{msg['prefixlen']}"),
                                         names.get(msg["index"], "?"))
                             for msg in ipr.get_addr(family=family))
            return found

    return run_in_netns(None, work)
