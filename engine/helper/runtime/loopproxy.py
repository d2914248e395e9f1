"""Ports published on the host's IPv6 loopback (``-p [::1]:8080:80``), relayed.

The kernel never routes ::1 off the host, so no DNAT rule can take such a
connection to a container (127.0.0.1 has route_localnet; ::1 has no twin). As
dockerd's docker-proxy does, a small process listens there and relays each TCP
connection to the container's IPv4 address, from inside the container's network
namespace (its sandbox): an address the container no longer has (disconnected) is
not reached, even once another container has it. The monitor starts it from the ports
in the network.json the helper wrote at start (the helper checked that the ports
are the caller's to take and free), and before it releases the network it stops
it and waits for it to end, so a start that follows finds the port free; it dies
with the monitor anyway (PR_SET_PDEATHSIG). It runs as nobody: it holds its
listening sockets and opens connections to the container, nothing more. UDP is
not relayed (the helper refuses it on ::1).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

__all__ = ["loopback_ports", "main", "start_relay", "stop_relay"]

_PR_SET_PDEATHSIG = 1
_NOBODY = 65534
_pid = 0  # the monitor's relay, inherited by the children it forks to release


def loopback_ports(settings: dict[str, Any]) -> list[tuple[int, str, int]]:
    """(host port, container address, container port) of each TCP port network.json
    publishes on ::1."""
    target = str(settings.get("IPAddress") or "")
    found = []
    for key, bindings in (settings.get("Ports") or {}).items():
        port, _, protocol = str(key).partition("/")
        for binding in bindings or ():
            if protocol == "tcp" and binding.get("HostIp") == "::1" and target:
                found.append((int(binding["HostPort"]), target, int(port)))
    return found


def start_relay(directory: Path) -> None:
    """Relay the container's ports on ::1 (none: nothing is started)."""
    global _pid
    try:
        ports = loopback_ports(json.loads((directory / "network.json").read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    if not ports:
        return
    from engine.helper.runtime.launch import python_module

    try:
        sandbox = os.open(directory / "netns", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # no sandbox of its own: nothing to relay to
    listeners = []
    try:
        os.set_inheritable(sandbox, True)
        for host_port, _, _ in ports:
            listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            listeners.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("::1", host_port))
            listener.listen(128)
            listener.set_inheritable(True)
        specs = [f"{s.fileno()},{target},{port}"
                 for s, (_, target, port) in zip(listeners, ports, strict=True)]
        _pid = os.posix_spawn(sys.executable, [*python_module(__name__), str(os.getpid()),
                                               str(sandbox), *specs], {"PATH": "/usr/bin:/bin"})
    finally:
        os.close(sandbox)
        for listener in listeners:
            listener.close()


def stop_relay() -> None:
    """End the relay, if any, and wait until it has (its ports are free then)."""
    global _pid
    pid, _pid = _pid, 0
    if not pid:
        return
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    import select

    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        select.select([pidfd], [], [], 10)
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)


def main(argv: list[str]) -> int:
    """``PARENT_PID NETNS_FD FD,ADDRESS,PORT ...``: relay each listener's connections
    (listening in the host's namespace, connecting from the sandbox's)."""
    import threading  # here: the monitor that imports this module has no thread

    from engine.helper.runtime.kernel import LINUX

    LINUX.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(argv[1]):
        return 0  # the monitor is gone already
    from engine.helper.syscalls import CLONE_NEWNET, setns

    setns(int(argv[2]), CLONE_NEWNET)  # one thread yet: the threads to come are in it too
    os.close(int(argv[2]))
    relays = []
    for spec in argv[3:]:
        fd, address, port = spec.split(",")
        relays.append((socket.socket(fileno=int(fd)), (address, int(port))))
    import encodings.idna  # noqa: F401  (connect's codec: nobody may not read the library)

    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(_NOBODY)
        os.setuid(_NOBODY)
    for listener, target in relays:
        threading.Thread(target=_accept, args=(listener, target), daemon=True).start()
    threading.Event().wait()
    return 0


def _accept(listener: socket.socket, target: tuple[str, int]) -> None:
    import threading

    while True:
        try:
            client, _ = listener.accept()
        except (ConnectionError, InterruptedError):
            continue
        except OSError:
            return
        threading.Thread(target=_relay, args=(client, target), daemon=True).start()


def _relay(client: socket.socket, target: tuple[str, int]) -> None:
    import threading

    with client:
        try:
            upstream = socket.create_connection(target, timeout=10)
        except OSError:
            return  # the client sees the connection closed, as with docker-proxy
        with upstream:
            upstream.settimeout(None)
            back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
            back.start()
            _pump(client, upstream)
            back.join()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until the end of ``source``, then end ``sink``'s writing side."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
