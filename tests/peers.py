"""Connections to a helper as another user would make them (for boundary tests)."""

from __future__ import annotations

import os
import socket

__all__ = ["NOBODY", "socketpair_as"]

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
