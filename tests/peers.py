"""Connections to a helper as another user would make them (for boundary tests)."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "NOBODY",
    "HelperPeer",
    "as_user",
    "connect_as",
    "container_spec",
    "socketpair_as",
    "unpack_layers",
    "wait_exited",
]

NOBODY = 65534


def _made_as(uid: int, make: Callable[[], Sequence[socket.socket]]) -> list[socket.socket]:
    """The sockets ``make()`` opens in a child running as ``uid`` (no groups), handed
    over to us; none if it failed."""
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            made = make()
            socket.send_fds(child, [b"x"], [sock.fileno() for sock in made])
        finally:
            os._exit(0)
    child.close()  # so a child that failed ends our wait
    try:
        _, fds, _, _ = socket.recv_fds(parent, 1, 8)
    finally:
        os.waitpid(pid, 0)
        parent.close()
    return [socket.socket(fileno=fd) for fd in fds]


def socketpair_as(uid: int) -> tuple[socket.socket, socket.socket]:
    """A socketpair created by a process running as ``uid``: SO_PEERCRED says ``uid``."""
    a, b = _made_as(uid, socket.socketpair)
    return a, b


class HelperPeer:
    """A real helper (``python -m engine.helper``) on storage root ``root``, with
    this object as its engine connected as user ``uid`` (root: 0). The helper
    starts in the calling thread's namespaces, in ``env`` or this environment."""

    def __init__(self, root: Path, uid: int, env: dict[str, str] | None = None,
                 cgroup_parent: str = "") -> None:
        from engine.wire import protocol

        self.protocol = protocol
        self.sock, theirs = socketpair_as(uid) if uid else socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.helper", "--root", str(root), "--cgroup-parent",
             cgroup_parent or os.environ.get("SKIFF_CGROUP_PARENT", "skiff-test")],
            stdin=theirs.fileno(), close_fds=True, env=env)
        theirs.close()
        self.reader = protocol.FrameReader(self.sock)
        self.ids = 0
        protocol.send_frame(self.sock, {"hello": protocol.VERSION})
        assert self._read()[0]["hello"] == protocol.VERSION

    def _read(self) -> tuple[dict[str, Any], list[int]]:
        item = self.reader.read()
        assert item is not None, "the helper hung up"
        return item

    def call(self, verb: str, args: dict[str, Any] | None = None,
             fds: list[int] | None = None) -> tuple[dict[str, Any], list[int]]:
        """The reply ({"result"} or {"error"}) and the fds that came with it."""
        self.ids += 1
        self.protocol.send_frame(self.sock, {"id": self.ids, "verb": verb,
                                             "args": args or {}}, fds)
        return self._read()

    def ok(self, verb: str, args: dict[str, Any] | None = None,
           fds: list[int] | None = None) -> Any:
        """The result of a verb that must succeed (the fds that came with it closed)."""
        reply, fds = self.call(verb, args, fds)
        for fd in fds:
            os.close(fd)
        assert "result" in reply, f"{verb}: {reply}"
        return reply["result"]

    def error(self, verb: str, args: dict[str, Any] | None = None) -> str:
        """The message of the error the verb must fail with."""
        reply, fds = self.call(verb, args)
        for fd in fds:
            os.close(fd)
        assert "error" in reply, f"{verb} did not fail: {reply}"
        return str(reply["error"]["message"])

    def close(self) -> None:
        self.sock.close()
        assert self.process.wait(20) == 0


def connect_as(uid: int, path: str) -> socket.socket:
    """A connection to the unix socket at ``path``, made by a process running as ``uid``
    (through /proc/self/fd, so the directories on the way need not be open to it)."""
    handle = os.open(path, os.O_PATH | os.O_CLOEXEC)

    def connect() -> list[socket.socket]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(f"/proc/self/fd/{handle}")
        return [sock]

    try:
        made = _made_as(uid, connect)
    finally:
        os.close(handle)
    if not made:
        raise ConnectionRefusedError(f"uid {uid} could not connect to {path}")
    return made[0]


def as_user(uid: int, gid: int, func: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """Run ``func(*args)`` in a child process that is ``uid``/``gid`` with no other
    groups: ("ok", its result) or ("errno", the errno of the OSError it raised)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            try:
                outcome: tuple[str, Any] = ("ok", func(*args))
            except OSError as exc:
                outcome = ("errno", exc.errno)
            os.write(w, pickle.dumps(outcome))
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    assert data, "the child failed before it could answer"
    return tuple(pickle.loads(data))  # type: ignore[return-value]


def container_spec(layers: list[str], args: list[str], **changes: Any) -> dict[str, Any]:
    """A container_create spec as the engine sends it: no network, no binds."""
    spec: dict[str, Any] = {
        "args": args, "env": [], "cwd": "/", "hostname": "h", "layers": layers,
        "restart_policy": "no", "restart_max": 0, "stop_signal": 15, "network_mode": "none",
        "ports": [], "exposed": [], "aliases": [], "name": "t", "binds": []}
    spec.update(changes)
    return spec


def unpack_layers(peer: HelperPeer, layers: list[tuple[str, str, Path]]) -> None:
    """Unpack ``(diff_id, digest, blob path)`` layers through ``peer``, as an engine does."""
    for diff_id, digest, path in layers:
        if peer.ok("claim_layer", {"diff_id": diff_id}):
            continue
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            peer.ok("unpack_layer", {"diff_id": diff_id, "digest": digest}, [fd])
        finally:
            os.close(fd)


def wait_exited(status_file: Path, timeout: float = 30.0) -> dict[str, Any]:
    """The container's status once its monitor recorded that it exited."""
    import json
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            status = json.loads(status_file.read_text())
        except (OSError, ValueError):
            status = {}
        if status.get("status") == "exited":
            return dict(status)
        assert time.monotonic() < deadline, f"still {status.get('status')!r} after {timeout} s"
        time.sleep(0.02)
