"""Socket activation: the listening socket systemd hands to ``skiff serve``.

With ``packaging/skiff-serve.socket`` enabled, systemd listens on the user's
socket and starts the service on the first connection, passing the socket as
file descriptor 3 with ``LISTEN_FDS=1`` and ``LISTEN_PID`` set to our pid
(sd_listen_fds(3)). The variables are removed once read, so nothing the server
starts believes the socket is its own.
"""

from __future__ import annotations

import os
import socket
from collections.abc import MutableMapping

__all__ = ["LISTEN_FDS_START", "activation_sockets"]

LISTEN_FDS_START = 3


def activation_sockets(environ: MutableMapping[str, str] | None = None) -> list[socket.socket]:
    """The listening sockets systemd passed to this process; [] when it passed none."""
    env = os.environ if environ is None else environ
    count = env.pop("LISTEN_FDS", "")
    pid = env.pop("LISTEN_PID", "")
    env.pop("LISTEN_FDNAMES", None)
    if not count.isdigit() or not pid.isdigit() or int(pid) != os.getpid():
        return []
    found = []
    for fd in range(LISTEN_FDS_START, LISTEN_FDS_START + int(count)):
        os.set_inheritable(fd, False)
        sock = socket.socket(fileno=fd)
        if sock.type != socket.SOCK_STREAM:
            sock.detach()
            raise OSError(f"systemd passed descriptor {fd}, which is no stream socket: "
                          "use ListenStream= in the socket unit")
        found.append(sock)
    return found
