"""Connections to a helper as another user would make them (for boundary tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

__all__ = ["NOBODY", "HelperPeer", "socketpair_as"]

NOBODY = 65534


def socketpair_as(uid: int) -> tuple[socket.socket, socket.socket]:
    """A socketpair created by a process running as ``uid``: SO_PEERCRED says ``uid``."""
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            a, b = socket.socketpair()
            socket.send_fds(child, [b"x"], [a.fileno(), b.fileno()])
        finally:
            os._exit(0)
    _, fds, _, _ = socket.recv_fds(parent, 1, 2)
    os.waitpid(pid, 0)
    parent.close()
    child.close()
    return socket.socket(fileno=fds[0]), socket.socket(fileno=fds[1])


class HelperPeer:
    """The engine's end of a connection to a real helper (storage under ``root``), for a
    caller running as ``uid``."""

    def __init__(self, root: Path, uid: int, env: dict[str, str] | None = None) -> None:
        from engine.helper import protocol

        self.protocol = protocol
        self.sock, theirs = socketpair_as(uid)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.helper", "--root", str(root),
             "--cgroup-parent", os.environ["SKIFF_CGROUP_PARENT"]],
            stdin=theirs.fileno(), close_fds=True, env=env)
        theirs.close()
        self.reader = protocol.FrameReader(self.sock)
        protocol.send_frame(self.sock, {"hello": protocol.VERSION})
        assert self._read()[0]["hello"] == protocol.VERSION
        self.ids = 0

    def _read(self) -> tuple[dict[str, object], list[int]]:
        item = self.reader.read()
        assert item is not None, "the helper hung up"
        return item

    def call(self, verb: str, args: dict[str, object], fds: list[int] | None = None
             ) -> tuple[dict[str, object], list[int]]:
        self.ids += 1
        self.protocol.send_frame(self.sock, {"id": self.ids, "verb": verb, "args": args}, fds)
        return self._read()

    def close(self) -> None:
        self.sock.close()
        assert self.process.wait(20) == 0
