"""Docker's stream shapes: JSON lines, the multiplexed framing, the hijacked connection.

Attach and exec start take the connection over as dockerd's hijack does: the
client asks ``Connection: Upgrade``/``Upgrade: tcp`` and gets
``101 UPGRADED``; from then on the socket carries the container's stdin one
way and its output the other. Without a TTY, output goes in frames of an
8-byte header (stream 1 stdout, 2 stderr; then the length, big-endian) and
the payload; with a TTY, raw. The client may half-close its side when its
stdin ends: the output keeps flowing until the process is done.

aiohttp's protocol closes a connection when the peer half-closes, so the
hijack hands the transport to :class:`Hijacked`, a protocol of our own that
keeps the write side open.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import socket
import struct
import termios
from typing import Any

from aiohttp import web

from app.api import versions

__all__ = ["STDERR", "STDOUT", "Hijacked", "Taken", "frame", "hijack", "json_line"]

STDIN, STDOUT, STDERR = 0, 1, 2
_STREAM_IDS = {"stdin": STDIN, "stdout": STDOUT, "stderr": STDERR}

#: Stop reading from the client above this much unread stdin.
_READ_LIMIT = 1 << 20


def json_line(data: Any) -> bytes:
    return json.dumps(data).encode() + b"\n"


def frame(stream: str | int, data: bytes) -> bytes:
    """One frame of Docker's multiplexed stream."""
    kind = _STREAM_IDS[stream] if isinstance(stream, str) else stream
    return struct.pack(">BxxxL", kind, len(data)) + data


class Hijacked(asyncio.Protocol):
    """A hijacked connection: ``read()`` the client's bytes, ``write()`` ours.

    ``read()`` returns b"" once the client half-closed (or left); writing goes on
    until :meth:`close`. ``lost`` is set when the connection is gone for good.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.lost = asyncio.Event()
        self._incoming = bytearray()
        self._eof = False
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._paused_reading = False

    # asyncio.Protocol
    def data_received(self, data: bytes) -> None:
        self._incoming += data
        self._readable.set()
        if len(self._incoming) > _READ_LIMIT and not self._paused_reading:
            self._paused_reading = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._readable.set()
        return True  # keep our side open: the output is not done

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._readable.set()
        self._writable.set()
        self.lost.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # ours
    async def read(self) -> bytes:
        while not self._incoming and not self._eof:
            self._readable.clear()
            await self._readable.wait()
        data = bytes(self._incoming)
        self._incoming.clear()
        if self._paused_reading:
            self._paused_reading = False
            self.transport.resume_reading()
        return data

    async def write(self, data: bytes) -> None:
        if self.lost.is_set() or self.transport.is_closing():
            raise ConnectionResetError("the client closed the connection")
        self.transport.write(data)
        await self._writable.wait()

    async def head_taken(self, limit: float = 1.0) -> None:
        """Wait (``limit`` seconds at most) until the client has read what went out.

        A client that reads the head through a buffered reader (docker-py, through
        http.client) drops the output that arrived along with it. On a Unix socket
        the kernel counts what the peer has yet to read (SIOCOUTQ).
        """
        sock = self.transport.get_extra_info("socket")
        if sock is None or sock.family != socket.AF_UNIX:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while not self.lost.is_set() and loop.time() < deadline:
            unread = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
            if not self.transport.get_write_buffer_size() and not int.from_bytes(
                    unread, "little"):
                return
            await asyncio.sleep(0.002)

    def close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


class Taken(web.StreamResponse):
    """What a handler that hijacked its connection returns: aiohttp has nothing
    left to write (the head went out by hand), and closes the connection."""

    async def prepare(self, request: web.BaseRequest) -> None:
        return None

    async def write_eof(self, data: bytes | bytearray | memoryview = b"") -> None:
        return None


def hijack(request: web.Request, content_type: str) -> Hijacked:
    """Answer ``101 UPGRADED`` (or 200 to a client that did not ask to upgrade) and
    take the connection over; the handler then returns :class:`Taken`."""
    transport = request.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("the client closed the connection")
    assert isinstance(transport, asyncio.Transport)
    stream = Hijacked(transport)
    transport.set_protocol(stream)  # whatever follows the head is the client's stdin
    request.protocol.keep_alive(False)  # no HTTP after this on the connection
    upgrade = request.headers.get("Upgrade", "").lower() == "tcp"
    head = ["HTTP/1.1 101 UPGRADED" if upgrade else "HTTP/1.1 200 OK",
            f"Content-Type: {content_type}"]
    if upgrade:
        head += ["Connection: Upgrade", "Upgrade: tcp"]
    head += [f"{key}: {value}" for key, value in versions.server_headers().items()]
    transport.write(("\r\n".join(head) + "\r\n\r\n").encode())
    return stream
