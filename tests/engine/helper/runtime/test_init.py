"""The namespaces a container's init makes or joins, planned through the recording kernel
(no root needed: nothing is unshared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.helper import syscalls as sc
from engine.helper.runtime.init import enter_namespaces
from engine.helper.runtime.kernel import RecordingKernel

# PID 1's own; its PID namespace is made before it (init.start_init)
OWN = sc.CLONE_NEWNS | sc.CLONE_NEWUTS | sc.CLONE_NEWIPC | sc.CLONE_NEWCGROUP


def test_a_prepared_sandbox_is_joined_not_made(tmp_path: Path) -> None:
    netns = tmp_path / "netns"
    netns.touch()
    kernel = RecordingKernel()
    enter_namespaces("sandbox", netns, kernel)
    assert [(c.name, c.args) for c in kernel.calls] == [
        ("setns", (str(netns), sc.CLONE_NEWNET)), ("unshare", (OWN,))]


@pytest.mark.parametrize(("network", "flags"), [
    ("host", OWN),  # the host's network stays
    ("none", OWN | sc.CLONE_NEWNET),
    ("sandbox", OWN | sc.CLONE_NEWNET),  # none was prepared: loopback only
])
def test_without_a_sandbox_the_network_is_the_host_s_or_a_new_one(
        tmp_path: Path, network: str, flags: int) -> None:
    kernel = RecordingKernel()
    enter_namespaces(network, tmp_path / "missing", kernel)
    assert [(c.name, c.args) for c in kernel.calls] == [("unshare", (flags,))]
