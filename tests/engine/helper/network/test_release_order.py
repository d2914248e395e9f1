"""A monitor records its container's exit first and releases the network after it
(engine/helper/runtime/monitor.py), and `rm` does not wait for that (run --rm's
removal would): `network rm` releases what an ended container still holds itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from engine.errors import InUse
from engine.helper.network import destroy_sandbox, is_sandbox, plan_network
from engine.helper.network.networking import Networking
from engine.helper.network.verbs import NetworkVerbs
from tests.fixtures.networld import BACKENDS, World, assert_nothing_left

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


def test_network_rm_releases_what_ended_containers_still_hold(
        world: World, names: tuple[str, str]) -> None:
    root = world.root / "helper"
    containers = root / "users" / "0" / "containers"
    net = Networking(root / "network", lambda cid: containers / cid, uid=0, table=names[1],
                     bridge_prefix=names[0], backend=BACKENDS[0])
    verbs = NetworkVerbs(root, 0, net)
    verbs.create("appnet", "10.77.0.0/24", None, None, None)
    ended, removed, running = "cd" * 32, "ce" * 32, "cf" * 32
    for cid in (ended, removed, running):
        (containers / cid).mkdir(parents=True)
        net.start_container(cid, plan_network("appnet"), hostname=cid[:2], name=cid[:2])
    # its monitor recorded the exit and has yet to release the network
    monitor = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                               stdin=subprocess.PIPE)
    try:
        (containers / ended / "status.json").write_text(json.dumps(
            {"status": "exited", "monitor_pid": monitor.pid}))
        (containers / running / "status.json").write_text(json.dumps(
            {"status": "running", "monitor_pid": os.getpid()}))
        os.replace(containers / removed, containers / f".{removed}.removing")

        with pytest.raises(InUse, match="in use by container cf"):
            verbs.remove("appnet")
        assert list(verbs.inspect("appnet")["Containers"]) == [running]
        assert not is_sandbox(containers / ended / "netns")
        net.cleanup_container(running)
        net.cleanup_container(ended)  # what the monitor does next: nothing left to do
        verbs.remove("appnet")
    finally:
        assert monitor.stdin is not None
        monitor.stdin.close()
        monitor.wait()
    destroy_sandbox(containers / f".{removed}.removing" / "netns")  # the removal's discard
    net.teardown()
    assert_nothing_left(world, names)
