"""A released container's veth goes with its sandbox's namespace, after the release; what
it had stays taken until it is gone (engine/helper/network/leaving.py), so no address
is ever handed out while a link on the bridge still has it."""

from __future__ import annotations

import os
import threading
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from engine.errors import Conflict
from engine.helper.network import leaving, plan_network
from engine.helper.network.links import bridge_ports, link_exists
from engine.helper.network.networking import Networking
from tests.fixtures.networld import (
    BACKENDS,
    World,
    assert_nothing_left,
    networking,
    wait_for,
)

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]

SUBNET = IPv4Network("10.123.0.0/24")
A, B = "aa" * 32, "bb" * 32


def _tiny(net: Networking, addresses: int = 1) -> str:
    """A network that hands out ``addresses`` addresses (from .8)."""
    size = addresses.bit_length() - 1
    assert 1 << size == addresses
    net.create_network("tiny", SUBNET, ip_range=IPv4Network(f"10.123.0.8/{32 - size}"))
    return "tiny"


def _hold(net: Networking, container_id: str) -> int:
    """A descriptor of the container's namespace: it outlives the sandbox's unmount,
    as one a container passed out to a process of its owner would."""
    return os.open(net.sandbox_path(container_id), os.O_RDONLY | os.O_CLOEXEC)


def _finish(net: Networking, world: World, names: tuple[str, str]) -> None:
    bridge = net.network("tiny").bridge
    wait_for(lambda: bridge_ports(bridge) == [], "the released veths to go")
    with net.ipam.transaction() as records:
        for record in records.values():
            leaving.settle(record)
            assert not record.endpoints and not record.leaving, "an address leaked"
    net.remove_network("tiny")
    net.teardown()
    assert_nothing_left(world, names)


def test_an_address_stays_taken_until_its_veth_is_gone(world: World,
                                                       names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    tiny = _tiny(net)
    first = net.start_container(A, plan_network(tiny), hostname="a").endpoints[tiny]
    held = _hold(net, A)
    try:
        net.cleanup_container(A)
        assert not net.sandbox_path(A).exists()
        assert link_exists(first.veth)  # its namespace lives on, and so does the veth
        assert net.network(tiny).endpoints == {}
        with pytest.raises(Conflict, match="no free address left"):
            net.start_container(B, plan_network(tiny), hostname="b")
        assert not net.sandbox_path(B).exists()  # the refused start left nothing
    finally:
        os.close(held)
    wait_for(lambda: not link_exists(first.veth), "the kernel to delete the veth")
    second = net.start_container(B, plan_network(tiny), hostname="b").endpoints[tiny]
    assert second.address == first.address and second.mac == first.mac
    assert net.network(tiny).leaving == {}
    net.cleanup_container(B)
    _finish(net, world, names)


def test_a_veth_kept_past_its_time_is_deleted_by_the_next_start(
        world: World, names: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    net = networking(world, names, BACKENDS[0])
    tiny = _tiny(net)
    first = net.start_container(A, plan_network(tiny), hostname="a").endpoints[tiny]
    held = _hold(net, A)
    try:
        net.cleanup_container(A)
        assert link_exists(first.veth)
        monkeypatch.setattr(leaving, "LINGER", 0.0)
        second = net.start_container(B, plan_network(tiny), hostname="b").endpoints[tiny]
        assert not link_exists(first.veth)  # deleted before its address went to B
        assert second.address == first.address
        assert [p.owner for p in bridge_ports(net.network(tiny).bridge)] == [B]
    finally:
        os.close(held)
    net.cleanup_container(B)
    _finish(net, world, names)


def test_a_container_that_comes_back_gets_its_address_while_its_old_veth_leaves(
        world: World, names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    tiny = _tiny(net)
    first = net.start_container(A, plan_network(tiny), hostname="a").endpoints[tiny]
    held = _hold(net, A)
    try:
        net.cleanup_container(A)
        again = net.start_container(A, plan_network(tiny), hostname="a").endpoints[tiny]
        assert again.address == first.address and again.veth != first.veth
        assert not link_exists(first.veth)
        assert [p.ifname for p in bridge_ports(net.network(tiny).bridge)] == [again.veth]
    finally:
        os.close(held)
    net.cleanup_container(A)
    _finish(net, world, names)


def test_no_address_is_handed_out_twice_while_containers_come_and_go(
        world: World, names: tuple[str, str]) -> None:
    """Starts and releases in three threads on a network of four addresses, each
    keeping its last container's namespace (and so its veth) until its next start;
    and a watcher that, between transactions, finds every link on the bridge recorded
    with the address it has, and no address recorded twice."""
    net = networking(world, names, BACKENDS[0])
    tiny = _tiny(net, 4)
    bridge = net.network(tiny).bridge
    done = threading.Event()
    problems: list[str] = []
    refused: list[str] = []

    def cycles(worker: int) -> None:
        kept, address = -1, None  # the last container's namespace, and its address
        try:
            for cycle in range(12):
                cid = f"{worker:02x}{cycle:02x}" * 16
                try:
                    started = net.start_container(cid, plan_network(tiny), hostname=cid[:12])
                except Conflict as exc:
                    if "no free address" not in str(exc):  # not "MAC address in use"
                        raise
                    refused.append(cid)  # all four taken or leaving
                    continue
                if started.endpoints[tiny].address == address:
                    problems.append(f"{address} handed out again while its veth was there")
                address = started.endpoints[tiny].address
                keep = _hold(net, cid)
                net.cleanup_container(cid)
                if kept >= 0:
                    os.close(kept)
                kept = keep
        except BaseException as exc:
            problems.append(f"worker {worker}: {exc!r}")
        finally:
            if kept >= 0:
                os.close(kept)

    def watch() -> None:
        while not done.is_set():
            with net.ipam.locked(".lock", exclusive=False):
                record = net.ipam.read()["tiny"]
                ports = {p.ifname for p in bridge_ports(bridge)}
            held = [str(e.address) for e in record.endpoints.values()]
            held += [str(g.address) for g in record.leaving.values()]
            if len(held) != len(set(held)):
                problems.append(f"an address recorded twice: {sorted(held)}")
            recorded = {e.veth for e in record.endpoints.values()} | set(record.leaving)
            if ports - recorded:
                problems.append(f"links on the bridge whose address is free: {ports - recorded}")

    workers = [threading.Thread(target=cycles, args=(n,)) for n in range(3)]
    watcher = threading.Thread(target=watch)
    watcher.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    watcher.join()
    assert problems == []
    assert len(refused) < 36  # some of them ran
    assert not list(Path(world.root, "containers").glob("*/netns"))
    _finish(net, world, names)
