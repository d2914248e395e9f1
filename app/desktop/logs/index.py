"""An index over a container's CRI log file, so a view can show any line at once.

The engine writes one record per line (``<RFC3339Nano> <stdout|stderr> <F|P>
<content>``). The index keeps a checkpoint (line number, byte offset) at a line
start about every ``SEGMENT`` bytes: ten million lines cost a few thousand
checkpoints, and any row is found by one bisect and one small read. A
:class:`LogScanner` thread extends the index as the file grows and runs
searches; the GUI thread only reads the segments of the rows it paints.

No Qt here: the scanner reports through a plain callback.
"""

from __future__ import annotations

import bisect
import os
import re
import select
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.desktop.logs import ansi
from engine import IN_MODIFY, IN_MOVE_SELF, Inotify

__all__ = ["LogIndex", "LogRecord", "LogScanner", "LogSearch", "parse_record"]

SEGMENT = 64 * 1024
READ_CHUNK = 8 * 1024 * 1024
CATCH_UP_REPORT = 0.3  # seconds between reports while first reading a file
LIVE_SPACING = 0.05  # seconds between looks at a file that keeps being written
_WATCHED = IN_MODIFY | IN_MOVE_SELF  # written to, or renamed away (rotated)


@dataclass(frozen=True)
class LogRecord:
    time: str  # RFC 3339 with nanoseconds, UTC, as written
    stream: str  # stdout | stderr
    partial: bool
    text: str  # the content, escape sequences included


def parse_record(line: bytes) -> LogRecord:
    """One line of the file without its newline; garbage is shown, not dropped."""
    parts = line.split(b" ", 3)
    if len(parts) >= 3 and parts[1] in (b"stdout", b"stderr") and parts[2] in (b"F", b"P"):
        content = parts[3] if len(parts) == 4 else b""
        return LogRecord(parts[0].decode("ascii", "replace"), parts[1].decode(),
                         parts[2] == b"P", content.decode("utf-8", "replace"))
    return LogRecord("", "stdout", False, line.decode("utf-8", "replace"))


def content_of(line: str) -> str:
    """The content of a decoded record line (cheaper than parse_record for searching)."""
    parts = line.split(" ", 3)
    if len(parts) >= 3 and parts[1] in ("stdout", "stderr") and parts[2] in ("F", "P"):
        return parts[3] if len(parts) == 4 else ""
    return line


class LogIndex:
    """Checkpoints over complete lines of one file; thread-safe for one writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines = array("q", [0])  # line number at each checkpoint
        self._offsets = array("q", [0])  # byte offset of each checkpoint (a line start)
        self._count = 0  # complete lines indexed
        self._end = 0  # offset just after the last complete line
        self._lock = threading.Lock()
        self._generation = 0  # bumped when the file was truncated or replaced
        self._identity: tuple[int, int] | None = None

    @property
    def count(self) -> int:
        return self._count

    @property
    def end(self) -> int:
        return self._end

    @property
    def generation(self) -> int:
        return self._generation

    def extend(self, fd: int, budget: int = READ_CHUNK) -> bool:
        """Index what was appended since the last call; True when lines were added
        or the file was reset. Reads at most about ``budget`` bytes."""
        st = os.fstat(fd)
        identity = (st.st_dev, st.st_ino)
        if st.st_size < self._end or (self._identity and identity != self._identity):
            self._reset()
            self._identity = identity
            return True
        self._identity = identity
        if st.st_size == self._end:
            return False
        data = os.pread(fd, min(budget, st.st_size - self._end), self._end)
        if b"\n" not in data and len(data) == budget:  # one huge line: read to its end
            data += _read_to_newline(fd, self._end + len(data))
        return self._ingest(data)

    def _ingest(self, data: bytes) -> bool:
        lines, offsets = self._lines, self._offsets
        count, end = self._count, self._end
        new_lines: list[tuple[int, int]] = []
        last_offset = offsets[-1]
        pos, size = 0, len(data)
        while pos < size:
            room = SEGMENT - (end - last_offset)
            if room <= 0:
                new_lines.append((count, end))
                last_offset = end
                room = SEGMENT
            cut = data.rfind(b"\n", pos, pos + room)
            if cut < 0:
                if end > last_offset:  # start the long line in a segment of its own
                    new_lines.append((count, end))
                    last_offset = end
                cut = data.find(b"\n", pos)
                if cut < 0:
                    break
            count += data.count(b"\n", pos, cut + 1)
            end += cut + 1 - pos
            pos = cut + 1
        if count == self._count:
            return False
        with self._lock:
            for line, offset in new_lines:
                lines.append(line)
                offsets.append(offset)
            self._count, self._end = count, end
        return True

    def _reset(self) -> None:
        with self._lock:
            self._lines = array("q", [0])
            self._offsets = array("q", [0])
            self._count = self._end = 0
            self._generation += 1

    def segment_of(self, row: int) -> tuple[int, int, int, int]:
        """(segment number, first line, start offset, end offset) holding ``row``."""
        with self._lock:
            k = bisect.bisect_right(self._lines, row) - 1
            stop = self._offsets[k + 1] if k + 1 < len(self._offsets) else self._end
            return k, self._lines[k], self._offsets[k], stop

    def segments(self) -> int:
        return len(self._offsets)

    def segment(self, k: int) -> tuple[int, int, int]:
        """(first line, start offset, end offset) of segment ``k``."""
        with self._lock:
            stop = self._offsets[k + 1] if k + 1 < len(self._offsets) else self._end
            return self._lines[k], self._offsets[k], stop


def _read_to_newline(fd: int, offset: int) -> bytes:
    parts: list[bytes] = []
    while True:
        block = os.pread(fd, READ_CHUNK, offset)
        if not block:
            return b"".join(parts)
        cut = block.find(b"\n")
        if cut >= 0:
            parts.append(block[:cut + 1])
            return b"".join(parts)
        parts.append(block)
        offset += len(block)


class SegmentReader:
    """Reads rows through a small cache of decoded segments (the GUI thread's side)."""

    def __init__(self, index: LogIndex, fd: int, cache: int = 32) -> None:
        self.index = index
        self.fd = fd
        self._cache: OrderedDict[tuple[int, int, int], list[bytes]] = OrderedDict()
        self._size = cache

    def line(self, row: int) -> bytes:
        k, first, start, stop = self.index.segment_of(row)
        key = (self.index.generation, k, stop)
        lines = self._cache.get(key)
        if lines is None:
            lines = os.pread(self.fd, stop - start, start).split(b"\n")
            self._cache[key] = lines
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        i = row - first
        return lines[i] if 0 <= i < len(lines) else b""

    def clear(self) -> None:
        self._cache.clear()


class LogSearch:
    """One search's state: which rows match, how far the scan got.

    Plain searches compare lower-cased text with ``str.find`` (ten times faster
    than a case-blind regex); a segment is split into lines only when the raw
    segment may match. Rows are matched on their text without escape sequences,
    as the view shows it.
    """

    def __init__(self, pattern: str, *, regex: bool = False, case: bool = False) -> None:
        flags = 0 if case else re.IGNORECASE
        self.text = pattern
        self.regex = regex
        self.case = case
        self.rx = re.compile(pattern if regex else re.escape(pattern), flags)
        self._needle = pattern if case else pattern.lower()
        # Searching a whole segment first is only sound when the pattern cannot tell
        # a line's content from the record around it (no anchors or lookarounds).
        self._prefilter = not regex or not any(
            token in pattern for token in ("^", "$", "\\A", "\\Z", "\\B", "(?<"))
        self.matches = array("q")
        self.scanned_segments = 0
        self.scanned_rows = 0
        self.generation = -1
        self.caught_up = False  # the first pass reached the end of the file once

    def matches_line(self, content: str) -> bool:
        if "\x1b" in content:
            content = ansi.strip(content)
        if self.regex:
            return self.rx.search(content) is not None
        return (content if self.case else content.lower()).find(self._needle) >= 0

    def _segment_may_match(self, data: str) -> bool:
        if not self._prefilter:
            return True
        if self.regex:
            return self.rx.search(data) is not None
        return (data if self.case else data.lower()).find(self._needle) >= 0

    def scan(self, index: LogIndex, fd: int, budget: int = 2 * 1024 * 1024) -> bool:
        """Scan further segments (about ``budget`` bytes); True when it advanced."""
        if self.generation != index.generation:
            self.matches = array("q")
            self.scanned_segments = self.scanned_rows = 0
            self.generation = index.generation
        done = 0
        advanced = False
        while done < budget:
            k = self.scanned_segments
            if k >= index.segments():
                break
            first, start, stop = index.segment(k)
            is_last = k + 1 >= index.segments()
            skip = max(0, self.scanned_rows - first)  # rows an earlier pass already saw
            if stop > start:
                data = os.pread(fd, stop - start, start).decode("utf-8", "replace")
                done += stop - start
                lines = data.split("\n")[:-1]
                if skip < len(lines):
                    advanced = True
                    if self._segment_may_match(data):
                        matches_line = self.matches_line
                        self.matches.extend(
                            first + i for i in range(skip, len(lines))
                            if matches_line(content_of(lines[i])))
                self.scanned_rows = max(self.scanned_rows, first + len(lines))
            if is_last:
                break
            self.scanned_segments = k + 1
        return advanced

    def spans(self, plain: str) -> list[tuple[int, int]]:
        """Where the pattern matches in a row's plain text, for highlighting."""
        return [(m.start(), m.end()) for m in self.rx.finditer(plain) if m.end() > m.start()]


class LogScanner:
    """The background thread: grows the index, runs the current search, reports.

    ``notify`` is called from the thread (at most every ``throttle`` seconds, and
    once more when it goes idle); the receiver reads ``index.count`` and the
    search's ``matches`` itself. While live it sleeps on inotify until the file
    grows (looking every ``poll`` seconds only where inotify is missing), so a
    quiet container's log costs nothing. A live log that the monitor rotates (it
    renames it away and starts a new file at its path, every 20 MB by default)
    is followed into the new file: the index starts again there; unless told not
    to (``set_follow_rotation``: the user reads back), until told again.
    """

    def __init__(self, index: LogIndex, notify: Callable[[], None], *,
                 poll: float = 0.05, throttle: float = 0.03) -> None:
        self.index = index
        self._notify = notify
        self._poll = poll
        self._throttle = throttle
        self._search: LogSearch | None = None
        self._live = False
        self._rotate = True  # go on in the new file once the log is rotated
        self._stop = False
        self._wake_fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self._looked = 0.0
        self._inotify: Inotify | None = None
        self._watch = -1
        try:
            self._inotify = Inotify()
            self._watch = self._inotify.add(index.path, _WATCHED)
        except OSError:
            if self._inotify is not None:
                self._inotify.close()
            self._inotify = None
        self._fd = os.open(index.path, os.O_RDONLY | os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._run, name=f"log-scan {index.path.name}",
                                        daemon=True)
        self.idle = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def set_live(self, live: bool) -> None:
        """Keep watching for growth (the container is running)."""
        self._live = live
        self._wake()

    def set_follow_rotation(self, on: bool) -> None:
        """Go on in the new file when the log is rotated (True), or stay in this one."""
        self._rotate = on
        self._wake()

    def set_search(self, search: LogSearch | None) -> None:
        self._search = search
        self.idle.clear()
        self._wake()

    def poke(self) -> None:
        self.idle.clear()
        self._wake()

    def stop(self) -> None:
        self._stop = True
        self._wake()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for fd in (self._fd, self._wake_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._inotify is not None:
            self._inotify.close()

    def _wake(self) -> None:
        os.eventfd_write(self._wake_fd, 1)

    def _reopen_if_replaced(self) -> bool | None:
        """Read the file now at the path if it is another one (the log was rotated):
        True then, False if it is still ours, None while the path names no file
        (between the rotation's rename and the new file)."""
        path = self.index.path
        try:
            now = os.stat(path)
        except OSError:
            return None
        ours = os.fstat(self._fd)
        if (now.st_dev, now.st_ino) == (ours.st_dev, ours.st_ino):
            return False
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        os.close(self._fd)
        self._fd = fd  # the index sees another file and starts again
        if self._inotify is not None:
            self._inotify.remove(self._watch)
            try:
                self._watch = self._inotify.add(path, _WATCHED)
            except OSError:
                self._inotify.close()
                self._inotify = None  # poll from now on
        return True

    def _sleep(self, timeout: float | None = None) -> None:
        """Until woken, or (while live) until the file is written to or ``timeout``."""
        watched = [self._wake_fd]
        if self._live:
            if self._inotify is not None:
                watched.append(self._inotify.fileno())
            else:
                timeout = self._poll
        ready, _, _ = select.select(watched, [], [], timeout)
        if self._inotify is not None and self._inotify.fileno() in ready:
            self._inotify.read()
            # A busy writer wakes us at every write: look at most every LIVE_SPACING
            # seconds, so the GUI is not told hundreds of times a second.
            rest = self._looked + LIVE_SPACING - time.monotonic()
            if rest > 0 and self._wake_fd not in ready:
                ready, _, _ = select.select([self._wake_fd], [], [], rest)
        if self._wake_fd in ready:
            try:
                os.eventfd_read(self._wake_fd)
            except BlockingIOError:
                pass
        self._looked = time.monotonic()

    def _run(self) -> None:
        last_notify = time.monotonic()
        pending = False
        caught_up = False
        while not self._stop:
            try:
                grew = self.index.extend(self._fd)
                search = self._search
                searched = bool(search and search.scan(self.index, self._fd))
            except OSError:
                grew = searched = False
            busy = grew or searched
            pending = pending or busy
            now = time.monotonic()
            # While catching up with a big file, report rarely (each report costs the
            # GUI a repaint); once caught up, report every growth promptly.
            throttle = self._throttle if caught_up else CATCH_UP_REPORT
            if pending and (not busy or now - last_notify >= throttle):
                pending = False
                last_notify = now
                self._notify()
            if busy:
                continue
            replaced = self._reopen_if_replaced() if self._live and self._rotate else False
            if replaced:
                continue
            caught_up = True
            self.idle.set()
            self._sleep(self._poll if replaced is None else None)
