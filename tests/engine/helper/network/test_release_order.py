"""A monitor records its container's exit first and releases the network after it
(engine/helper/runtime/monitor.py), so that `run --rm`'s removal overlaps the release:
what must find no endpoint left waits for that monitor instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from engine.helper.network import plan_network
from engine.helper.network.networking import Networking
from engine.helper.network.verbs import NetworkVerbs
from tests.fixtures.networld import BACKENDS, World, assert_nothing_left

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


def test_network_rm_waits_for_the_monitor_of_a_container_that_ended(
        world: World, names: tuple[str, str]) -> None:
    root = world.root / "helper"
    cid = "cd" * 32
    container = root / "users" / "0" / "containers" / cid
    container.mkdir(parents=True)
    net = Networking(root / "network", lambda c: root / "users" / "0" / "containers" / c,
                     uid=0, table=names[1], bridge_prefix=names[0], backend=BACKENDS[0])
    verbs = NetworkVerbs(root, 0, net)
    verbs.create("appnet", "10.77.0.0/24", None, None, None)
    net.start_container(cid, plan_network("appnet"), hostname="ended")
    # its monitor recorded the exit and has yet to release the network: until told to
    monitor = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                               stdin=subprocess.PIPE)
    (container / "status.json").write_text(json.dumps(
        {"status": "exited", "monitor_pid": monitor.pid}))
    failures: list[BaseException] = []

    def remove() -> None:
        try:
            verbs.remove("appnet")
        except BaseException as exc:
            failures.append(exc)

    removal = threading.Thread(target=remove)  # in this test's namespace, as its thread
    try:
        removal.start()
        removal.join(0.5)
        assert removal.is_alive() and not failures, "network rm did not wait for the monitor"
        net.cleanup_container(cid)  # what the monitor does next, then it exits
    finally:
        assert monitor.stdin is not None
        monitor.stdin.close()
        monitor.wait()
        removal.join()
    assert not failures
    assert verbs.list() == []
    net.teardown()
    assert_nothing_left(world, names)


def test_a_running_containers_network_is_refused_at_once(
        world: World, names: tuple[str, str]) -> None:
    """Only ended containers' monitors are waited for: a running one's endpoint is in
    use, as before."""
    from engine.errors import InUse

    root = world.root / "helper"
    cid = "ce" * 32
    container = root / "users" / "0" / "containers" / cid
    container.mkdir(parents=True)
    net = Networking(root / "network", lambda c: root / "users" / "0" / "containers" / c,
                     uid=0, table=names[1], bridge_prefix=names[0], backend=BACKENDS[0])
    verbs = NetworkVerbs(root, 0, net)
    verbs.create("appnet", "10.77.0.0/24", None, None, None)
    net.start_container(cid, plan_network("appnet"), hostname="runs", name="web-1")
    (container / "status.json").write_text(json.dumps(
        {"status": "running", "monitor_pid": os.getpid()}))
    with pytest.raises(InUse, match="in use by container web-1"):
        verbs.remove("appnet")
    net.cleanup_container(cid)
    verbs.remove("appnet")
    net.teardown()
    assert_nothing_left(world, names)
