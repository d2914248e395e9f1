"""Spare sandboxes (engine/helper/network/spares.py): a start takes one and works as
one that made its own; a spare holds no address and nothing of the records; the
spares of a helper that is gone are collected by repair, a live helper's are not,
and a helper that exits deletes its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pyroute2 import IPRoute

from engine.helper.network import plan_network, rtnetlink
from engine.helper.network.base import SPARES
from engine.helper.network.links import SPARE_ALIAS, bridge_ports
from engine.helper.network.netns import is_sandbox, run_in_netns, sandboxes_under
from engine.helper.network.networking import Networking
from engine.helper.network.spares import Spare, alive, holder_of
from tests.fixtures.networld import (
    BACKENDS,
    World,
    assert_nothing_left,
    fetch,
    link_names,
    networking,
    wait_for,
)

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]

ROOT = Path(__file__).resolve().parents[4]
A, B, C = "aa" * 32, "bb" * 32, "cc" * 32


def _ready(net: Networking, bridge: str, count: int = 2) -> list[Spare]:
    assert net.spares is not None
    wait_for(lambda: sum(s.bridge == bridge for s in net.spares.ready()) >= count,
             "the spares to be made")  # type: ignore[union-attr]
    return [s for s in net.spares.ready() if s.bridge == bridge]


def _finish(net: Networking, world: World, names: tuple[str, str]) -> None:
    net.teardown()
    wait_for(lambda: link_names() == ["lo", "uplink0"], "the spares' veths to go")
    assert_nothing_left(world, names)


def _interface(sandbox: Path) -> dict[str, object]:
    def work() -> dict[str, object]:
        with IPRoute() as ipr:
            link = ipr.get_links(ipr.link_lookup(ifname="eth0")[0])[0]
            return {"up": bool(link["flags"] & 1), "mac": link.get("address"),
                    "addresses": [a.get("address") for a in ipr.get_addr(index=link["index"])],
                    "routes": [r.get("gateway") for r in ipr.get_routes()
                               if r.get("gateway")]}

    return run_in_netns(sandbox, work)


def test_a_start_takes_a_spare_and_reaches_its_peers(world: World,
                                                     names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    net.keep_spares()
    first = net.start_container(A, plan_network("bridge"), hostname="first", name="first")
    bridge = f"{names[0]}0"
    spares = _ready(net, bridge)
    second = net.start_container(B, plan_network("bridge"), hostname="second", name="second")

    veth = second.endpoints["bridge"].veth
    assert veth in {s.host_ifname for s in spares}, "the start made a veth of its own"
    taken = next(s for s in spares if s.host_ifname == veth)
    wait_for(lambda: not is_sandbox(taken.path), "the spare's own binding to go")
    assert is_sandbox(net.sandbox_path(B))
    assert {p.ifname: p.owner for p in bridge_ports(bridge)}[veth] == B
    address = second.endpoints["bridge"].address
    seen = _interface(net.sandbox_path(B))
    assert seen["up"] and seen["mac"] == second.endpoints["bridge"].mac
    assert seen["addresses"] == [str(address.ip)]
    assert seen["routes"] == [str(net.network("bridge").gateway)]
    world.serve(net.sandbox_path(B), "second")
    assert fetch(f"http://{address.ip}/", net.sandbox_path(A)) == "hello from second\n"
    assert first.endpoints["bridge"].veth not in {s.host_ifname for s in spares}
    _ready(net, bridge)  # made again for the next start

    net.cleanup_container(A)
    net.cleanup_container(B)
    _finish(net, world, names)


def test_a_spare_holds_no_address_and_nothing_of_the_records(world: World,
                                                             names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    net.keep_spares()
    net.start_container(A, plan_network("bridge"), hostname="a")
    spare = _ready(net, f"{names[0]}0")[0]
    assert net.spares is not None
    assert spare.path.parent == net.ipam.directory / SPARES / net.spares.holder
    seen = _interface(spare.path)
    assert not seen["up"] and seen["addresses"] == [] and seen["routes"] == []
    ports = {p.ifname: p for p in bridge_ports(f"{names[0]}0")}
    assert ports[spare.host_ifname].spare == net.spares.holder
    assert ports[spare.host_ifname].owner == ""
    assert list(net.network("bridge").endpoints) == [A]

    net.cleanup_container(A)
    _finish(net, world, names)


def test_a_removed_networks_spares_go_with_it(world: World,
                                             names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    net.keep_spares()
    net.create_network("appnet")
    bridge = net.network("appnet").bridge
    net.start_container(A, plan_network("appnet"), hostname="a")
    stale = {s.host_ifname for s in _ready(net, bridge)}
    net.cleanup_container(A)
    net.remove_network("appnet")
    assert net.spares is not None and net.spares.ready() == []  # gone with it
    net.create_network("appnet")  # the same bridge's name, another link
    started = net.start_container(B, plan_network("appnet"), hostname="b")
    assert started.endpoints["appnet"].veth not in stale
    world.serve(net.sandbox_path(B), "b")
    address = started.endpoints["appnet"].address.ip
    assert fetch(f"http://{address}/") == "hello from b\n"

    net.cleanup_container(B)
    net.remove_network("appnet")
    _finish(net, world, names)


_HOLDER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from contextlib import nullcontext
from engine.helper.network.spares import Spares
spares = Spares(Path(sys.argv[2]), nullcontext)
spares.want(sys.argv[3])
while len(spares.ready()) < 2:
    time.sleep(0.01)
print(spares.holder, flush=True)
if sys.argv[4] == "crash":
    time.sleep(60)
"""


def _other_helper(net: Networking, bridge: str, how: str) -> tuple[subprocess.Popen[str], str]:
    """A process of its own (in the world's namespace) that keeps two spares for
    ``bridge``; it says its holder name once they are ready."""
    child = subprocess.Popen([sys.executable, "-c", _HOLDER, str(ROOT),
                              str(net.ipam.directory / SPARES), bridge, how],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def test_repair_collects_the_spares_of_a_helper_that_is_gone(world: World,
                                                             names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    net.keep_spares()
    net.start_container(A, plan_network("bridge"), hostname="a")
    bridge = f"{names[0]}0"
    ours = _ready(net, bridge)

    child, holder = _other_helper(net, bridge, "crash")
    world.processes.append(child)
    theirs = [p.ifname for p in bridge_ports(bridge) if p.spare == holder]
    assert len(theirs) == 2 and alive(holder)
    assert net.repair(lambda: {A}, world.root).links == []  # a live helper's are kept
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not alive(holder)

    report = net.repair(lambda: {A}, world.root)
    folder = net.ipam.directory / SPARES / holder
    assert sorted(report.links) == sorted(theirs)
    assert sorted(report.sandboxes) == sorted(folder / n for n in ("0", "1"))
    assert not folder.exists() and sandboxes_under(folder) == []
    wait_for(lambda: not {p.ifname for p in bridge_ports(bridge)} & set(theirs),
             "the crashed helper's spares to go")
    assert {s.host_ifname for s in ours} <= {p.ifname for p in bridge_ports(bridge)}
    again = net.repair(lambda: {A}, world.root)
    assert not (again.links or again.sandboxes)

    net.cleanup_container(A)
    _finish(net, world, names)


def test_a_helper_that_exits_deletes_its_spares(world: World, names: tuple[str, str]) -> None:
    net = networking(world, names, BACKENDS[0])
    net.start_container(A, plan_network("bridge"), hostname="a")
    bridge = f"{names[0]}0"
    child, holder = _other_helper(net, bridge, "exit")
    assert child.wait(30) == 0
    assert not (net.ipam.directory / SPARES / holder).exists()
    wait_for(lambda: not any(p.spare for p in bridge_ports(bridge)), "its spares to go")
    assert SPARE_ALIAS not in str(bridge_ports(bridge))

    net.cleanup_container(A)
    _finish(net, world, names)


def test_a_holder_names_one_process_life() -> None:
    me = holder_of(os.getpid())
    assert me.startswith(f"{os.getpid()}-") and alive(me)
    assert not alive(f"{os.getpid()}-1") and not alive("0-0") and not alive("nonsense")


def test_a_refused_request_says_why(world: World) -> None:
    with pytest.raises(OSError) as refused:
        rtnetlink.send([rtnetlink.set_link(10_000, alias="x")])
    assert refused.value.errno == 19  # ENODEV: no such link
