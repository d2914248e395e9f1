"""IPv6 networks against the real kernel, in a world of their own
(tests/fixtures/networld.py): addresses and routes in the container, NAT out,
published ports, isolation, and the host's forwarding left as it was found."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from ipaddress import IPv6Address, IPv6Network
from pathlib import Path

import pytest

from engine.containers.config import PortBinding
from engine.errors import Conflict, InUse, InvalidArgument
from engine.helper.network import plan_network
from engine.helper.network.pools import default_pools6
from engine.helper.network.ruleset import FORWARDING6, OUR_FORWARDING6
from tests.fixtures.networld import (
    BACKENDS,
    BUSYBOX,
    FAR_AWAY6,
    INTERNET6,
    UPLINK6,
    World,
    assert_nothing_left,
    fetch,
    networking,
    refused,
    ruleset,
)

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
    pytest.mark.skipif(not Path("/bin/busybox").exists(), reason="needs busybox-static"),
    pytest.mark.skipif(not Path("/proc/sys/net/ipv6").exists(), reason="needs IPv6"),
]


def _ip(sandbox: Path, *args: str) -> str:
    return subprocess.run(["nsenter", f"--net={sandbox}", "ip", *args], capture_output=True,
                          text=True, check=True).stdout


def _accept_ra(link: str) -> str:
    return Path(f"/proc/sys/net/ipv6/conf/{link}/accept_ra").read_text().strip()


def _client(answer: str) -> IPv6Address:
    """The client's address the world's CGI saw ("[2001:db8:1::1", as its sed leaves it)."""
    return IPv6Address(answer.strip().strip("[]"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_ipv6_network_routes_nats_publishes_and_isolates(
        world: World, names: tuple[str, str], backend: str) -> None:
    net = networking(world, names, backend)
    assert FORWARDING6.read_text().strip() == "0"  # a fresh world, as a host without routing
    # the world has a route from its router's advertisements on its uplink
    subprocess.run(["ip", "-6", "route", "add", "2001:db8:77::/64", "via", str(INTERNET6),
                    "dev", "uplink0", "proto", "ra"], check=True)
    assert _accept_ra("uplink0") == _accept_ra("lo") == "1"
    record = net.create_network("v6net", ipv6=True)
    assert record.subnet6 is not None and record.subnet6.prefixlen == 64
    assert record.subnet6.subnet_of(IPv6Network("fd00::/8"))
    assert FORWARDING6.read_text().strip() == "1"
    # forwarding does not cost the world its advertised routes; its bridge takes none
    assert (_accept_ra("uplink0"), _accept_ra("lo"), _accept_ra(record.bridge)) == (
        "2", "1", "0")
    other = net.create_network("other", ipv6=True,
                               subnet6=IPv6Network("fd99:1:2:3::/64"),
                               gateway6=IPv6Address("fd99:1:2:3::fe"))
    ports = [PortBinding(80, "tcp", "", 8080)]
    web = net.start_container("c1" * 32, plan_network("v6net", ports), hostname="web",
                              name="web-1", ports=ports)
    client = net.start_container("c2" * 32, plan_network("v6net"), hostname="client",
                                 name="client-1")
    stranger = net.start_container("c3" * 32, plan_network("other"), hostname="stranger",
                                   name="stranger-1")
    sandbox, client_box = net.sandbox_path("c1" * 32), net.sandbox_path("c2" * 32)
    address = web.endpoints["v6net"].address6
    assert address is not None and address.ip == record.subnet6.network_address + 2
    assert stranger.endpoints["other"].address6 is not None
    assert f"default via {other.gateway6} dev eth0" in _ip(net.sandbox_path("c3" * 32), "-6",
                                                           "route")  # its own gateway
    # in the container: the address (usable at once) and the default route
    shown = _ip(sandbox, "-6", "addr", "show", "eth0")
    assert f"inet6 {address} scope global nodad \n" in shown  # not tentative
    assert f"default via {record.gateway6} dev eth0" in _ip(sandbox, "-6", "route")
    world.serve(sandbox, "web-1")
    world.serve(world.internet, "internet")

    assert fetch(f"http://[{address.ip}]/", client_box) == "hello from web-1\n"
    hosts = client.files["hosts"].read_text()
    assert f"{address.ip}\tweb-1" in hosts
    # out through NAT: the far side sees the world's address
    assert _client(fetch(f"http://[{FAR_AWAY6}]/cgi-bin/ip", sandbox)) == UPLINK6
    # in: only through the published port, which keeps the client's address
    assert refused(f"http://[{address.ip}]/", world.internet)
    assert _client(fetch(f"http://[{UPLINK6}]:8080/cgi-bin/ip", world.internet)) == INTERNET6
    assert fetch(f"http://[{UPLINK6}]:8080/") == "hello from web-1\n"  # from the host too
    # another network's container cannot open a connection to it
    assert refused(f"http://[{address.ip}]/", net.sandbox_path("c3" * 32))
    # nor does the world route for anyone else now that forwarding is on
    if backend == "nft":
        assert 'oifname != "' in ruleset() and "not-skiff" in ruleset()

    net.cleanup_container("c3" * 32)
    net.cleanup_container("c2" * 32)
    net.cleanup_container("c1" * 32)
    net.remove_network("other")
    assert FORWARDING6.read_text().strip() == "1"  # v6net still has IPv6
    net.remove_network("v6net")
    assert FORWARDING6.read_text().strip() == "0"  # Skiff turned it on; off with the last
    assert _accept_ra("uplink0") == "1"
    assert not (world.root / "state" / OUR_FORWARDING6).exists()
    assert_nothing_left(world, names)


def test_forwarding_someone_else_turned_on_stays_on_and_unguarded(
        world: World, names: tuple[str, str]) -> None:
    FORWARDING6.write_text("1")
    net = networking(world, names, BACKENDS[0])
    net.create_network("v6net", ipv6=True)
    assert not (world.root / "state" / OUR_FORWARDING6).exists()
    if BACKENDS[0] == "nft":
        assert "not-skiff" not in ruleset()
    net.remove_network("v6net")
    assert FORWARDING6.read_text().strip() == "1"
    assert_nothing_left(world, names)


def test_asked_ipv6_addresses_and_what_is_refused(world: World, names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    net.create_network("v6net", ipv6=True, subnet6=IPv6Network("fd99:1:2:3::/64"))
    net.create_network("v4net")
    wanted = IPv6Address("fd99:1:2:3::42")
    from engine.helper.network.networking import Join

    started = net.start_container("c1" * 32, plan_network("v6net"), hostname="web",
                                  joins=[Join("v6net", address6=wanted)])
    assert started.endpoints["v6net"].address6 is not None
    assert started.endpoints["v6net"].address6.ip == wanted
    with pytest.raises(Conflict, match="already in use"):
        net.start_container("c2" * 32, plan_network("v6net"), hostname="other",
                            joins=[Join("v6net", address6=wanted)])
    with pytest.raises(InvalidArgument, match="has no IPv6"):
        net.start_container("c2" * 32, plan_network("v4net"), hostname="other",
                            joins=[Join("v4net", address6=IPv6Address("fd99::5"))])
    ports = [PortBinding(80, "tcp", "2001:db8:1::1", 8081)]
    with pytest.raises(InvalidArgument, match="has no IPv6"):
        net.start_container("c2" * 32, plan_network("v4net", ports), hostname="other",
                            ports=ports)
    with pytest.raises(Conflict, match="Pool overlaps"):
        net.create_network("again", ipv6=True, subnet6=IPv6Network("fd99:1:2::/48"))
    # a program holding a port on the host's IPv6 addresses only keeps it from a
    # container with IPv6, not from one without
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as holder:
        holder.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        holder.bind(("::", 0))
        holder.listen()
        port = holder.getsockname()[1]
        ports = [PortBinding(80, "tcp", "", port)]
        with pytest.raises(InUse, match=f"port {port} is already in use"):
            net.start_container("c2" * 32, plan_network("v6net", ports), hostname="other",
                                ports=ports)
        net.start_container("c3" * 32, plan_network("v4net", ports), hostname="v4",
                            ports=ports)
        net.cleanup_container("c3" * 32)
    # on an IPv4 network, the interface has no IPv6 at all (not even link-local), as
    # Docker's since 26
    net.start_container("c4" * 32, plan_network("v4net"), hostname="old")
    assert "inet6" not in _ip(net.sandbox_path("c4" * 32), "-6", "addr", "show", "eth0")
    assert "inet6 fe80" in _ip(net.sandbox_path("c1" * 32), "-6", "addr", "show", "eth0")
    net.cleanup_container("c4" * 32)
    net.cleanup_container("c1" * 32)
    for name in ("v6net", "v4net"):
        net.remove_network(name)
    assert_nothing_left(world, names)


def test_a_user_s_ipv6_subnets_stay_in_the_pool_and_off_the_host(
        world: World, names: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIFF_NETWORK_CONFIG", str(world.root / "missing.json"))
    user = networking(world, names, BACKENDS[0], uid=1000)
    (pool,) = default_pools6()
    record = user.create_network("mine", ipv6=True)
    assert record.subnet6 is not None
    assert record.subnet6.subnet_of(IPv6Network(pool.base))
    with pytest.raises(InvalidArgument, match="outside the private address pools"):
        user.create_network("theirs", ipv6=True, subnet6=IPv6Network("2001:db8:5::/64"))
    # root may take any prefix, but not the host's own link (the world's uplink)
    root = networking(world, names, BACKENDS[0])
    with pytest.raises(Conflict, match="overlaps the host's address 2001:db8:1::1/64"):
        root.create_network("lan", ipv6=True, subnet6=IPv6Network("2001:db8:1::/64"))
    root.create_network("global", ipv6=True, subnet6=IPv6Network("2001:db8:5::/64"))
    root.remove_network("global")
    user.remove_network("mine")
    assert_nothing_left(world, names)


def test_root_gives_the_default_network_ipv6_as_docker_s_daemon_json_does(
        world: World, names: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    config = world.root / "networks.json"
    monkeypatch.setenv("SKIFF_NETWORK_CONFIG", str(config))
    os.chmod(world.root, 0o755)
    net = networking(world, names, BACKENDS[0])
    ports = [PortBinding(80, "tcp", "", 0)]
    first = net.start_container("c1" * 32, plan_network("default", ports), hostname="one",
                                ports=ports)
    assert first.endpoints["bridge"].address6 is None  # no file: IPv4 only, as Docker
    net.cleanup_container("c1" * 32)

    config.write_text(json.dumps({"ipv6": True, "fixed-cidr-v6": "fd99:8::/64"}))
    second = net.start_container("c2" * 32, plan_network("default", ports), hostname="two",
                                 ports=ports)
    address = second.endpoints["bridge"].address
    assert address.network == first.endpoints["bridge"].address.network  # same IPv4
    address6 = second.endpoints["bridge"].address6
    assert address6 is not None and str(address6) == "fd99:8::2/64"
    assert "default via fd99:8::1 dev eth0" in _ip(net.sandbox_path("c2" * 32), "-6", "route")
    world.serve(net.sandbox_path("c2" * 32), "two")
    port = second.ports[0].host_port
    assert _client(fetch(f"http://[{UPLINK6}]:{port}/cgi-bin/ip", world.internet)) == INTERNET6
    # while a container is on it, a change waits; then it applies to the next one
    config.write_text(json.dumps({"ipv6": False}))
    third = net.start_container("c3" * 32, plan_network("default"), hostname="three")
    assert third.endpoints["bridge"].address6 is not None
    net.cleanup_container("c2" * 32)
    net.cleanup_container("c3" * 32)
    fourth = net.start_container("c4" * 32, plan_network("default"), hostname="four")
    assert fourth.endpoints["bridge"].address6 is None
    assert "inet6" not in _ip(net.sandbox_path("c4" * 32), "-6", "addr", "show", "eth0")
    net.cleanup_container("c4" * 32)
    net.teardown()
    assert FORWARDING6.read_text().strip() == "0"
    assert_nothing_left(world, names)


_ROUTER_ADVERTISEMENT = r"""
import socket, struct, sys
mac = bytes.fromhex(open("/sys/class/net/eth0/address").read().strip().replace(":", ""))
src, dst = socket.inet_pton(socket.AF_INET6, "fe80::bad"), socket.inet_pton(
    socket.AF_INET6, "ff02::1")
prefix = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(
    socket.AF_INET6, "2001:db8:bad::")
message = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + prefix + \
    struct.pack("!BB", 1, 1) + mac
pseudo = src + dst + struct.pack("!I3xB", len(message), 58) + message
total = sum(struct.unpack(f"!{len(pseudo) // 2}H", pseudo))
while total >> 16:
    total = (total & 0xFFFF) + (total >> 16)
message = message[:2] + struct.pack("!H", ~total & 0xFFFF) + message[4:]
ipv6 = struct.pack("!IHBB", 6 << 28, len(message), 58, 255) + src + dst
frame = bytes.fromhex("333300000001") + mac + b"\x86\xdd" + ipv6 + message
with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
    raw.bind(("eth0", 0))
    raw.send(frame)
"""


def test_a_container_s_router_advertisement_gives_the_host_nothing(
        world: World, names: tuple[str, str]) -> None:
    """A root container (CAP_NET_RAW) on an IPv4 network sends a router advertisement
    from its interface (IPv6 is off there, a packet socket does not care): the host
    takes no route and no address from it (Docker's CVE-2020-13401)."""
    net = networking(world, names, BACKENDS[0])
    record = net.create_network("v4net")
    net.start_container("c1" * 32, plan_network("v4net"), hostname="evil")
    sandbox = net.sandbox_path("c1" * 32)

    def advertise() -> str:
        subprocess.run(["nsenter", f"--net={sandbox}", sys.executable, "-c",
                        _ROUTER_ADVERTISEMENT], check=True)
        # the bridge handles what arrives in order: once a later ping is answered,
        # the advertisement has been taken or dropped
        subprocess.run(["nsenter", f"--net={sandbox}", BUSYBOX, "ping", "-c", "1", "-W", "5",
                        str(record.gateway)], check=True, capture_output=True)
        return subprocess.run(["ip", "-6", "addr", "show", "dev", record.bridge],
                              capture_output=True, text=True, check=True).stdout

    assert _accept_ra(record.bridge) == "0"
    assert "2001:db8:bad" not in advertise()
    assert "2001:db8:bad" not in subprocess.run(["ip", "-6", "route"], capture_output=True,
                                                text=True, check=True).stdout
    # the same advertisement on a bridge that takes them (the kernel's default) would
    Path(f"/proc/sys/net/ipv6/conf/{record.bridge}/accept_ra").write_text("1")
    assert "2001:db8:bad" in advertise()
    net.cleanup_container("c1" * 32)
    net.remove_network("v4net")
    assert_nothing_left(world, names)
