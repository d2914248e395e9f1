"""The networking layer against the real kernel, inside a world of its own
(tests/fixtures/networld.py: the test's thread in a namespace that plays the host)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from pyroute2 import IPRoute

from engine.containers.config import PortBinding
from engine.errors import InUse, InvalidState, ProtocolError
from engine.helper.network import (
    create_sandbox,
    destroy_sandbox,
    is_sandbox,
    plan_network,
)
from engine.helper.network.links import bridge_ports, bridges
from engine.helper.network.netns import sandboxes_under
from engine.helperclient import HelperClient
from tests.fixtures.networld import (
    BACKENDS,
    FAR_AWAY,
    INTERNET,
    UPLINK,
    World,
    assert_nothing_left,
    fetch,
    link_names,
    networking,
    refused,
    ruleset,
    wait_for,
)

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
    pytest.mark.skipif(not Path("/bin/busybox").exists(), reason="needs busybox-static"),
]


def test_sandbox_is_a_bound_namespace_with_loopback(world: World) -> None:
    path = world.root / "netns"
    create_sandbox(path)
    create_sandbox(path)  # idempotent
    assert is_sandbox(path)
    assert path in sandboxes_under(world.root)
    assert link_names(path) == ["lo"]
    up = subprocess.run(["nsenter", f"--net={path}", "ip", "-br", "link"], capture_output=True,
                        text=True, check=True).stdout
    assert "<LOOPBACK,UP," in up
    destroy_sandbox(path)
    destroy_sandbox(path)
    assert not path.exists()
    assert path not in sandboxes_under(world.root)


@pytest.mark.parametrize("backend", BACKENDS)
def test_user_network_by_address_name_and_outbound_nat(world: World, names: tuple[str, str],
                                                       backend: str) -> None:
    net = networking(world, names, backend)
    record = net.create_network("appnet")
    plan = plan_network("appnet", aliases=["db"])
    web1 = net.start_container("c1" * 32, plan_network("appnet"), hostname="c1host",
                               name="web-1")
    web2 = net.start_container("c2" * 32, plan, hostname="c2host", name="web-2",
                               aliases=["db"])
    sandbox1, sandbox2 = net.sandbox_path("c1" * 32), net.sandbox_path("c2" * 32)
    world.serve(sandbox1, "web-1")
    world.serve(sandbox2, "web-2")
    address2 = web2.endpoints["appnet"].address.ip
    assert address2 in record.subnet

    assert fetch(f"http://{address2}/", sandbox1) == "hello from web-2\n"
    # web-1's hosts file was written before web-2 joined, and refreshed in place
    hosts1 = web1.files["hosts"]
    assert fetch("http://web-2/", sandbox1, hosts1) == "hello from web-2\n"
    assert fetch("http://db/", sandbox1, hosts1) == "hello from web-2\n"
    assert fetch("http://web-1/", sandbox2, web2.files["hosts"]) == "hello from web-1\n"

    world.serve(world.internet, "internet")
    # outbound connections leave with the world's address
    assert fetch(f"http://{FAR_AWAY}/cgi-bin/ip", sandbox1).strip() == str(UPLINK)
    # the outside cannot open connections to a container, even with a route to it
    assert refused(f"http://{web1.endpoints['appnet'].address.ip}/", world.internet)

    net.cleanup_container("c2" * 32)
    assert "web-2" not in hosts1.read_text()
    net.cleanup_container("c1" * 32)
    net.cleanup_container("c1" * 32)  # idempotent
    net.remove_network("appnet")
    assert_nothing_left(world, names)


@pytest.mark.parametrize("backend", BACKENDS)
def test_published_port_answers_on_loopback_and_host_address(
        world: World, names: tuple[str, str], backend: str) -> None:
    net = networking(world, names, backend)
    cid = "ab" * 32
    ports = [PortBinding(80, "tcp", "", 8080), PortBinding(80)]
    started = net.start_container(cid, plan_network("default", ports), hostname="web",
                                  name="web-1", ports=ports)
    world.serve(net.sandbox_path(cid), "web-1")
    assert IPv4Address("10.88.0.2") == started.endpoints["bridge"].address.ip
    random_port = started.ports[1].host_port
    assert started.ports[0].host_port == 8080 and random_port not in (0, 8080)

    assert fetch("http://127.0.0.1:8080/") == "hello from web-1\n"
    assert fetch(f"http://{UPLINK}:8080/") == "hello from web-1\n"
    assert fetch(f"http://127.0.0.1:{random_port}/") == "hello from web-1\n"
    assert fetch(f"http://{UPLINK}:8080/", world.internet) == "hello from web-1\n"
    # from outside the client keeps its address; from loopback it is masqueraded
    assert fetch(f"http://{UPLINK}:8080/cgi-bin/ip", world.internet).strip() == str(INTERNET)
    assert fetch("http://127.0.0.1:8080/cgi-bin/ip").strip() == "10.88.0.1"
    # hairpin: the container reaches its own published port through the host
    assert fetch(f"http://{UPLINK}:8080/", net.sandbox_path(cid)) == "hello from web-1\n"

    net.cleanup_container(cid)
    assert refused("http://127.0.0.1:8080/")
    net.teardown()
    assert_nothing_left(world, names)


def test_taken_ports_are_refused_naming_the_holder(world: World, names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    ports = [PortBinding(80, "tcp", "", 8080)]
    net.start_container("ab" * 32, plan_network("bridge", ports), hostname="web",
                        name="web-1", ports=ports)

    with pytest.raises(InUse, match=r"^port 8080 is already in use by container web-1$"):
        net.start_container("cd" * 32, plan_network("bridge", ports), hostname="other",
                            name="web-2", ports=ports)
    # the refusal came before anything was set up for web-2
    assert not net.sandbox_path("cd" * 32).exists()
    assert "cd" * 32 not in net.network("bridge").endpoints

    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        taken = [PortBinding(80, "tcp", "", port)]
        with pytest.raises(InUse, match=rf"^port {port} is already in use by process "
                                        rf".+ \(pid {os.getpid()}\)$"):
            net.check_ports("cd" * 32, taken)

    net.cleanup_container("ab" * 32)
    net.teardown()
    assert_nothing_left(world, names)


def test_repair_after_a_crash_removes_what_nobody_owns(world: World,
                                                       names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    prefix, table = names
    ports = [PortBinding(80, "tcp", "", 8080)]
    net.start_container("aa" * 32, plan_network("bridge", ports), hostname="dead",
                        name="dead", ports=ports)
    survivor = net.start_container("bb" * 32, plan_network("bridge"), hostname="alive",
                                   name="alive")
    # leftovers of a crash: a veth with no owner on our bridge, a bridge of ours
    # with no record, a sandbox of a container that is gone
    create_sandbox(net.sandbox_path("ee" * 32))
    with IPRoute() as ipr:
        ipr.link("add", ifname=f"{prefix}-dead", kind="bridge")
        ipr.link("add", ifname="vethdead0", kind="veth", peer={"ifname": "vethdead1"})
        ipr.link("set", index=ipr.link_lookup(ifname="vethdead0")[0],
                 master=ipr.link_lookup(ifname=f"{prefix}0")[0])

    report = net.repair(lambda: {"bb" * 32}, world.root)
    assert report.released == {"bridge": ["aa" * 32]}
    assert sorted(report.sandboxes) == sorted([net.sandbox_path("aa" * 32),
                                               net.sandbox_path("ee" * 32)])
    assert report.bridges == [f"{prefix}-dead"]
    assert "vethdead0" in report.links
    assert bridges(prefix) == [f"{prefix}0"]
    assert [p.owner for p in bridge_ports(f"{prefix}0")] == ["bb" * 32]
    if net.netfilter.backend == "nft":
        assert "8080" not in ruleset() and table in ruleset()
    # the survivor still works, and repair is idempotent
    world.serve(net.sandbox_path("bb" * 32), "alive")
    assert fetch(f"http://{survivor.endpoints['bridge'].address.ip}/") == "hello from alive\n"
    again = net.repair(lambda: {"bb" * 32}, world.root)
    assert not (again.released or again.links or again.bridges or again.sandboxes)

    net.cleanup_container("bb" * 32)
    net.teardown()
    assert_nothing_left(world, names)


def test_repair_waits_for_a_start_in_flight(world: World, names: tuple[str, str]) -> None:
    """Another user's helper repairs at its start while this one starts a container
    whose monitor is not running yet: the repair waits and then keeps it."""
    net = networking(world, names, BACKENDS[0])
    asked = threading.Event()

    def live() -> set[str]:
        asked.set()
        return {"aa" * 32}

    with net.starting():
        net.start_container("aa" * 32, plan_network("bridge"), hostname="young")
        repair = threading.Thread(target=net.repair, args=(live, world.root))
        repair.start()
        assert not asked.wait(0.5)  # the monitor is not running yet: no verdict
    repair.join(10)
    assert asked.is_set() and not repair.is_alive()
    assert net.sandbox_path("aa" * 32).exists()
    assert [p.owner for p in bridge_ports(f"{names[0]}0")] == ["aa" * 32]

    net.cleanup_container("aa" * 32)
    net.teardown()
    assert_nothing_left(world, names)


def test_release_deletes_the_recorded_veth_and_an_old_records_too(
        world: World, names: tuple[str, str]) -> None:
    """The endpoint keeps its veth's name, which goes with the sandbox; a record written
    before the name was kept has its container's port found on the bridge."""
    import json

    net = networking(world, names, BACKENDS[0])
    recorded = net.start_container("aa" * 32, plan_network("bridge"), hostname="new")
    old = net.start_container("bb" * 32, plan_network("bridge"), hostname="old")
    ports = {p.owner: p.ifname for p in bridge_ports(f"{names[0]}0")}
    assert recorded.endpoints["bridge"].veth == ports["aa" * 32]
    record = net.ipam.read()["bridge"].to_json()
    assert record["endpoints"]["bb" * 32].pop("veth") == ports["bb" * 32]
    # as an older Skiff wrote it: the whole record in its file (which then wins)
    (world.root / "state" / "bridge.json").write_text(json.dumps(record))
    assert old.endpoints["bridge"].veth

    def owners() -> list[str]:
        return [p.owner for p in bridge_ports(f"{names[0]}0")]

    net.cleanup_container("aa" * 32)
    wait_for(lambda: owners() == ["bb" * 32], "the released veth to go")
    net.cleanup_container("bb" * 32)
    assert owners() == []  # deleted by the release itself: its name was not recorded
    net.teardown()
    assert_nothing_left(world, names)


def test_a_release_without_published_ports_runs_no_netfilter_command(
        world: World, names: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each monitor releases its container's network with a Networking of its own: one
    with no ports to unpublish never looks for nft (a process started each time)."""
    from engine.helper.network import base as networking_module
    from engine.helper.network.networking import Networking

    net = networking(world, names, BACKENDS[0])
    net.start_container("aa" * 32, plan_network("bridge"), hostname="plain")

    def no_backend() -> str:
        raise AssertionError("the backend was looked for")

    monkeypatch.setattr(networking_module, "detect_backend", no_backend)
    monitors = Networking(net.ipam.directory, net.container_dir, uid=0, table=names[1],
                          bridge_prefix=names[0])
    monitors.cleanup_container("aa" * 32)
    wait_for(lambda: bridge_ports(f"{names[0]}0") == [], "the released veth to go")
    net.teardown()
    assert_nothing_left(world, names)


def test_none_has_only_loopback_and_host_needs_no_sandbox(world: World,
                                                          names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    none = net.start_container("aa" * 32, plan_network("none"), hostname="alone")
    assert link_names(net.sandbox_path("aa" * 32)) == ["lo"]
    assert "alone" in none.files["hostname"].read_text()
    host = net.start_container("bb" * 32, plan_network("host"), hostname="h")
    assert not net.sandbox_path("bb" * 32).exists()
    assert host.files["hosts"].read_text() == Path("/etc/hosts").read_text()
    net.cleanup_container("aa" * 32)
    net.cleanup_container("bb" * 32)
    assert_nothing_left(world, names)


def test_subnet_avoids_host_routes(world: World, names: tuple[str, str]) -> None:
    with IPRoute() as ipr:
        ipr.route("add", dst="10.88.0.0/16", gateway=str(INTERNET))
    net = networking(world, names, BACKENDS[0])
    started = net.start_container("aa" * 32, plan_network("bridge"), hostname="x")
    subnet = net.network("bridge").subnet
    assert not subnet.overlaps(IPv4Network("10.88.0.0/16"))
    assert started.endpoints["bridge"].address.ip in subnet
    net.cleanup_container("aa" * 32)
    net.teardown()
    with IPRoute() as ipr:
        ipr.route("del", dst="10.88.0.0/16", gateway=str(INTERNET))
    assert_nothing_left(world, names)


def test_network_verbs_through_the_helper(world: World, names: tuple[str, str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    prefix, table = names
    monkeypatch.setenv("SKIFF_NET_PREFIX", prefix)
    monkeypatch.setenv("SKIFF_NET_TABLE", table)
    root = world.root / "helper"
    cid = "ab" * 32
    # a running container as the helper lays it out: its directory and sandbox
    container = root / "users" / str(os.getuid()) / "containers" / cid
    container.mkdir(parents=True)
    status = container / "status.json"  # live: its monitor (this process) runs it
    status.write_text(f'{{"status": "running", "monitor_pid": {os.getpid()}}}')

    async def scenario(client: HelperClient) -> None:
        created = await client.call("network_create", {"name": "appnet",
                                                       "subnet": "10.77.0.0/24"})
        assert (created["Subnet"], created["Gateway"]) == ("10.77.0.0/24", "10.77.0.1")
        assert created["Bridge"].startswith(f"{prefix}-")
        assert [n["Name"] for n in await client.call("network_list")] == ["appnet"]
        with pytest.raises(ProtocolError):
            await client.call("network_create", {"name": "no spaces"})
        with pytest.raises(InvalidState, match="not running"):
            await client.call("network_connect", {"id": cid, "network": "appnet"})

        create_sandbox(container / "netns")
        endpoint = await client.call("network_connect", {
            "id": cid, "network": "appnet", "name": "web-1", "aliases": ["web"]})
        assert endpoint["IPAddress"] == "10.77.0.2" and endpoint["Aliases"] == ["web"]
        assert link_names(container / "netns") == ["eth0", "lo"]
        inspected = await client.call("network_inspect", {"name": "appnet"})
        assert inspected["Containers"][cid]["Name"] == "web-1"
        with pytest.raises(InUse, match="in use by container web-1"):
            await client.call("network_remove", {"name": "appnet"})
        await client.call("network_disconnect", {"id": cid, "network": "appnet"})
        assert link_names(container / "netns") == ["lo"]

        # the container died without cleanup (no status: not live): repair takes it all
        await client.call("network_connect", {"id": cid, "network": "appnet"})
        status.unlink()
        report = await client.call("network_repair")
        assert report["released"] == {"appnet": [cid]}
        assert report["sandboxes"] == [str(container / "netns")]
        await client.call("network_remove", {"name": "appnet"})

    async def run() -> None:
        client = HelperClient(root, "skiff-test-network")
        try:
            await scenario(client)
        finally:
            await client.close()

    asyncio.run(run())
    assert_nothing_left(world, names)
