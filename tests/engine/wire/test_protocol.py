"""The helper as a trust boundary: framing, validation, peers.

A real helper process is started for each test, speaking to the test over a
socketpair, exactly as the engine talks to it.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.wire import protocol
from tests.peers import NOBODY, socketpair_as

pytestmark = pytest.mark.root



class Peer:
    """The engine's end of a helper connection, driven by hand."""

    def __init__(self, sock: socket.socket, process: subprocess.Popen[bytes]) -> None:
        self.sock = sock
        self.process = process
        self.reader = protocol.FrameReader(sock)
        self.ids = 0

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> dict[str, object]:
        item = self.reader.read()
        assert item is not None, "the helper hung up"
        for fd in item[1]:
            os.close(fd)
        return item[0]

    def call(self, verb: object, args: object) -> dict[str, object]:
        self.ids += 1
        protocol.send_frame(self.sock, {"id": self.ids, "verb": verb, "args": args})
        return self.read()


def _start(tmp_path: Path, uid: int) -> Peer:
    ours, theirs = socketpair_as(uid) if uid else socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.helper", "--root", str(tmp_path / "helper"),
         "--cgroup-parent", f"skiff-test-{os.getpid()}"],
        stdin=theirs.fileno(), close_fds=True)
    theirs.close()
    peer = Peer(ours, process)
    protocol.send_frame(ours, {"hello": protocol.VERSION})
    hello = peer.read()
    assert hello["hello"] == protocol.VERSION
    return peer


@pytest.fixture(params=[0, NOBODY], ids=["root", "nobody"])
def helper(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Peer]:
    peer = _start(tmp_path, request.param)
    yield peer
    peer.sock.close()
    assert peer.process.wait(10) == 0


def _error(reply: dict[str, object]) -> dict[str, str]:
    assert "error" in reply, reply
    return reply["error"]  # type: ignore[return-value]


def test_unknown_verbs_and_fields_are_refused(helper: Peer) -> None:
    assert "unknown verb" in _error(helper.call("format_disk", {}))["message"]
    assert "unknown field" in _error(helper.call("ping", {"extra": 1}))["message"]
    assert helper.call("ping", {})["result"]  # still alive


def test_wrong_types_and_sizes_are_refused(helper: Peer) -> None:
    cid = "a" * 64
    assert "expected a string" in _error(helper.call("container_start", {"id": 5}))["message"]
    assert "malformed" in _error(helper.call("container_start", {"id": "../../etc"}))["message"]
    assert "malformed" in _error(helper.call("layer_exists", {"diff_id": "sha256:xyz"}))[
        "message"]
    assert "at most" in _error(helper.call("container_stop", {
        "id": cid, "signal": 999, "timeout": 1}))["message"]
    assert "true or false" in _error(helper.call("container_remove", {
        "id": cid, "force": "yes"}))["message"]
    assert helper.call("ping", {})["result"]


def test_paths_it_did_not_derive_are_refused(helper: Peer) -> None:
    spec = {"args": ["true"], "env": [], "cwd": "/", "hostname": "h", "layers": [],
            "restart_policy": "no", "restart_max": 0, "stop_signal": 15, "network_mode": "none",
            "ports": [], "exposed": [], "aliases": [], "name": "t",
            "binds": [{"source": "relative/path", "target": "/x", "read_only": True}]}
    reply = helper.call("container_create", {"id": "b" * 64, "spec": spec})
    assert _error(reply)["kind"] == "protocol"
    spec["layers"] = ["sha256:" + "c" * 64]
    spec["binds"] = []
    assert "not unpacked" in _error(helper.call("container_create",
                                                {"id": "b" * 64, "spec": spec}))["message"]


def test_an_oversized_frame_ends_only_that_connection(tmp_path: Path) -> None:
    peer = _start(tmp_path, 0)
    peer.send_raw(struct.pack(">I", protocol.MAX_FRAME + 1))
    reply = peer.read()
    assert "exceeds" in _error(reply)["message"]
    assert peer.process.wait(10) == 0  # a clean exit, not a crash


def test_a_malformed_frame_is_refused_and_the_next_one_answered(helper: Peer) -> None:
    for body in (b"{not json", b"[1, 2]", b'{"id": 1, "verb": "ping", "args": {}, "x": 1}',
                 b'{"id": true, "verb": "ping"}'):
        helper.send_raw(struct.pack(">I", len(body)) + body)
        assert _error(helper.read())["kind"] == "protocol"
    assert helper.call("ping", {})["result"]


def test_two_requests_with_descriptors_back_to_back(tmp_path: Path) -> None:
    """Each message gets the descriptors sent with it, even when reads merge them."""
    a, b = socket.socketpair()
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    protocol.send_frame(a, {"n": 1}, [r1])
    protocol.send_frame(a, {"n": 2}, [r2, w2])
    protocol.send_frame(a, {"n": 3})
    reader = protocol.FrameReader(b)
    got = [reader.read() for _ in range(3)]
    assert [(m["n"], len(fds)) for m, fds in got] == [(1, 1), (2, 2), (3, 0)]  # type: ignore[misc]
    for _, fds in got:  # type: ignore[misc]
        for fd in fds:
            os.close(fd)
    for fd in (r1, w1, r2, w2):
        os.close(fd)


async def test_a_lingering_helper_serves_later_engines_then_leaves(
        busybox_image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import time

    from engine import Engine
    from engine.helper.server import socket_path

    monkeypatch.setenv("SKIFF_HELPER_IDLE", "1.5")
    async with Engine() as first:
        await first._shared.helper.call("ping")
        pid = first._shared.helper.pid
    path = socket_path(first.system.helper_root, os.getuid())
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    async with Engine() as second:  # no new helper: the first one answers
        await second._shared.helper.call("ping")
        assert second._shared.helper.pid == pid
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and not _zombie(pid):
        assert time.monotonic() < deadline, "the lingering helper never left"
        await asyncio.sleep(0.1)
    assert not path.exists()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
