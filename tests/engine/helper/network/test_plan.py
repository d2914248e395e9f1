"""The pure parts of networking: plans, rules, subnets, /etc files, host ports."""

from __future__ import annotations

import os
import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path

import pytest

from engine.errors import InUse, InvalidArgument
from engine.helper.network.etcfiles import render_hosts, render_resolv_conf, write_in_place
from engine.helper.network.plan import plan_network
from engine.helper.network.ports import resolve_ports
from engine.helper.network.rules import (
    Dnat,
    PublishedPort,
    iptables_jumps,
    plan_rules,
    render_iptables,
    render_nft,
)
from engine.helper.network.subnets import bridge_name, mac_for
from engine.names import check_network_name

NETS = [("skiff0", IPv4Network("10.88.0.0/16")), ("skiff-1", IPv4Network("10.89.0.0/24"))]
DNAT = Dnat("ab" * 32, IPv4Address("10.88.0.2"), PublishedPort("tcp", "", 8080, 80))
LOCAL_DNAT = Dnat("cd" * 32, IPv4Address("10.89.0.2"), PublishedPort("udp", "127.0.0.1", 53, 53))


# -- plan_network -------------------------------------------------------------------------------

def test_plan_network_modes() -> None:
    bridge = plan_network("default")
    assert (bridge.mode, bridge.sandbox, bridge.networks, bridge.publish) == \
        ("bridge", True, ("bridge",), True)
    assert plan_network("bridge") == bridge
    user = plan_network("appnet", aliases=["db"])
    assert user.networks == ("appnet",) and user.sandbox
    none = plan_network("none")
    assert none.sandbox and none.networks == () and not none.publish
    host = plan_network("host", ports=[80])
    assert not host.sandbox and host.host_network and not host.publish
    assert host.warnings == ("published ports are discarded with the host network",)


@pytest.mark.parametrize(("mode", "ports", "aliases", "message"), [
    ("default", (), ["db"], "aliases need a user-defined network"),
    ("none", [80], (), "cannot publish ports"),
    ("container:web", (), (), "not supported"),
    ("bad name!", (), (), "invalid network name"),
])
def test_plan_network_refusals(mode: str, ports: list[int], aliases: list[str],
                               message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        plan_network(mode, ports, aliases)


# -- rules --------------------------------------------------------------------------------------

def test_plan_rules_nat_forward_and_dnat() -> None:
    rules = plan_rules(NETS, [DNAT, LOCAL_DNAT], "skiff")
    by_chain = {chain: [r for r in rules if r.chain == chain]
                for chain in ("input", "forward", "postrouting", "published")}
    assert len(by_chain["input"]) == 2
    masquerade = [r for r in by_chain["postrouting"] if r.oif_not]
    assert {(r.saddr, r.oif) for r in masquerade} == \
        {("10.88.0.0/16", "skiff0"), ("10.89.0.0/24", "skiff-1")}
    dnats = by_chain["published"]
    assert [(r.protocol, r.dport, r.daddr, r.to) for r in dnats] == [
        ("tcp", 8080, "", "10.88.0.2:80"), ("udp", 53, "127.0.0.1", "10.89.0.2:53")]
    assert dnats[0].comment == "ctr:abababababab"
    # every DNAT accept comes before any isolation drop, whatever the network order
    forward = by_chain["forward"]
    last_dnat_accept = max(i for i, r in enumerate(forward) if r.ct_dnat)
    first_isolation = min(i for i, r in enumerate(forward) if r.oif == "skiff*")
    assert last_dnat_accept < first_isolation


def test_render_nft_replaces_the_table_in_one_script() -> None:
    script = render_nft("skiff", plan_rules(NETS, [DNAT], "skiff"))
    lines = script.splitlines()
    assert lines[:5] == ["add table ip skiff", "delete table ip skiff", "add table ip6 skiff",
                         "delete table ip6 skiff", "table ip skiff {"]
    assert "table ip6" not in "\n".join(lines[5:])  # no IPv6 network: no ip6 table
    assert 'oifname != "skiff0" ip saddr 10.88.0.0/16 masquerade comment "net:skiff0"' in script
    assert 'tcp dport 8080 dnat to 10.88.0.2:80 comment "ctr:abababababab"' in script
    assert 'iifname "skiff0" oifname "skiff*" drop' in script
    assert "fib daddr type local jump published" in script
    assert render_nft("skiff", []) == ("add table ip skiff\ndelete table ip skiff\n"
                                       "add table ip6 skiff\ndelete table ip6 skiff\n")


NETS6 = [*NETS, ("skiff-1", IPv6Network("fd12:3456:789a:1::/64"))]
DNAT6 = Dnat("cd" * 32, IPv6Address("fd12:3456:789a:1::2"), PublishedPort("tcp", "", 8080, 80))


def test_ipv6_rules_are_the_ipv4_ones_in_the_ip6_family() -> None:
    rules = plan_rules(NETS6, [DNAT, DNAT6], "skiff")
    v6 = [r for r in rules if r.family == "ip6"]
    assert {r.chain for r in v6} == {"forward", "postrouting", "published"}  # no 127/8 input
    assert [(r.saddr, r.oif, r.oif_not) for r in v6 if r.chain == "postrouting"] == [
        ("fd12:3456:789a:1::/64", "skiff-1", True), ("fd12:3456:789a:1::/64", "skiff-1", False)]
    assert [r.to for r in v6 if r.chain == "published"] == ["[fd12:3456:789a:1::2]:80"]
    assert not any(r.comment == "not-skiff" for r in rules)
    script = render_nft("skiff", rules)
    ip6 = script[script.index("table ip6 skiff {"):]
    assert 'oifname != "skiff-1" ip6 saddr fd12:3456:789a:1::/64 masquerade' in ip6
    assert "tcp dport 8080 dnat to [fd12:3456:789a:1::2]:80" in ip6
    assert 'iifname "skiff-1" oifname "skiff*" drop' in ip6
    assert "10.88.0.2" not in ip6 and "fd12" not in script[:script.index("table ip6 skiff {")]
    text = render_iptables("skiff", rules, "ip6")
    assert "-j DNAT --to-destination [fd12:3456:789a:1::2]:80" in text
    assert "10.88" not in text and "fd12" not in render_iptables("skiff", rules)


def test_an_internal_ipv6_network_has_no_nat_either() -> None:
    rules = plan_rules(NETS6, [], "skiff", internal={"skiff-1"})
    v6 = [r for r in rules if r.family == "ip6"]
    assert not [r for r in v6 if r.chain == "postrouting"]
    assert [(r.action, r.iif, r.oif) for r in v6 if r.chain == "forward"] == [
        ("accept", "skiff-1", "skiff-1"), ("drop", "skiff-1", "skiff*"),
        ("drop", "skiff-1", ""), ("drop", "", "skiff-1")]


def test_a_guard_keeps_the_host_from_routing_ipv6_when_skiff_turned_forwarding_on() -> None:
    guard = [r for r in plan_rules(NETS6, [], "skiff", guard=True) if r.comment == "not-skiff"]
    assert [(r.family, r.chain, r.action) for r in guard] == [("ip6", "forward", "drop")]
    forward = [r for r in plan_rules(NETS6, [], "skiff", guard=True)
               if r.chain == "forward" and r.family == "ip6"]
    assert forward[-1] == guard[0]  # after every accept of ours
    script = render_nft("skiff", plan_rules(NETS6, [], "skiff", guard=True))
    assert 'iifname != "skiff*" oifname != "skiff*" drop comment "not-skiff"' in script
    assert "! -i skiff+ ! -o skiff+" in render_iptables(
        "skiff", plan_rules(NETS6, [], "skiff", guard=True), "ip6")
    assert not any(r.comment == "not-skiff" for r in plan_rules(NETS, [], "skiff", guard=True))


def test_render_iptables_declares_and_fills_our_chains() -> None:
    text = render_iptables("skiff", plan_rules(NETS, [DNAT, LOCAL_DNAT], "skiff"))
    assert text.startswith("*nat\n:SKIFF-PUBLISHED - [0:0]\n:SKIFF-POSTROUTING - [0:0]\n")
    assert ("-A SKIFF-PUBLISHED -d 127.0.0.1 -p udp --dport 53 -m comment --comment "
            '"ctr:cdcdcdcdcdcd" -j DNAT --to-destination 10.89.0.2:53') in text
    assert "-A SKIFF-POSTROUTING ! -o skiff0 -s 10.88.0.0/16" in text
    assert "-A SKIFF-FORWARD -i skiff0 -o skiff+" in text
    assert text.count("COMMIT") == 2
    jumps = iptables_jumps("skiff")
    assert ("nat", "OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "-j",
                              "SKIFF-PUBLISHED"]) in jumps


# -- subnets and names --------------------------------------------------------------------------

def test_link_names_and_macs() -> None:
    assert bridge_name("skiff", "bridge") == "skiff0"
    name = bridge_name("skiff", "appnet")
    assert name.startswith("skiff-") and len(name) == 14
    assert name == bridge_name("skiff", "appnet") != bridge_name("skiff", "other")
    assert bridge_name("skiff", "appnet@1000") not in (name, bridge_name("skiff", "appnet@1001"))
    with pytest.raises(InvalidArgument):
        bridge_name("toolongprefix", "appnet")
    assert mac_for(IPv4Address("10.88.0.2")) == "02:42:0a:58:00:02"
    assert check_network_name("my_net-1.x") == "my_net-1.x"
    for bad in ("", "-x", "a b", "host", "none", "x" * 65):
        with pytest.raises(InvalidArgument):
            check_network_name(bad)


# -- /etc files ---------------------------------------------------------------------------------

def test_render_hosts() -> None:
    text = render_hosts("web", [IPv4Address("10.89.0.2")],
                        [(IPv4Address("10.89.0.3"), ["db-1", "db", "db"]),
                         (IPv4Address("10.89.0.4"), ["web", "db", "cache"])])
    assert text.startswith("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost")
    assert "10.89.0.2\tweb\n" in text
    assert "10.89.0.3\tdb-1 db\n" in text
    assert "10.89.0.4\tcache\n" in text  # "web" is us, "db" is taken
    assert render_hosts("x", []).count("\n") == 6


def test_render_resolv_conf() -> None:
    host = "search lan\nnameserver 192.0.2.53\noptions edns0\n"
    assert render_resolv_conf(host).endswith("search lan\noptions edns0\nnameserver 192.0.2.53\n")
    resolved = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n"
    upstream = "nameserver 198.51.100.1\nnameserver ::1\nsearch corp\n"
    text = render_resolv_conf(resolved, upstream)
    assert "nameserver 198.51.100.1\n" in text and "127.0.0.53" not in text
    assert "search corp" in text and "::1" not in text
    lonely = render_resolv_conf(resolved, None)
    assert "nameserver" not in lonely.replace("nameservers", "")
    assert "only reachable from the host" in lonely
    assert render_resolv_conf(resolved, upstream, host_network=True) == resolved


def test_write_in_place_keeps_the_inode(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    write_in_place(path, "a long first version\n")
    inode = os.stat(path).st_ino
    write_in_place(path, "short\n")
    assert os.stat(path).st_ino == inode
    assert path.read_text() == "short\n"


# -- host ports (bind tests on loopback only) ---------------------------------------------------

def _request(host_port: int, container_port: int = 80, host_ip: str = "127.0.0.1",
             protocol: str = "tcp") -> PublishedPort:
    return PublishedPort(protocol, host_ip, host_port, container_port)


def test_random_ports_are_free_and_avoid_our_own() -> None:
    ports = resolve_ports([_request(0), _request(0, 81), _request(0, 53, protocol="udp")], {})
    assert all(p.host_port > 0 for p in ports)
    assert len({p.host_port for p in ports[:2]}) == 2
    assert ports[0].host_ip == "127.0.0.1"


def test_a_port_held_by_a_process_is_refused_naming_it() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(InUse, match=rf"^port {port} is already in use by process .+ "
                                        rf"\(pid {os.getpid()}\)$"):
            resolve_ports([_request(port)], {})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_port_of_another_container_is_refused_naming_it() -> None:
    taken = {("tcp", 8080): [("", "container web-1")]}
    with pytest.raises(InUse, match=r"^port 8080 is already in use by container web-1$"):
        resolve_ports([_request(8080)], taken)
    with pytest.raises(InUse, match=r"^port 8080 is already in use by container web-1$"):
        resolve_ports([_request(8080, host_ip="")],
                      {("tcp", 8080): [("127.0.0.1", "container web-1")]})
    # another protocol, or another specific host address, is no clash
    port = _free_port()
    assert resolve_ports([_request(port, protocol="udp")],
                         {("tcp", port): [("", "container web-1")]})
    narrow = {("tcp", port): [("127.0.0.2", "container web-1")]}
    assert resolve_ports([_request(port)], narrow)[0].host_port == port


def test_bad_port_requests() -> None:
    port = _free_port()
    with pytest.raises(InvalidArgument, match="published twice"):
        resolve_ports([_request(port), _request(port, 81)], {})
    with pytest.raises(InvalidArgument, match="kernel does not forward"):
        resolve_ports([_request(0, host_ip="fe80::1")], {})
    with pytest.raises(InvalidArgument, match=r"cannot publish udp on \[::1\]"):
        resolve_ports([_request(0, host_ip="::1", protocol="udp")], {})
    assert resolve_ports([_request(0, host_ip="[::1]")], {})[0].host_ip == "::1"
    with pytest.raises(InvalidArgument, match="invalid protocol"):
        resolve_ports([_request(0, protocol="sctp")], {})
    with pytest.raises(InvalidArgument, match="invalid port number"):
        resolve_ports([_request(70000)], {})
    with pytest.raises(InvalidArgument, match="not an address of this host"):
        resolve_ports([_request(port, host_ip="192.0.2.250")], {})
    with pytest.raises(InvalidArgument, match="not an address of this host"):
        resolve_ports([_request(port, host_ip="2001:db8::250")], {})


def test_an_internal_network_keeps_its_traffic_to_itself() -> None:
    rules = plan_rules(NETS, [DNAT], "skiff", internal={"skiff-1"})
    inner = [r for r in rules if r.comment == "net:skiff-1"]
    assert [(r.chain, r.action, r.iif, r.oif) for r in inner if r.chain == "forward"] == [
        ("forward", "accept", "skiff-1", "skiff-1"),  # between its own containers
        ("forward", "drop", "skiff-1", "skiff*"),
        ("forward", "drop", "skiff-1", ""),  # nothing out
        ("forward", "drop", "", "skiff-1")]  # nothing in, not even replies or DNAT
    assert not [r for r in inner if r.chain == "postrouting"]  # no NAT
    # the other network is as it was
    outer = [r for r in rules if r.comment == "net:skiff0"]
    assert [r for r in outer if r.chain == "postrouting" and r.oif_not]
    assert render_nft("skiff", rules).count('iifname "skiff-1" drop') == 1
