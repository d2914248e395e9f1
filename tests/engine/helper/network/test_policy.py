"""Who may have which network (no root needed): pools and their file, subnet
and gateway rules, privileged host ports, and per-user network records."""

from __future__ import annotations

import json
import os
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from pathlib import Path

import pytest

from engine.errors import Conflict, HelperError, InvalidArgument, NetworkNotFound
from engine.helper.network.ipam import Ipam, NetworkRecord, record_key, visible
from engine.helper.network.policy import (
    POOL_OVERLAP,
    HostAddress,
    check_gateway,
    check_host_ports,
    check_subnet,
    choose_subnet,
)
from engine.helper.network.pools import (
    DEFAULT_POOLS,
    Pool,
    default_bridge_ipv6,
    default_pools6,
    describe,
    inside,
    load_pools,
    of_version,
    parse_pools,
)

USER = 1000
NET = IPv4Network
LAN = HostAddress(IPv4Interface("192.168.1.20/24"), "eth0")
LOOPBACK = HostAddress(IPv4Interface("127.0.0.1/8"), "lo")


def _check(subnet: str, uid: int = USER, networks: tuple[str, ...] = (),
           routes: tuple[str, ...] = ("0.0.0.0/0",),
           addresses: tuple[HostAddress, ...] = (LOOPBACK, LAN)) -> None:
    check_subnet(NET(subnet), uid=uid, pools=DEFAULT_POOLS,
                 networks=[NET(n) for n in networks], routes=[NET(r) for r in routes],
                 addresses=addresses)


# -- pools --------------------------------------------------------------------------------------

def test_default_pools_are_dockers_and_skiffs_bridge_range() -> None:
    assert describe(DEFAULT_POOLS) == "10.88.0.0/16, 172.17.0.0-172.31.255.255, 192.168.0.0/16"
    first = [s for p in DEFAULT_POOLS[:3] for s in p.subnets()]
    assert first == [NET("10.88.0.0/16"), NET("172.17.0.0/16"), NET("172.18.0.0/16")]
    assert [*DEFAULT_POOLS[-1].subnets()][:2] == [NET("192.168.0.0/20"), NET("192.168.16.0/20")]
    assert inside(NET("172.20.5.0/24"), DEFAULT_POOLS)
    assert not inside(NET("172.16.0.0/24"), DEFAULT_POOLS)  # as docker: not 172.16/16
    assert not inside(NET("172.0.0.0/8"), DEFAULT_POOLS)  # wider than any pool
    assert not inside(NET("8.8.8.0/24"), DEFAULT_POOLS)


def test_pools_file(tmp_path: Path) -> None:
    assert load_pools(tmp_path / "missing.json") == (*DEFAULT_POOLS, *default_pools6())
    path = tmp_path / "networks.json"
    path.write_text(json.dumps({"default-address-pools": [
        {"base": "10.200.0.0/16", "size": 24}, {"base": "10.201.0.0/16", "size": 16}]}))
    if os.geteuid() == 0:
        os.chmod(tmp_path, 0o755)
        pools = load_pools(path)
        assert pools == (Pool(NET("10.200.0.0/16"), 24), Pool(NET("10.201.0.0/16"), 16),
                         *default_pools6())  # naming no IPv6 pool keeps the default one
        assert describe(of_version(pools, 4)) == "10.200.0.0/15"
        path.chmod(0o666)  # a file others may write cannot hold the rule that binds them
        with pytest.raises(HelperError, match="writable by root alone"):
            load_pools(path)
    else:
        with pytest.raises(HelperError, match=r"must belong to root.*chown root:"):
            load_pools(path)
    assert parse_pools({}) == (*DEFAULT_POOLS, *default_pools6())
    only6 = parse_pools({"default-address-pools": [{"base": "fd12:3456:789a::/48",
                                                    "size": 64}]})
    assert only6 == (*DEFAULT_POOLS, Pool(IPv6Network("fd12:3456:789a::/48"), 64))
    assert describe(only6).endswith(", 192.168.0.0/16, fd12:3456:789a::/48")
    for bad in ([], {"default-address-pools": []},
                {"default-address-pools": [{"base": "fd00::/48", "size": 125}]},
                {"default-address-pools": [{"base": "10.0.0.0/8"}]},
                {"default-address-pools": [{"base": "10.0.0.1/8", "size": 16}]},
                {"default-address-pools": [{"base": "10.0.0.0/16", "size": 8}]},
                {"default-address-pools": [{"base": "10.0.0.0/16", "size": 31}]},
                {"default-address-pools": [{"base": "10.0.0.0/16", "size": True}]}):
        with pytest.raises(HelperError):
            parse_pools(bad)


def test_the_ipv6_pool_is_a_unique_local_48_of_this_host(tmp_path: Path) -> None:
    (first,) = default_pools6()
    assert first.base.prefixlen == 48 and first.size == 64
    assert first.base.subnet_of(IPv6Network("fd00::/8"))
    (tmp_path / "a").write_text("3d1219c7c4c5404aaa1f6d2a48adfda4\n")
    (tmp_path / "b").write_text("0123456789abcdef0123456789abcdef\n")
    assert default_pools6(tmp_path / "a") == default_pools6(tmp_path / "a")
    assert default_pools6(tmp_path / "a") != default_pools6(tmp_path / "b")


# -- subnets ------------------------------------------------------------------------------------

def test_a_user_gets_only_private_pool_subnets_clear_of_the_host() -> None:
    _check("172.20.0.0/16")
    _check("192.168.64.0/20")
    with pytest.raises(InvalidArgument, match=r"^subnet 8\.8\.8\.0/24 is outside the private "
                                              r"address pools of this host \(10\.88\.0\.0/16, "):
        _check("8.8.8.0/24")
    with pytest.raises(InvalidArgument, match="outside the private address pools"):
        _check("127.0.0.0/24")
    # the host's LAN (its address with the prefix), for everyone
    for uid in (USER, 0):
        with pytest.raises(Conflict, match=r"^subnet 192\.168\.1\.128/25 overlaps the host's "
                                           r"address 192\.168\.1\.20/24 on eth0; choose "):
            _check("192.168.1.128/25", uid=uid)
    # a more specific route (a VPN's, another LAN's): for users only
    with pytest.raises(Conflict, match=r"overlaps the host's route to 172\.20\.0\.0/14"):
        _check("172.21.0.0/16", routes=("0.0.0.0/0", "172.20.0.0/14"))
    _check("172.21.0.0/16", uid=0, routes=("0.0.0.0/0", "172.20.0.0/14"))
    # another Skiff network, anyone's: docker's words
    for uid in (USER, 0):
        with pytest.raises(Conflict, match=f"^{POOL_OVERLAP}$"):
            _check("172.20.128.0/24", uid=uid, networks=("172.20.0.0/16",))
    with pytest.raises(InvalidArgument, match="too small"):
        _check("172.20.0.0/31")


def test_root_may_choose_any_subnet_but_a_host_address() -> None:
    _check("8.8.8.0/24", uid=0)
    with pytest.raises(Conflict, match=r"address 127\.0\.0\.1/8 on lo"):
        _check("127.0.0.0/24", uid=0)


def test_automatic_subnets_come_from_the_pools_in_order() -> None:
    def choose(*taken: str, routes: tuple[str, ...] = ("0.0.0.0/0",),
               reserved: tuple[str, ...] = ()) -> IPv4Network:
        return choose_subnet(DEFAULT_POOLS, networks=[NET(t) for t in taken],
                             routes=[NET(r) for r in routes], addresses=[LOOPBACK, LAN],
                             reserved=[NET(r) for r in reserved])

    assert choose() == NET("10.88.0.0/16")
    assert choose(reserved=("10.88.0.0/16",)) == NET("172.17.0.0/16")
    assert choose("10.88.0.0/16", routes=("0.0.0.0/0", "172.17.0.0/16", "172.18.0.0/24")) == \
        NET("172.19.0.0/16")
    everything = ("10.88.0.0/16", "172.16.0.0/12")
    assert choose(*everything) == NET("192.168.16.0/20")  # 192.168.0/20 holds the LAN
    with pytest.raises(Conflict, match="no free subnet left in the address pools"):
        choose(*everything, "192.168.0.0/16")


def test_ipv6_subnets_follow_the_same_rules() -> None:
    pool6 = Pool(IPv6Network("fd12:3456:789a::/48"), 64)
    pools = (*DEFAULT_POOLS, pool6)
    lan6 = HostAddress(IPv6Interface("fd12:3456:789a::2/64"), "eth0")
    net6 = IPv6Network

    def check(subnet: str, uid: int = USER, networks: tuple[str, ...] = (),
              routes: tuple[str, ...] = ("::/0", "fe80::/64")) -> None:
        check_subnet(net6(subnet), uid=uid, pools=pools, networks=[net6(n) for n in networks],
                     routes=[net6(r) for r in routes], addresses=(LAN, lan6))

    check("fd12:3456:789a:5::/64")
    with pytest.raises(InvalidArgument, match=r"outside the private address pools of this "
                                              r"host \(fd12:3456:789a::/48\)"):
        check("2001:db8::/64")
    check("2001:db8::/64", uid=0)
    with pytest.raises(Conflict, match="overlaps the host's address fd12:3456:789a::2/64"):
        check("fd12:3456:789a::/64", uid=0)
    with pytest.raises(Conflict, match=POOL_OVERLAP):
        check("fd12:3456:789a:7::/64", networks=("fd12:3456:789a::/56",))
    with pytest.raises(Conflict, match="overlaps the host's route to fd12:3456:789a:9::/64"):
        check("fd12:3456:789a:9::/64", routes=("fd12:3456:789a:9::/64",))
    for never in ("fe80::/64", "ff02::/64"):
        with pytest.raises(InvalidArgument, match="cannot be a network's"):
            check(never, uid=0)
    with pytest.raises(InvalidArgument, match="too small"):
        check("fd12:3456:789a:5::/126")
    # an IPv4 network's subnet or route is no clash for an IPv6 one, and back
    check("fd12:3456:789a:5::/64", networks=())
    _check("172.20.0.0/16", networks=(), routes=("0.0.0.0/0",))
    chosen = choose_subnet(pools, networks=[NET("10.88.0.0/16")], routes=[net6("::/0")],
                           addresses=[lan6], version=6)
    assert chosen == net6("fd12:3456:789a:1::/64")  # ::/64 is the host's LAN
    check_gateway(net6("fd12:3456:789a:1::/64"), IPv6Address("fd12:3456:789a:1::1"))
    with pytest.raises(InvalidArgument, match="network address"):
        check_gateway(net6("fd12:3456:789a:1::/64"), IPv6Address("fd12:3456:789a:1::"))
    check_gateway(net6("fd12:3456:789a:1::/64"),
                  IPv6Address("fd12:3456:789a:1:ffff:ffff:ffff:ffff"))  # no broadcast in IPv6


def test_gateways() -> None:
    subnet = NET("10.5.0.0/24")
    check_gateway(subnet, IPv4Address("10.5.0.254"))
    with pytest.raises(InvalidArgument, match=r"^no matching subnet for gateway 10\.6\.0\.1$"):
        check_gateway(subnet, IPv4Address("10.6.0.1"))
    with pytest.raises(InvalidArgument, match=r"the network address of 10\.5\.0\.0/24"):
        check_gateway(subnet, IPv4Address("10.5.0.0"))
    with pytest.raises(InvalidArgument, match=r"the broadcast address of 10\.5\.0\.0/24"):
        check_gateway(subnet, IPv4Address("10.5.0.255"))


def test_privileged_host_ports() -> None:
    check_host_ports([80, 1024, 0], uid=0, unprivileged_start=1024)
    check_host_ports([1024, 8080, 0], uid=USER, unprivileged_start=1024)
    with pytest.raises(InvalidArgument, match=r"^publishing port 80 needs root: ports below "
                                              r"1024 are privileged on this host$"):
        check_host_ports([8080, 80], uid=USER, unprivileged_start=1024)
    check_host_ports([80], uid=USER, unprivileged_start=0)  # a host that lets users bind any


# -- owners and names ---------------------------------------------------------------------------

def _record(name: str, owner: int | None, subnet: str) -> NetworkRecord:
    net = NET(subnet)
    return NetworkRecord(name, f"b-{owner}", net, net.network_address + 1, owner=owner)


def test_names_are_per_user_and_the_default_network_is_shared(tmp_path: Path) -> None:
    ipam = Ipam(tmp_path / "networks")
    with ipam.transaction() as records:
        for record in (_record("appnet", 0, "10.1.0.0/24"), _record("appnet", USER, "10.2.0.0/24"),
                       _record("bridge", None, "10.88.0.0/16")):
            records[record.key] = record
    records = ipam.read()
    assert sorted(records) == ["appnet", "appnet@1000", "bridge"]
    assert sorted(p.name for p in ipam.directory.glob("*.json")) == \
        ["appnet.json", "appnet@1000.json", "bridge.json"]
    for uid, subnet in ((0, "10.1.0.0/24"), (USER, "10.2.0.0/24")):
        found = visible(records, "appnet", uid)
        assert found is not None and found.owner == uid and str(found.subnet) == subnet
        shared = visible(records, "bridge", uid)
        assert shared is not None and shared.owner is None
    assert visible(records, "appnet", 1001) is None
    with pytest.raises(NetworkNotFound):
        record_key("appnet@1000", 0)  # a name never reaches another user's key


def test_records_from_before_owners_are_roots(tmp_path: Path) -> None:
    directory = tmp_path / "networks"
    directory.mkdir()
    for name, subnet in (("old", "10.1.0.0/24"), ("bridge", "10.88.0.0/16")):
        (directory / f"{name}.json").write_text(json.dumps(
            {"name": name, "bridge": f"b-{name}", "subnet": subnet,
             "gateway": subnet.replace(".0/", ".1/").split("/")[0],
             "endpoints": {"c1": {"address": subnet.replace(".0/", ".9/")}}}))
    records = Ipam(directory).read()
    assert records["old"].owner == 0 and records["bridge"].owner is None
    assert records["old"].endpoints["c1"].owner == 0
    assert visible(records, "old", USER) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="the file must belong to root")
def test_the_default_network_s_ipv6_in_the_file(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    path = tmp_path / "networks.json"
    assert default_bridge_ipv6(path) == (False, None)  # no file
    for data, expected in (({"ipv6": True}, (True, None)),
                           ({"ipv6": True, "fixed-cidr-v6": "fd12::/64"},
                            (True, IPv6Network("fd12::/64"))),
                           ({"fixed-cidr-v6": "fd12::/64"}, (False, None))):
        path.write_text(json.dumps(data))
        assert default_bridge_ipv6(path) == expected
    for bad in ({"ipv6": "yes"}, {"ipv6": True, "fixed-cidr-v6": "fd12::1/64"}, []):
        path.write_text(json.dumps(bad))
        with pytest.raises(HelperError):
            default_bridge_ipv6(path)
