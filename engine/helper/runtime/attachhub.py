"""The monitor's side of attaching: clients that see the output and type the input.

A client is a connected socket: one handed in at start (``run -it``), or one
accepted on the container's ``attach.sock`` (``skiff attach``). Output goes to
every client without ever blocking the monitor: a client that falls more than
a few MiB behind is dropped (the log still has everything).
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.wire.attachstream import (
    EXIT,
    RESIZE,
    STDIN,
    STDIN_CLOSE,
    FrameBuffer,
    frame,
)

__all__ = ["AttachHub", "attach_listener", "short_path"]

_MAX_BACKLOG = 4 << 20


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.frames = FrameBuffer()
        self.backlog = bytearray()


class AttachHub:
    def __init__(self, listener: socket.socket | None) -> None:
        self.listener = listener
        if listener is not None:
            listener.setblocking(False)
        self.clients: dict[int, _Client] = {}
        self.on_stdin: Callable[[bytes], None] = lambda data: None
        self.on_stdin_close: Callable[[], None] = lambda: None
        self.on_resize: Callable[[int, int], None] = lambda rows, cols: None
        self.ever_attached = False

    def listen(self, listener: socket.socket) -> None:
        """Accept clients on ``listener`` from now on."""
        listener.setblocking(False)
        self.listener = listener

    def add(self, sock: socket.socket) -> None:
        client = _Client(sock)
        self.clients[sock.fileno()] = client
        self.ever_attached = True

    def fds(self) -> list[int]:
        """What the monitor should watch for reading."""
        watched = list(self.clients)
        if self.listener is not None:
            watched.append(self.listener.fileno())
        return watched

    def writers(self) -> list[int]:
        return [fd for fd, c in self.clients.items() if c.backlog]

    def readable(self, fd: int) -> bool:
        """Handle a readable fd if it is ours; False if it is not."""
        if self.listener is not None and fd == self.listener.fileno():
            with contextlib.suppress(BlockingIOError, InterruptedError):
                sock, _ = self.listener.accept()
                self.add(sock)
            return True
        client = self.clients.get(fd)
        if client is None:
            return False
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            self._drop(fd)
            self.on_stdin_close()  # the client went: like docker's StdinOnce
            return True
        try:
            frames = client.frames.feed(data)
        except ValueError:
            self._drop(fd)
            return True
        for kind, payload in frames:
            if kind == STDIN:
                self.on_stdin(payload)
            elif kind == STDIN_CLOSE:
                self.on_stdin_close()
            elif kind == RESIZE and len(payload) == 4:
                rows, cols = struct.unpack(">HH", payload)
                self.on_resize(rows, cols)
        return True

    def writable(self, fd: int) -> None:
        client = self.clients.get(fd)
        if client is not None:
            self._flush(fd, client)

    def send(self, kind: int, data: bytes) -> None:
        for fd, client in list(self.clients.items()):
            client.backlog += frame(kind, data)
            self._flush(fd, client)

    def finish(self, exit_code: int) -> None:
        """The container is done for good: tell the clients, then let them go."""
        self.send(EXIT, str(exit_code).encode())
        for fd, client in list(self.clients.items()):
            if client.backlog:
                client.sock.setblocking(True)
                client.sock.settimeout(2)
                with contextlib.suppress(OSError):
                    client.sock.sendall(client.backlog)
            self._drop(fd)
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def _flush(self, fd: int, client: _Client) -> None:
        try:
            sent = client.sock.send(client.backlog)
            del client.backlog[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._drop(fd)
            return
        if len(client.backlog) > _MAX_BACKLOG:
            self._drop(fd)

    def _drop(self, fd: int) -> None:
        client = self.clients.pop(fd, None)
        if client is not None:
            client.sock.close()


@contextlib.contextmanager
def short_path(path: Path) -> Iterator[str]:
    """``path`` as a socket address short enough for AF_UNIX (108 bytes): through
    /proc/self/fd of its directory, since container dirs sit deep."""
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def attach_listener(path: Path) -> socket.socket:
    """A container's attach socket, where the helper connects ``skiff attach`` (root only)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    old = os.umask(0o177)
    try:
        with short_path(path) as short:
            listener.bind(short)
    finally:
        os.umask(old)
    listener.listen(8)
    return listener
