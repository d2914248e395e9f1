"""Reading a container's log: tail, since/until, and follow, across rotated files.

The monitor rotates the log (engine/wire/logformat.py): ``ctr.log.2``,
``ctr.log.1`` hold older records and ``ctr.log`` the newest. They are read in
that order; ``--tail`` counts back across them, and following goes on in the
new file when the current one is rotated away.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from engine.containers.model import LogLine
from engine.wire.logformat import log_files, parse_record, parse_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

__all__ = ["log_lines", "read_log"]

_CHUNK = 1 << 16


def _tail_offset(fd: int, size: int, lines: int) -> tuple[int, int]:
    """(offset of the start of the last ``lines`` records, how many records that is)."""
    if lines <= 0:
        return size, 0
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
                return position + index + 1, count
    return 0, count + (1 if size else 0)


def _tail_start(files: list[str], lines: int) -> tuple[int, int]:
    """(index of the file, offset in it) where the last ``lines`` records begin."""
    wanted = lines
    for index in range(len(files) - 1, -1, -1):
        try:
            fd = os.open(files[index], os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            offset, found = _tail_offset(fd, os.fstat(fd).st_size, wanted)
        finally:
            os.close(fd)
        wanted -= found
        if wanted <= 0 or index == 0:
            return index, offset
    return len(files) - 1, 0


class _Filter:
    def __init__(self, since_ns: int | None, until_ns: int | None) -> None:
        self.since_ns = since_ns
        self.until_ns = until_ns
        self.done = False  # a record past ``until`` was seen: nothing later counts

    def lines(self, raw_lines: list[bytes]) -> Iterator[LogLine]:
        for raw in raw_lines:
            record = parse_record(raw)
            if record is None:
                continue
            stamp, stream, partial, content = record
            if self.since_ns is not None or self.until_ns is not None:
                ns = parse_time(stamp)
                if self.since_ns is not None and ns < self.since_ns:
                    continue
                if self.until_ns is not None and ns > self.until_ns:
                    self.done = True
                    return
            yield LogLine(stream, stamp, content, partial)


def _rotated_lines(path: str, offset: int, *, partial: bool = True
                   ) -> Iterator[list[bytes]]:
    """A rotated file's records from ``offset``, a chunk of lines at a time
    (``partial``: with a last record that has no newline yet)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        pending = b""
        while data := os.pread(fd, 1 << 20, offset):
            offset += len(data)
            lines = (pending + data).split(b"\n")
            pending = lines.pop()
            yield lines
        if pending and partial:
            yield [pending]
    finally:
        os.close(fd)


def log_lines(path: str | PathLike[str], *, tail: int | None = None, since_ns: int | None = None,
              until_ns: int | None = None) -> Iterator[LogLine]:
    """What the log holds now (its last ``tail`` records), without following it:
    plain reads, no event loop (``skiff logs --tail`` runs without asyncio)."""
    wanted = _Filter(since_ns, until_ns)
    files = log_files(path)
    first, first_offset = _tail_start(files, tail) if tail is not None else (0, 0)
    for index in range(first, len(files)):
        current = index == len(files) - 1  # its last record may be half written
        for lines in _rotated_lines(files[index], first_offset if index == first else 0,
                                    partial=not current):
            yield from wanted.lines(lines)
            if wanted.done:
                return


async def read_log(path: str | PathLike[str], *, follow: bool = False, tail: int | None = None,
                   since_ns: int | None = None, until_ns: int | None = None,
                   running: Callable[[], Awaitable[bool]] | None = None,
                   poll: float = 0.05) -> AsyncIterator[LogLine]:
    import asyncio  # here, not at the top: log_lines runs without it

    wanted = _Filter(since_ns, until_ns)
    files = log_files(path)
    first, first_offset = _tail_start(files, tail) if tail is not None else (0, 0)
    for index in range(first, len(files) - 1):
        for lines in _rotated_lines(files[index], first_offset if index == first else 0):
            for line in wanted.lines(lines):
                yield line
            if wanted.done:
                return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        if not follow or running is None:
            return
        while not os.path.exists(path):
            if not await running():
                return
            await asyncio.sleep(poll)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        offset = first_offset if first == len(files) - 1 else 0
        pending = b""
        delay = 0.005
        while True:
            data = os.pread(fd, 1 << 20, offset)
            if data:
                offset += len(data)
                delay = 0.005
                lines = (pending + data).split(b"\n")
                pending = lines.pop()
                for line in wanted.lines(lines):
                    yield line
                if wanted.done:
                    return
                continue
            if os.fstat(fd).st_size < offset:  # rotated in place (max-file=1): from its start
                offset, pending = 0, b""
                continue
            if _rotated_away(path, fd):  # all of the old file was read: on to the next
                try:
                    successor = _open_successor(path, fd)
                except FileNotFoundError:  # renamed again meanwhile: look once more
                    await asyncio.sleep(delay)
                    continue
                os.close(fd)
                fd, offset, pending = successor, 0, b""
                continue
            if not follow:
                return
            # Nothing new: if the container is done, what it wrote is all there is.
            if running is not None and not await running():
                if os.fstat(fd).st_size > offset or _rotated_away(path, fd):
                    continue
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, poll)
    finally:
        os.close(fd)


def _open_successor(path: str | PathLike[str], fd: int) -> int:
    """The file written after ours: ours is now ``path.N``, so ``path.(N-1)``, or
    ``path`` itself (several rotations may have passed while we read). When ours
    is gone (beyond max-file), every file left is newer: the oldest loses least."""
    ours = os.fstat(fd).st_ino
    index = 1
    while True:
        try:
            if os.stat(f"{path}.{index}").st_ino == ours:
                break
        except FileNotFoundError:
            break  # path.1 .. path.(index-1) exist, all newer than ours
        index += 1
    successor = path if index == 1 else f"{path}.{index - 1}"
    return os.open(successor, os.O_RDONLY | os.O_CLOEXEC)


def _rotated_away(path: str | PathLike[str], fd: int) -> bool:
    try:
        return os.stat(path).st_ino != os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
