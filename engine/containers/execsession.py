"""A process started in a running container, with its streams in our hands.

The helper hands over file descriptors: with a TTY, the pseudo-terminal's
master (so resizes are a local ioctl); without, pipes for stdin, stdout and
stderr. An exit-status pipe delivers the exit code when the process ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import termios

__all__ = ["ExecSession"]


class ExecSession:
    def __init__(self, fds: list[int], tty: bool) -> None:
        self.tty = tty
        if tty:
            master, self._status = fds
            self._stdin = master
            self._outputs = {master: "stdout"}
        else:
            self._stdin, out, err, self._status = fds
            self._outputs = {out: "stdout", err: "stderr"}
        for fd in self._outputs:
            os.set_blocking(fd, False)
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._open = set(self._outputs)
        for fd in self._outputs:
            self._loop.add_reader(fd, self._readable, fd)
        self._code: int | None = None

    def _readable(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty's last slave closed
            data = b""
        if data:
            self._queue.put_nowait((self._outputs[fd], data))
            return
        self._loop.remove_reader(fd)
        self._open.discard(fd)
        if not self._open:
            self._queue.put_nowait(("", b""))

    async def read(self) -> tuple[str, bytes]:
        """The next chunk as (stream, data); ("", b"") once every stream ended."""
        if not self._open and self._queue.empty():
            return "", b""
        return await self._queue.get()

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._stdin, view)
                view = view[written:]
            except BlockingIOError:
                await asyncio.sleep(0.01)

    def close_stdin(self) -> None:
        """End of input (without a TTY; with one, send Ctrl-D instead)."""
        if not self.tty and self._stdin >= 0:
            os.close(self._stdin)
            self._stdin = -1

    def resize(self, rows: int, cols: int) -> None:
        if self.tty:
            fcntl.ioctl(self._stdin, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    async def wait(self) -> int:
        """The exit code, once the process ended."""
        if self._code is None:
            data = await self._loop.run_in_executor(None, _read_all, self._status)
            try:
                self._code = int(data.strip() or b"-1")
            except ValueError:
                self._code = -1
        return self._code

    def close(self) -> None:
        for fd in list(self._open):
            self._loop.remove_reader(fd)
        fds = {*self._outputs, self._status}
        if self._stdin >= 0:
            fds.add(self._stdin)
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._open.clear()


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 64):
        chunks.append(chunk)
    return b"".join(chunks)
