"""The container log file format: one CRI record per line.

    2026-11-23T15:59:00.123456789Z stdout F hello world

The stream, then F for a full line or P for a partial one that the next record
continues. Text, appendable, greppable, and cheap to write at 100k lines a
second: the monitor stamps every line read in one chunk with that read's time.
The desktop log view indexes this file directly.
"""

from __future__ import annotations

import time

__all__ = ["MAX_RECORD", "format_time", "parse_record", "parse_time"]

MAX_RECORD = 16 * 1024  # longer lines are split into P records

_second_cache: tuple[int, str] = (-1, "")


def format_time(ns: int) -> str:
    """RFC 3339 with nanoseconds in UTC, as docker prints timestamps."""
    global _second_cache
    seconds, frac = divmod(ns, 1_000_000_000)
    if _second_cache[0] != seconds:
        _second_cache = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{_second_cache[1]}.{frac:09d}Z"


def parse_time(text: str) -> int:
    """Nanoseconds since the epoch from an RFC 3339 timestamp (any fraction, Z or offset)."""
    import calendar

    text = text.strip()
    if text.endswith("Z"):
        text, offset = text[:-1], 0
    elif len(text) > 6 and text[-6] in "+-" and text[-3] == ":":
        sign = 1 if text[-6] == "+" else -1
        offset = sign * (int(text[-5:-3]) * 3600 + int(text[-2:]) * 60)
        text = text[:-6]
    else:
        offset = 0
    main, _, frac = text.partition(".")
    st = time.strptime(main, "%Y-%m-%dT%H:%M:%S")
    seconds = calendar.timegm(st) - offset
    nanos = int((frac + "000000000")[:9]) if frac else 0
    return seconds * 1_000_000_000 + nanos


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
    """Turns chunks read from the container's pipes into records, per stream."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
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
            self._write(b"".join(out))

    def flush(self, now_ns: int | None = None) -> None:
        """At end of stream: whatever is pending becomes a final record."""
        for stream, rest in self._pending.items():
            if rest:
                prefix = f"{format_time(now_ns or time.time_ns())} {stream} ".encode()
                self._write(prefix + b"F " + rest + b"\n")
                self._pending[stream] = b""

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = _write_all(self.fd, view)
            view = view[written:]


def _write_all(fd: int, view: memoryview) -> int:
    import os

    return os.write(fd, view)


def _split_long(prefix: bytes, line: bytes) -> list[bytes]:
    out = []
    while len(line) > MAX_RECORD:
        out.append(prefix + b"P " + line[:MAX_RECORD] + b"\n")
        line = line[MAX_RECORD:]
    out.append(prefix + b"F " + line + b"\n")
    return out


__all__ += ["LogWriter"]
