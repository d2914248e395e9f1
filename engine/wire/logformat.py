"""The container log file format: one CRI record per line.

    2026-11-23T15:59:00.123456789Z stdout F hello world

The stream, then F for a full line or P for a partial one that the next record
continues. Text, appendable, greppable, and cheap to write at 100k lines a
second: the monitor stamps every line read in one chunk with that read's time.
The desktop log view indexes this file directly.
"""

from __future__ import annotations

import errno
import os
import time

from engine.timestamps import format_rfc3339, rfc3339_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path

__all__ = ["MAX_RECORD", "format_time", "parse_record", "parse_time"]

MAX_RECORD = 16 * 1024  # longer lines are split into P records


def format_time(ns: int) -> str:
    """RFC 3339 with nanoseconds in UTC, as docker prints timestamps."""
    return format_rfc3339(ns)


def parse_time(text: str) -> int:
    """Nanoseconds since the epoch of a record's RFC 3339 timestamp; ValueError if malformed."""
    ns = rfc3339_ns(text)
    if ns is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    return ns


def parse_record(line: bytes) -> tuple[str, str, bool, bytes] | None:
    """(time, stream, partial, content) of one record without its newline."""
    try:
        ts, stream, tag, content = line.split(b" ", 3)
    except ValueError:
        parts = line.split(b" ")
        if len(parts) == 3:  # an empty line: "TS stream F"
            ts, stream, tag = parts
            content = b""
        else:
            return None
    return ts.decode(), stream.decode(), tag == b"P", content


class LogWriter:
    """Turns chunks read from the container's pipes into records, per stream.

    With a ``path`` and ``max_size``, the file is rotated as Docker's json-file and
    local drivers do: past ``max_size`` bytes it becomes ``<path>.1`` (older ones
    move up, ``<path>.<max_files - 1>`` is the oldest kept) and a new file starts.
    A full disk never stops the container: records are dropped while writing
    fails, counted, and a marker record says how many once writing works again.
    """

    def __init__(self, fd: int, path: Path | None = None, max_size: int = 0,
                 max_files: int = 1) -> None:
        self.fd = fd
        self.path = path
        self.max_size = max_size if path is not None else 0
        self.max_files = max(1, max_files)
        self.dropped = 0  # records lost to a full disk, not yet told
        self._size = os.fstat(fd).st_size if self.max_size else 0
        self._pending: dict[str, bytes] = {"stdout": b"", "stderr": b""}

    def feed(self, stream: str, chunk: bytes, now_ns: int | None = None) -> None:
        prefix = f"{format_time(now_ns or time.time_ns())} {stream} ".encode()
        data = self._pending[stream] + chunk
        lines = data.split(b"\n")
        rest = lines.pop()
        out = [prefix + b"F " + line + b"\n" for line in lines if len(line) <= MAX_RECORD]
        if len(out) != len(lines):
            out = []
            for line in lines:
                out.extend(_split_long(prefix, line))
        while len(rest) > MAX_RECORD:
            out.append(prefix + b"P " + rest[:MAX_RECORD] + b"\n")
            rest = rest[MAX_RECORD:]
        self._pending[stream] = rest
        if out:
            self._write(b"".join(out), now_ns)

    def flush(self, now_ns: int | None = None) -> None:
        """At end of stream: whatever is pending becomes a final record."""
        for stream, rest in self._pending.items():
            if rest:
                prefix = f"{format_time(now_ns or time.time_ns())} {stream} ".encode()
                self._write(prefix + b"F " + rest + b"\n", now_ns)
                self._pending[stream] = b""

    def _write(self, data: bytes, now_ns: int | None = None) -> None:
        if self.dropped:
            marker = (f"{format_time(now_ns or time.time_ns())} stderr F [skiff: "
                      f"{self.dropped} log lines were dropped while the disk was full]\n")
            owed, self.dropped = self.dropped, 0
            if not self._append(marker.encode()):
                self.dropped = owed  # still full: the marker is owed again
        if self.max_size and self._size + len(data) > self.max_size:
            # The log may have been cleared since (the helper cut it to nothing).
            self._size = os.fstat(self.fd).st_size
        # Whole records per file: a chunk that does not fit is cut at a record's end.
        while self.max_size and self._size + len(data) > self.max_size:
            cut = data.rfind(b"\n", 0, self.max_size - self._size) + 1
            if cut <= 0:
                if self._size:
                    self._rotate()
                    continue
                cut = data.find(b"\n") + 1 or len(data)  # one record above max-size
            self._append(data[:cut])
            data = data[cut:]
            self._rotate()
        if data:
            self._append(data)

    def _append(self, data: bytes) -> bool:
        """False when the disk is full: its records are counted as dropped."""
        view = memoryview(data)
        try:
            while view:
                written = _write_all(self.fd, view)
                view = view[written:]
                self._size += written
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise
            self.dropped += max(1, bytes(view).count(b"\n"))
            if len(view) != len(data):  # a torn record is ended, so the next one parses
                _write_quietly(self.fd, b"\n")
            return False
        return True

    def _rotate(self) -> None:
        assert self.path is not None
        path = self.path
        try:
            if self.max_files == 1:
                os.ftruncate(self.fd, 0)  # one file: start it again
                self._size = 0
                return
            for n in range(self.max_files - 1, 1, -1):
                older = path.with_name(f"{path.name}.{n - 1}")
                if older.exists():
                    os.replace(older, path.with_name(f"{path.name}.{n}"))
            os.replace(path, path.with_name(f"{path.name}.1"))
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o640)  # the owner reads it by the dir's default ACL
        except OSError:
            return  # (a full disk): keep appending where we are
        os.dup2(fd, self.fd, inheritable=False)  # the same number: whoever holds it keeps it
        os.close(fd)
        self._size = 0


def _write_all(fd: int, view: memoryview) -> int:
    return os.write(fd, view)


def _write_quietly(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
    except OSError:
        pass


def log_files(path: str | PathLike[str]) -> list[str]:
    """A container's log, oldest rotated file first and the current one last."""
    current = os.fspath(path)
    rotated = []
    n = 1
    while os.path.exists(older := f"{current}.{n}"):
        rotated.append(older)
        n += 1
    return [*reversed(rotated), current]


def _split_long(prefix: bytes, line: bytes) -> list[bytes]:
    out = []
    while len(line) > MAX_RECORD:
        out.append(prefix + b"P " + line[:MAX_RECORD] + b"\n")
        line = line[MAX_RECORD:]
    out.append(prefix + b"F " + line + b"\n")
    return out


__all__ += ["LogWriter", "log_files"]
