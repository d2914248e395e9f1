"""A process started in a running container, with its streams in our hands.

The helper hands over file descriptors: with a TTY, the pseudo-terminal's
master (so resizes are a local ioctl); without, pipes for stdin, stdout and
stderr. An exit-status pipe delivers the exit code when the process ends; it
is watched on the event loop, so the code is known (and ``on_exit`` told, for
the exec_die event) even when nobody waits for it, until the process ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import termios
from collections.abc import Callable

__all__ = ["ExecSession"]


class ExecSession:
    def __init__(self, fds: list[int], tty: bool, exec_id: str = "",
                 on_exit: Callable[[int], None] | None = None) -> None:
        self.tty = tty
        self.id = exec_id
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
        self._on_exit = on_exit
        self._exited: asyncio.Future[int] = self._loop.create_future()
        self._status_data = b""
        os.set_blocking(self._status, False)
        self._loop.add_reader(self._status, self._status_readable)

    def _status_readable(self) -> None:
        try:
            data = os.read(self._status, 64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self._status_data += data
            return
        self._loop.remove_reader(self._status)
        with contextlib.suppress(OSError):
            os.close(self._status)
        self._status = -1
        try:
            self._code = int(self._status_data.strip() or b"-1")
        except ValueError:
            self._code = -1
        if not self._exited.done():
            self._exited.set_result(self._code)
        if self._on_exit is not None:
            self._on_exit(self._code)

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
        return await asyncio.shield(self._exited)

    def close(self) -> None:
        """Close its streams; its exit status is still read when the process ends."""
        for fd in list(self._open):
            self._loop.remove_reader(fd)
        fds = {*self._outputs}
        if self._stdin >= 0:
            fds.add(self._stdin)
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._open.clear()

