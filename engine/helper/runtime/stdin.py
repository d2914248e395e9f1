"""A container's input, as its monitor writes it: never blocking the monitor's loop."""

from __future__ import annotations

import fcntl
import os
import stat
import struct
import termios

__all__ = ["Stdin", "set_winsize"]


class Stdin:
    """The container's input: written without ever blocking the monitor."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.backlog = bytearray()
        if fd >= 0:
            os.set_blocking(fd, False)

    def write(self, data: bytes) -> None:
        if self.fd >= 0:
            self.backlog += data
            self.flush()

    def flush(self) -> None:
        if self.fd < 0 or not self.backlog:
            return
        try:
            written = os.write(self.fd, self.backlog)
            del self.backlog[:written]
        except BlockingIOError:
            pass
        except OSError:
            self.backlog.clear()

    def close(self) -> None:
        if self.fd >= 0 and not self.backlog:
            # the pty master is closed with the streams; a pipe's end means EOF
            try:
                if stat.S_ISFIFO(os.fstat(self.fd).st_mode):
                    os.close(self.fd)
            except OSError:
                pass
            self.fd = -1


def set_winsize(fd: int, rows: int, cols: int) -> None:
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    except OSError:
        pass
