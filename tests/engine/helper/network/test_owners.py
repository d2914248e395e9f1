"""Networks have owners, subnets and host ports have rules: as root and as another
user, through real helpers (tests/peers.py) and the real kernel, in a world of
its own (tests/fixtures/networld.py), so the host's own routes stay untouched."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
from pyroute2 import IPRoute

from engine.containers.config import PortBinding
from engine.errors import InUse, InvalidArgument
from engine.helper.network import create_sandbox, destroy_sandbox, plan_network
from engine.helper.network.links import bridges
from engine.helper.network.netns import sandboxes_under
from engine.helper.network.policy import POOL_OVERLAP
from engine.helper.network.verbs import default_networking
from tests.fixtures.networld import (
    BACKENDS,
    INTERNET,
    World,
    assert_nothing_left,
    fetch,
    networking,
)
from tests.fixtures.users import SubidUser
from tests.peers import NOBODY, HelperPeer

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
    pytest.mark.skipif(not Path("/bin/busybox").exists(), reason="needs busybox-static"),
]

PORT_80 = "publishing port 80 needs root: ports below 1024 are privileged on this host"


def _running(root: Path, uid: int, cid: str) -> None:
    """A container of ``uid`` as the helper lays out a running one: its directory,
    a status whose monitor is alive (this test: repair leaves it be), its sandbox;
    made as a start makes it, out of the way of a helper's repair at warm-up."""
    path = root / "users" / str(uid) / "containers" / cid
    path.mkdir(parents=True)
    with default_networking(root, uid).starting():
        create_sandbox(path / "netns")
        (path / "status.json").write_text(json.dumps({"status": "running",
                                                      "monitor_pid": os.getpid()}))


def _spec(**changes: Any) -> dict[str, Any]:
    return {"args": ["true"], "env": [], "cwd": "/", "hostname": "h", "layers": [],
            "restart_policy": "no", "restart_max": 0, "stop_signal": 15,
            "network_mode": "bridge", "ports": [], "exposed": [], "aliases": [], "name": "t",
            "binds": [], **changes}


def _port(host_port: int) -> dict[str, Any]:
    return {"container_port": 80, "protocol": "tcp", "host_ip": "", "host_port": host_port}


@pytest.fixture
def helpers(world: World, names: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
            subid_user: SubidUser) -> Iterator[tuple[HelperPeer, HelperPeer]]:
    """Root's helper and a real user's (tests/fixtures/users.py), on one storage
    root, inside the world."""
    prefix, table = names
    monkeypatch.setenv("SKIFF_NET_PREFIX", prefix)
    monkeypatch.setenv("SKIFF_NET_TABLE", table)
    monkeypatch.setenv("SKIFF_NETWORK_CONFIG", str(world.root / "networks.json"))
    root = world.root / "helper"
    admin = HelperPeer(root, 0)
    user = HelperPeer(root, subid_user.uid)
    try:
        yield admin, user
    finally:
        admin.close()
        user.close()
        default_networking(root, 0).teardown()
        for sandbox in sandboxes_under(root / "users"):
            destroy_sandbox(sandbox)
    assert_nothing_left(world, names)


def test_another_users_network_is_not_found(world: World, helpers: tuple[HelperPeer, HelperPeer],
                                            subid_user: SubidUser) -> None:
    admin, user = helpers
    root = world.root / "helper"
    theirs = admin.ok("network_create", {"name": "appnet"})
    assert theirs["Subnet"] == "172.17.0.0/16"  # from the pools; 10.88/16 stays for "bridge"
    ours, mine = "a" * 64, "b" * 64
    _running(root, 0, ours)
    _running(root, subid_user.uid, mine)

    for verb, args in (("network_inspect", {"name": "appnet"}),
                       ("network_remove", {"name": "appnet"}),
                       ("network_connect", {"id": mine, "network": "appnet"}),
                       ("network_disconnect", {"id": mine, "network": "appnet"}),
                       ("container_create", {"id": "c" * 64,
                                             "spec": _spec(network_mode="appnet")})):
        assert user.error(verb, args) == "network appnet not found", verb
    assert user.ok("network_list") == []
    # root's container stays out of the user's reach too
    assert user.error("network_connect", {"id": ours, "network": "bridge"}) == \
        f"No such container: {ours}"

    # names are the user's own: their "appnet" is another network
    created = user.ok("network_create", {"name": "appnet"})
    assert created["Subnet"] == "172.18.0.0/16" and created["Bridge"] != theirs["Bridge"]
    assert user.error("network_create", {"name": "appnet"}) == \
        "network with name appnet already exists"
    endpoint = user.ok("network_connect", {"id": mine, "network": "appnet", "name": "web"})
    assert IPv4Address(endpoint["IPAddress"]) in IPv4Network("172.18.0.0/16")
    assert list(admin.ok("network_inspect", {"name": "appnet"})["Containers"]) == []

    # the default network is shared, and each user sees only their own containers on it
    admin.ok("network_connect", {"id": ours, "network": "bridge"})
    user.ok("network_connect", {"id": mine, "network": "bridge"})
    assert list(admin.ok("network_inspect", {"name": "bridge"})["Containers"]) == [ours]
    assert list(user.ok("network_inspect", {"name": "bridge"})["Containers"]) == [mine]
    assert [(n["Name"], n["Subnet"]) for n in user.ok("network_list")] == \
        [("appnet", "172.18.0.0/16"), ("bridge", "10.88.0.0/16")]
    assert user.error("network_remove", {"name": "bridge"}) == \
        "bridge is a pre-defined network and cannot be removed"
    assert user.error("network_create", {"name": "bridge"}) == \
        "network with name bridge already exists"
    assert user.error("network_repair").startswith("only root repairs")
    assert user.error("network_connect", {"id": mine, "network": "bridge",
                                          "aliases": ["x"]}).startswith("network-scoped alias")

    for peer, cid in ((user, mine), (admin, ours)):
        peer.ok("network_disconnect", {"id": cid, "network": "bridge"})
    user.ok("network_disconnect", {"id": mine, "network": "appnet"})
    user.ok("network_remove", {"name": "appnet"})
    assert admin.ok("network_inspect", {"name": "appnet"})["Subnet"] == "172.17.0.0/16"
    admin.ok("network_remove", {"name": "appnet"})


def test_subnets_and_ports_a_user_may_not_have(world: World,
                                               helpers: tuple[HelperPeer, HelperPeer]) -> None:
    admin, user = helpers
    prefix = os.environ["SKIFF_NET_PREFIX"]
    with IPRoute() as ipr:  # a VPN's route, and a second LAN on the uplink
        ipr.route("add", dst="172.20.0.0/16", gateway=str(INTERNET))
        ipr.addr("add", index=ipr.link_lookup(ifname="uplink0")[0], address="192.168.77.1",
                 prefixlen=24)

    def create(peer: HelperPeer, name: str, subnet: str, gateway: str | None = None) -> str:
        return peer.error("network_create", {"name": name, "subnet": subnet,
                                             "gateway": gateway})

    assert create(user, "hijack", "8.8.8.0/24") == (
        "subnet 8.8.8.0/24 is outside the private address pools of this host (10.88.0.0/16, "
        "172.17.0.0-172.31.255.255, 192.168.0.0/16): only root can use other subnets")
    assert create(user, "vpn", "172.20.1.0/24") == \
        "subnet 172.20.1.0/24 overlaps the host's route to 172.20.0.0/16; choose another subnet"
    for peer in (user, admin):
        assert create(peer, "lan", "192.168.77.0/25") == (
            "subnet 192.168.77.0/25 overlaps the host's address 192.168.77.1/24 on uplink0; "
            "choose another subnet")
    assert create(user, "gw", "172.21.0.0/24", "172.22.0.1") == \
        "no matching subnet for gateway 172.22.0.1"
    assert "broadcast" in create(user, "gw", "172.21.0.0/24", "172.21.0.255")
    # root chooses any subnet clear of the host's addresses, as docker lets it
    admin.ok("network_create", {"name": "routed", "subnet": "172.20.1.0/24"})
    admin.ok("network_create", {"name": "public", "subnet": "8.8.8.0/24"})
    assert create(user, "over", "172.20.1.128/25") == POOL_OVERLAP
    assert user.ok("network_create", {"name": "auto"})["Subnet"] == "172.17.0.0/16"
    assert len(bridges(prefix)) == 3  # nothing of the refused ones was made

    # host ports below the unprivileged start are root's
    assert user.error("container_create", {"id": "d" * 64,
                                           "spec": _spec(ports=[_port(80)])}) == PORT_80
    user.ok("container_create", {"id": "d" * 64, "spec": _spec(ports=[_port(8080)])})
    user.ok("container_remove", {"id": "d" * 64, "force": True})
    admin.ok("container_create", {"id": "e" * 64, "spec": _spec(ports=[_port(80)])})
    admin.ok("container_remove", {"id": "e" * 64, "force": True})

    # root's pools file decides the user's subnets, and only root's file does
    config = world.root / "networks.json"
    config.write_text(json.dumps({"default-address-pools": [{"base": "10.123.0.0/16",
                                                             "size": 24}]}))
    assert user.ok("network_create", {"name": "pooled"})["Subnet"] == "10.123.1.0/24"
    assert "(10.123.0.0/16)" in create(user, "docker", "172.25.0.0/24")
    config.chmod(0o666)
    assert "writable by root alone" in create(user, "any", "10.123.9.0/24")
    for peer, name in ((user, "auto"), (user, "pooled"), (admin, "routed"), (admin, "public")):
        peer.ok("network_remove", {"name": name})


def test_port_80_is_roots_and_other_users_containers_stay_unnamed(
        world: World, names: tuple[str, str]) -> None:
    user = networking(world, names, BACKENDS[0], uid=NOBODY)
    admin = networking(world, names, BACKENDS[0])
    low = [PortBinding(80, "tcp", "", 80)]
    with pytest.raises(InvalidArgument, match=f"^{PORT_80}$"):
        user.start_container("aa" * 32, plan_network("bridge", low), hostname="u", ports=low)
    assert not user.sandbox_path("aa" * 32).exists()

    ports = [*low, PortBinding(80, "tcp", "", 8080)]
    admin.start_container("bb" * 32, plan_network("bridge", ports), hostname="web",
                          name="web-1", ports=ports)
    world.serve(admin.sandbox_path("bb" * 32), "web-1")
    assert fetch("http://127.0.0.1:80/") == "hello from web-1\n"
    taken = [PortBinding(80, "tcp", "", 8080)]
    with pytest.raises(InUse, match=r"^port 8080 is already in use by another user's container$"):
        user.start_container("aa" * 32, plan_network("bridge", taken), hostname="u", ports=taken)
    with pytest.raises(InUse, match=r"^port 8080 is already in use by container web-1$"):
        admin.check_ports("cc" * 32, taken)

    # the host's own limit decides (it is per network namespace: this world's)
    Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").write_text("8000")
    high = [PortBinding(80, "tcp", "", 7000)]
    with pytest.raises(InvalidArgument, match="ports below 8000 are privileged"):
        user.start_container("aa" * 32, plan_network("bridge", high), hostname="u", ports=high)
    mine = [PortBinding(80, "tcp", "", 8081)]
    user.start_container("aa" * 32, plan_network("bridge", mine), hostname="u", ports=mine)
    world.serve(user.sandbox_path("aa" * 32), "user-web")
    assert fetch("http://127.0.0.1:8081/") == "hello from user-web\n"

    user.cleanup_container("aa" * 32)
    admin.cleanup_container("bb" * 32)
    admin.teardown()
    assert_nothing_left(world, names)
