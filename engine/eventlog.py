"""The event journal: what happened, one JSON line per event, bounded, kept across restarts.

Two journals make a user's history. The helper's (``users/<uid>/events.log``
under its root) holds what monitors and the helper see happen to containers:
start, die (with the exit code), oom, pause, unpause. The engine's (in the
user's engine root) holds what the user asked for: create, kill, stop,
restart, rename, destroy, and image, network and volume events. A follower
reads both from where it started (``--since`` replays them) and merges them in
time order, so every transition reaches it however quickly it came and went.

Writers append a whole line with one O_APPEND write, so concurrent writers
never interleave, and rotate to ``<name>.1`` past MAX_BYTES: the history is
bounded to about twice that. Writing is best effort: a full disk loses an
event, never the action that caused it.

This module is imported by container monitors: standard library only.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["MAX_BYTES", "JournalTail", "append_event", "read_events"]

MAX_BYTES = 1 << 20
_MAX_LINE = 64 << 10


def append_event(path: Path, type_: str, action: str, ident: str,
                 attributes: dict[str, str] | None = None, time_ns: int = 0,
                 mode: int = 0o644) -> None:
    """Append one event; rotate first when the file is over MAX_BYTES."""
    record = {"t": time_ns or time.time_ns(), "type": type_, "action": action, "id": ident,
              "attrs": {k: str(v) for k, v in (attributes or {}).items()}}
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    if len(line) > _MAX_LINE:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
                     | os.O_NOFOLLOW, mode)
    except OSError:
        return
    try:
        if os.fstat(fd).st_size > MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))  # ours stays open: the
            # line goes to the old file's end; the next writer starts a new one
        os.write(fd, line)
    except OSError:
        pass
    finally:
        os.close(fd)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None  # a torn or damaged line: skipped, the others count
    if not isinstance(record, dict) or not isinstance(record.get("t"), int):
        return None
    if not all(isinstance(record.get(k), str) for k in ("type", "action", "id")):
        return None
    attrs = record.get("attrs")
    record["attrs"] = ({str(k): str(v) for k, v in attrs.items()}
                       if isinstance(attrs, dict) else {})
    return record


def read_events(path: Path, since_ns: int = 0, until_ns: int | None = None
                ) -> Iterator[dict[str, Any]]:
    """The journal's events (rotated file first) in ``[since_ns, until_ns]``."""
    for part in (path.with_name(path.name + ".1"), path):
        try:
            data = part.read_bytes()
        except OSError:
            continue
        for line in data.splitlines():
            record = _parse(line)
            if record is None or record["t"] < since_ns:
                continue
            if until_ns is not None and record["t"] > until_ns:
                continue
            yield record


class JournalTail:
    """New events of one journal since the tail was made (or since its start)."""

    def __init__(self, path: Path, from_start: bool = False) -> None:
        self.path = path
        self._fd = -1
        self._inode = 0
        self._buffer = b""
        self._open(at_end=not from_start)

    def _open(self, at_end: bool) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        self._fd = fd
        self._inode = os.fstat(fd).st_ino
        self._buffer = b""
        if at_end:
            os.lseek(fd, 0, os.SEEK_END)

    def read(self) -> list[dict[str, Any]]:
        """What was appended since the last read, across a rotation."""
        found = self._drain()
        try:
            inode = os.stat(self.path).st_ino
        except OSError:
            inode = 0
        if inode and inode != self._inode:  # rotated (or made): the rest of the old
            # file was read above; the new one is read from its start
            self.close()
            self._open(at_end=False)
            found += self._drain()
        return found

    def _drain(self) -> list[dict[str, Any]]:
        if self._fd < 0:
            return []
        chunks = [self._buffer]
        while chunk := os.read(self._fd, 1 << 16):
            chunks.append(chunk)
        data = b"".join(chunks)
        complete, _, self._buffer = data.rpartition(b"\n")
        return [r for r in map(_parse, complete.splitlines()) if r is not None]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
