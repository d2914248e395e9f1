"""The attach stream between a container's monitor and an attached client.

Frames of ``>BI`` (kind, length) and that many bytes. From the monitor:
STDOUT and STDERR data (a TTY container only sends STDOUT) and EXIT with the
exit code as text when the container has finished for good. From the client:
STDIN data, STDIN_CLOSE, and RESIZE with ``>HH`` rows and columns.
"""

from __future__ import annotations

import struct

__all__ = ["EXIT", "HEADER", "RESIZE", "STDERR", "STDIN", "STDIN_CLOSE", "STDOUT", "FrameBuffer",
           "frame"]

STDIN, STDOUT, STDERR, RESIZE, STDIN_CLOSE, EXIT = 0, 1, 2, 3, 4, 5
HEADER = struct.Struct(">BI")
MAX_FRAME = 1 << 20


def frame(kind: int, data: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(data)) + data


class FrameBuffer:
    """Collects bytes as they arrive and hands out whole frames."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        self._data += chunk
        frames = []
        while len(self._data) >= HEADER.size:
            kind, length = HEADER.unpack_from(self._data)
            if length > MAX_FRAME:
                raise ValueError(f"attach frame of {length} bytes is too large")
            end = HEADER.size + length
            if len(self._data) < end:
                break
            frames.append((kind, bytes(self._data[HEADER.size:end])))
            del self._data[:end]
        return frames
