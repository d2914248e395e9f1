"""The helper's own limits on a user's host options, with the engine left out: a
user's engine is untrusted, so what it sends is checked again, as the user, by
the helper (engine/helper/runtime/hostlimits.py, engine/helper/sources.py).

A real helper serves a real non-root user over a socketpair made as that user.
"""

from __future__ import annotations

import os
import resource
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.helper.runtime.test_userns import UserContainers, user  # noqa: F401
from tests.fixtures.users import SubidUser

pytestmark = pytest.mark.root


def _create(containers: UserContainers, **fields: object) -> tuple[str, dict[str, object]]:
    cid = os.urandom(32).hex()
    spec = {"args": ["true"], "env": [], "cwd": "/", "hostname": "u",
            "layers": containers.layers, "restart_policy": "no", "restart_max": 0,
            "stop_signal": 9, "network_mode": "none", "ports": [], "exposed": [],
            "aliases": [], "name": f"h{len(containers.made)}", "binds": [], **fields}
    reply, _ = containers.peer.call("container_create", {"id": cid, "spec": spec})
    if "result" in reply:
        containers.made.append(cid)
        containers.binds[cid] = []
    return cid, reply


@pytest.fixture
def nodes(subid_user: SubidUser, tmp_path: Path) -> Iterator[Path]:
    """A root-only null device, where the user can reach it."""
    os.chmod(tmp_path, 0o755)
    node = tmp_path / "roots"
    os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    yield tmp_path


def test_a_device_the_user_cannot_open_is_refused_at_start(user: UserContainers,  # noqa: F811
                                                           nodes: Path) -> None:
    cid, reply = _create(user, devices=[{"path_on_host": str(nodes / "roots"),
                                         "path_in_container": "/dev/x",
                                         "permissions": "rw"}])
    assert "result" in reply, reply
    fd = os.open(nodes / "roots", os.O_PATH)  # as root: the engine is not to be trusted
    try:
        reply, _ = user.peer.call("container_start", {"id": cid, "sources": [0]}, [fd])
    finally:
        os.close(fd)
    assert "you may not read device" in str(reply.get("error")), reply
    fd = os.open(nodes, os.O_PATH)  # a directory is no device
    try:
        reply, _ = user.peer.call("container_start", {"id": cid, "sources": [0]}, [fd])
    finally:
        os.close(fd)
    assert "not a device node" in str(reply.get("error")), reply


def test_ulimits_and_sysctls_beyond_the_user_s_are_refused(user: UserContainers  # noqa: F811
                                                           ) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    _, reply = _create(user, ulimits=[{"name": "nofile", "soft": 1, "hard": hard + 1}])
    assert "above yours" in str(reply.get("error")), reply
    _, reply = _create(user, ulimits=[{"name": "nofile", "soft": 1, "hard": -1}])
    assert "above yours" in str(reply.get("error")), reply
    _, reply = _create(user, sysctls=["kernel.panic=1"])  # the protocol's pattern
    assert "error" in reply, reply
    _, reply = _create(user, sysctls=["net.ipv4.ip_forward=1"], network_mode="host")
    assert "host's network namespace" in str(reply.get("error")), reply
    _, reply = _create(user, sysctls=["net.ipv4.ip_forward=1"], cap_add=["CAP_SYS_ADMIN"])
    assert "result" in reply, reply
