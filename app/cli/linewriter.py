"""Container output records written to our stdout and stderr, as bytes, unchanged.

The plain writer that ``logs`` without ``--follow`` uses as it is (no event
loop: that command never imports asyncio) and that logstream's LogWriter
flushes on a timer while following.
"""

from __future__ import annotations

import io

from engine import format_rfc3339, rfc3339_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

__all__ = ["LineWriter"]


class LineWriter:
    """Writes LogLine records to two byte streams; ``flush`` pushes them out."""

    def __init__(self, out: IO[bytes], err: IO[bytes], timestamps: bool = False) -> None:
        self.out = _buffered(out)
        self.err = _buffered(err)
        self.timestamps = timestamps
        self.count = 0
        self._dirty = False

    def write(self, line: Any) -> None:
        stream = self.err if line.stream == "stderr" else self.out
        if self.timestamps:
            ns = rfc3339_ns(line.time)
            stamp = format_rfc3339(ns) if ns is not None else line.time
            stream.write(stamp.encode() + b" ")
        stream.write(line.data)
        if not line.partial:
            stream.write(b"\n")
        self.count += 1
        self._dirty = True

    def flush(self) -> None:
        if self._dirty:
            self._dirty = False
            self.out.flush()
            self.err.flush()


def _buffered(stream: IO[bytes]) -> IO[bytes]:
    """``stream``, with a buffer of its own if it has none: under PYTHONUNBUFFERED (or
    ``python -u``) sys.stdout.buffer is the raw file, and each line cost two write
    calls (`skiff run` of 1M lines: 17 s of them). The buffer leaves the descriptor
    open, as it is stdout's."""
    if isinstance(stream, io.RawIOBase):
        return io.BufferedWriter(io.FileIO(stream.fileno(), "wb", closefd=False))
    return stream
