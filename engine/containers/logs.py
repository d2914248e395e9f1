"""Reading a container's log file: tail, since/until, and follow."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from engine.containers.logformat import parse_record, parse_time
from engine.containers.model import LogLine

__all__ = ["read_log"]

_CHUNK = 1 << 16


def _tail_offset(fd: int, size: int, lines: int) -> int:
    """Offset of the start of the last ``lines`` records."""
    if lines <= 0:
        return size
    position = size
    count = 0
    while position > 0:
        step = min(_CHUNK, position)
        position -= step
        block = os.pread(fd, step, position)
        if position + step == size and block.endswith(b"\n"):
            block = block[:-1]  # the last record's own newline separates nothing
        index = len(block)
        while True:
            index = block.rfind(b"\n", 0, index)
            if index < 0:
                break
            count += 1
            if count == lines:
                return position + index + 1
    return 0


async def read_log(path: Path, *, follow: bool = False, tail: int | None = None,
                   since_ns: int | None = None, until_ns: int | None = None,
                   running: Callable[[], Awaitable[bool]] | None = None,
                   poll: float = 0.05) -> AsyncIterator[LogLine]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        if not follow or running is None:
            return
        while not path.exists():
            if not await running():
                return
            await asyncio.sleep(poll)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        offset = _tail_offset(fd, size, tail) if tail is not None else 0
        pending = b""
        delay = 0.005
        while True:
            data = os.pread(fd, 1 << 20, offset)
            if data:
                offset += len(data)
                delay = 0.005
                data = pending + data
                lines = data.split(b"\n")
                pending = lines.pop()
                for raw in lines:
                    record = parse_record(raw)
                    if record is None:
                        continue
                    stamp, stream, partial, content = record
                    if since_ns is not None or until_ns is not None:
                        ns = parse_time(stamp)
                        if since_ns is not None and ns < since_ns:
                            continue
                        if until_ns is not None and ns > until_ns:
                            return
                    yield LogLine(stream, stamp, content, partial)
                continue
            if not follow:
                return
            # Nothing new: if the container is done, what it wrote is all there is.
            if running is not None and not await running():
                if os.fstat(fd).st_size > offset:
                    continue
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, poll)
    finally:
        os.close(fd)
