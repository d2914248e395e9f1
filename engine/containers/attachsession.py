"""A client of a container's monitor: its output as it comes, our input to it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from engine.wire.attachstream import (
    EXIT,
    RESIZE,
    STDERR,
    STDIN,
    STDIN_CLOSE,
    STDOUT,
    FrameBuffer,
    frame,
)

__all__ = ["AttachSession"]

_STREAMS = {STDOUT: "stdout", STDERR: "stderr"}


class AttachSession:
    """Same shape as ExecSession: read(), write(), close_stdin(), resize(), close().

    ``exit_code`` is set when the monitor reports the container done for good.
    """

    def __init__(self, fd: int, tty: bool) -> None:
        self.tty = tty
        self.exit_code: int | None = None
        self._sock = socket.socket(fileno=fd)
        self._sock.setblocking(False)
        self._frames = FrameBuffer()
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._sock.fileno(), self._readable)
        self._open = True
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue()
        self._writer = self._loop.create_task(self._write_loop())

    def _readable(self) -> None:
        try:
            data = self._sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        try:
            frames = self._frames.feed(data) if data else []
        except ValueError:
            frames, data = [], b""
        for kind, payload in frames:
            if kind in _STREAMS:
                self._queue.put_nowait((_STREAMS[kind], payload))
            elif kind == EXIT:
                with contextlib.suppress(ValueError):
                    self.exit_code = int(payload)
        if not data:
            self._end()

    def _end(self) -> None:
        if self._open:
            self._open = False
            self._loop.remove_reader(self._sock.fileno())
            self._queue.put_nowait(("", b""))

    async def read(self) -> tuple[str, bytes]:
        """The next chunk as (stream, data); ("", b"") once the container is done."""
        if not self._open and self._queue.empty():
            return "", b""
        return await self._queue.get()

    async def write(self, data: bytes) -> None:
        self._outgoing.put_nowait(frame(STDIN, data))
        await self._outgoing.join()

    def close_stdin(self) -> None:
        self._outgoing.put_nowait(frame(STDIN_CLOSE))

    def resize(self, rows: int, cols: int) -> None:
        self._outgoing.put_nowait(frame(RESIZE, struct.pack(">HH", rows, cols)))

    async def _write_loop(self) -> None:
        """Frames go out in order; a vanished monitor just ends the writing."""
        while True:
            data = await self._outgoing.get()
            try:
                await self._loop.sock_sendall(self._sock, data)
            except OSError:
                pass
            finally:
                self._outgoing.task_done()

    async def wait(self) -> int | None:
        """The exit code once the output ended; None if the monitor did not say."""
        while self._open or not self._queue.empty():
            await asyncio.sleep(0.01)
        return self.exit_code

    def close(self) -> None:
        self._end()
        self._writer.cancel()
        self._sock.close()
