"""The log view's model: rows of a container's log file, read only where painted.

A :class:`~app.desktop.logs.index.LogScanner` thread indexes the file and runs the
search; this model turns its progress into row insertions on the GUI thread
(one ``beginInsertRows`` per report, whatever the number of new lines) and
parses a row only when a view asks for it. With a search it can show only the
matching rows; "clear" hides the rows so far without touching the file.
"""

from __future__ import annotations

import bisect
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.desktop.logs import ansi
from app.desktop.logs.index import LogIndex, LogRecord, LogScanner, LogSearch, SegmentReader
from app.desktop.logs.index import parse_record as parse_line
from app.desktop.widgets.rowtable import row_flags
from engine import rfc3339_ns

__all__ = ["LogModel", "LogRow", "format_local_time", "time_key"]

Index = QModelIndex | QPersistentModelIndex

ROW_CACHE = 1024
COPY_LIMIT = 100_000


@dataclass(frozen=True)
class LogRow:
    record: LogRecord
    plain: str
    spans: list[ansi.Span]
    local_time: str


_local_cache: dict[str, str] = {}


def format_local_time(stamp: str, with_date: bool = False) -> str:
    """``HH:MM:SS.mmm`` (or with the date) in local time from an RFC 3339 UTC stamp."""
    if len(stamp) < 19:
        return stamp
    key = stamp[:19] + ("d" if with_date else "")
    local = _local_cache.get(key)
    if local is None:
        ns = rfc3339_ns(stamp[:19] + "Z")
        if ns is None:
            return stamp
        seconds = ns // 1_000_000_000
        local = time.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S",
                              time.localtime(seconds))
        if len(_local_cache) > 4096:
            _local_cache.clear()
        _local_cache[key] = local
    millis = stamp[20:23] if len(stamp) > 23 and stamp[19] == "." else "000"
    return f"{local}.{millis}"


def time_key(ns: int) -> str:
    """An RFC 3339 UTC stamp that sorts against the file's stamps as text."""
    seconds, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:09d}Z"


class LogModel(QAbstractTableModel):
    """Two columns, time and message; rows appear as the scanner indexes them."""

    COLUMN_TIME = 0
    COLUMN_MESSAGE = 1

    StreamRole = Qt.ItemDataRole.UserRole + 1
    SpansRole = Qt.ItemDataRole.UserRole + 2
    TimeRole = Qt.ItemDataRole.UserRole + 3
    RowRole = Qt.ItemDataRole.UserRole + 4

    grew = Signal()  # rows were appended
    search_progress = Signal(int, bool)  # matches so far, search finished
    opened = Signal()  # the file was (re)opened or reset
    _scanned = Signal()  # from the scanner thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._index: LogIndex | None = None
        self._scanner: LogScanner | None = None
        self._reader: SegmentReader | None = None
        self._fd = -1
        self._path: Path | None = None
        self._rows = 0
        self._base = 0  # rows hidden by "clear view"
        self._generation = 0
        self._search: LogSearch | None = None
        self._rotating = True  # the scanner goes on in a rotated log's new file
        self._filter = False
        self._match_base = 0
        self._cache: OrderedDict[int, LogRow] = OrderedDict()
        self._scanned.connect(self._on_scanner_scanned, Qt.ConnectionType.QueuedConnection)

    # -- the file -------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return self._path

    def open(self, path: Path, *, live: bool = True) -> None:
        """Show ``path``; keeps watching it for growth while ``live``."""
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # raises before anything changes
        self.beginResetModel()
        self._close()
        self._path = path
        self._index = LogIndex(path)
        self._fd = fd
        self._reader = SegmentReader(self._index, self._fd)
        self._scanner = LogScanner(self._index, self._scanned.emit)
        self._scanner.set_live(live)
        self._scanner.set_follow_rotation(self._rotating)
        if self._search is not None:
            self._search = self._fresh(self._search)
            self._scanner.set_search(self._search)
        self.endResetModel()
        self._scanner.start()
        self.opened.emit()

    def close(self) -> None:
        self.beginResetModel()
        self._close()
        self.endResetModel()

    def _close(self) -> None:
        if self._scanner is not None:
            self._scanner.stop()
        if self._fd >= 0:
            os.close(self._fd)
        self._scanner = self._reader = self._index = None
        self._fd = -1
        self._path = None
        self._rows = self._base = self._match_base = 0
        self._cache.clear()

    def set_live(self, live: bool) -> None:
        if self._scanner is not None:
            self._scanner.set_live(live)

    def set_follow_rotation(self, on: bool) -> None:
        """When the log is rotated, show the new file (True: following the newest
        lines), or keep these rows until told again (False: the user reads back)."""
        self._rotating = on
        if self._scanner is not None:
            self._scanner.set_follow_rotation(on)

    def refresh(self) -> None:
        """Look at the file again now (the container just stopped, say)."""
        if self._scanner is not None:
            self._scanner.poke()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """For tests and benchmarks: block until the scanner has caught up."""
        return self._scanner.idle.wait(timeout) if self._scanner else True

    @property
    def indexed_lines(self) -> int:
        return self._index.count if self._index else 0

    # -- search and filter ------------------------------------------------------------

    @property
    def search(self) -> LogSearch | None:
        return self._search

    def set_search(self, text: str, *, regex: bool = False, case: bool = False) -> None:
        """Start a search (raises re.error for a bad regex); empty text ends it."""
        search = LogSearch(text, regex=regex, case=case) if text else None
        self._search = search
        if self._scanner is not None:
            self._scanner.set_search(search)
        if self._filter:
            self._reset_rows()
        else:
            self._emit_all_changed()
        self.search_progress.emit(0, search is None)

    @staticmethod
    def _fresh(search: LogSearch) -> LogSearch:
        return LogSearch(search.text, regex=search.regex, case=search.case)

    @property
    def match_count(self) -> int:
        search = self._search
        if search is None:
            return 0
        matches = search.matches
        return max(0, len(matches) - bisect.bisect_left(matches, self._base))

    @property
    def filtering(self) -> bool:
        return self._filter

    def set_filter(self, on: bool) -> None:
        """Show only the rows that match the search."""
        if on != self._filter:
            self._filter = on
            self._reset_rows()

    def clear_view(self) -> None:
        """Hide every row so far; new lines keep appearing."""
        self._base = self._index.count if self._index else 0
        self._reset_rows()

    def _reset_rows(self) -> None:
        self.beginResetModel()
        self._cache.clear()
        self._rows = 0
        self._rows = self._available()
        self.endResetModel()

    def _available(self) -> int:
        if self._index is None:
            return 0
        if self._filter:
            if self._search is None:
                return 0
            matches = self._search.matches
            self._match_base = bisect.bisect_left(matches, self._base)
            return max(0, len(matches) - self._match_base)
        return max(0, self._index.count - self._base)

    def _emit_all_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(self._rows - 1, 1))

    def _on_scanner_scanned(self) -> None:
        index = self._index
        if index is None:
            return
        if index.generation != self._generation:  # the file was truncated or replaced
            self._generation = index.generation
            self._base = 0
            if self._search is not None:
                self._search = self._fresh(self._search)
                if self._scanner is not None:
                    self._scanner.set_search(self._search)
            if self._reader is not None:
                self._reader.clear()
                self._read_rotated(self._reader)
            self._reset_rows()
            self.opened.emit()
            return
        available = self._available()
        if available > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, available - 1)
            self._rows = available
            self.endInsertRows()
            self.grew.emit()
        search = self._search
        if search is not None:
            # "Done" once the first pass has caught up: later lines of a live log are
            # searched as they come, without the label flickering back to "searching".
            search.caught_up = search.caught_up or search.scanned_rows >= index.count
            self.search_progress.emit(self.match_count, search.caught_up)

    def _read_rotated(self, reader: SegmentReader) -> None:
        """Read rows from the file now at the path if the scanner moved on to it
        (the log was rotated: the scanner's index is of the new file)."""
        assert self._path is not None
        try:
            fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return  # rotated again meanwhile: the next reset tells
        now, ours = os.fstat(fd), os.fstat(self._fd)
        if (now.st_dev, now.st_ino) == (ours.st_dev, ours.st_ino):
            os.close(fd)  # truncated in place: the same file
            return
        os.close(self._fd)
        self._fd = reader.fd = fd

    # -- rows -----------------------------------------------------------------------

    def source_row(self, row: int) -> int:
        """The line number in the file of a view row."""
        if self._filter and self._search is not None:
            return self._search.matches[self._match_base + row]
        return self._base + row

    def view_row(self, line: int) -> int | None:
        """The view row showing file line ``line``, if any."""
        if self._filter:
            if self._search is None:
                return None
            matches = self._search.matches
            i = bisect.bisect_left(matches, line, self._match_base,
                                   self._match_base + self._rows)
            if i < self._match_base + self._rows and matches[i] == line:
                return i - self._match_base
            return None
        row = line - self._base
        return row if 0 <= row < self._rows else None

    def row(self, row: int) -> LogRow:
        cached = self._cache.get(row)
        if cached is not None:
            return cached
        assert self._reader is not None
        record = parse_line(self._reader.line(self.source_row(row)))
        plain, spans = ansi.parse(record.text)
        cached = LogRow(record, plain, spans, format_local_time(record.time))
        self._cache[row] = cached
        if len(self._cache) > ROW_CACHE:
            self._cache.popitem(last=False)
        return cached

    def next_match(self, row: int, backwards: bool = False) -> int | None:
        """The view row of the next (or previous) match after (before) ``row``."""
        search = self._search
        if search is None or not self._rows:
            return None
        if self._filter:
            target = row - 1 if backwards else row + 1
            return target if 0 <= target < self._rows else None
        line = self.source_row(row) if 0 <= row < self._rows else (
            self._base - 1 if not backwards else self._base + self._rows)
        matches = search.matches
        if backwards:
            i = bisect.bisect_left(matches, line) - 1
            if i < 0 or matches[i] < self._base:
                return None
        else:
            i = bisect.bisect_right(matches, line)
            if i >= len(matches):
                return None
        return self.view_row(matches[i])

    def row_for_time(self, ns: int) -> int:
        """The first row at or after the given time (rows are in time order)."""
        key = time_key(ns)
        lo, hi = 0, self._rows
        while lo < hi:
            mid = (lo + hi) // 2
            if self.row(mid).record.time < key:
                lo = mid + 1
            else:
                hi = mid
        return min(lo, max(0, self._rows - 1))

    def row_text(self, row: int, timestamps: bool) -> str:
        data = self.row(row)
        if timestamps:
            return f"{data.record.time} {data.record.stream} {data.plain}"
        return data.plain

    def rows_text(self, rows: Iterable[int], timestamps: bool,
                  limit: int = COPY_LIMIT) -> tuple[str, bool]:
        """The text of rows (one per line) and whether ``limit`` cut it short."""
        out: list[str] = []
        for n, row in enumerate(rows):
            if n >= limit:
                return "\n".join(out) + "\n", True
            out.append(self.row_text(row, timestamps))
        return ("\n".join(out) + "\n") if out else "", False

    def snapshot(self) -> Callable[[Path, bool], int]:
        """A function that writes the shown rows to a file, safe to run in a thread.

        It reads the file through its own descriptor and copies the row mapping
        as it is now, so the view may change meanwhile.
        """
        if self._path is None or self._index is None:
            return lambda dest, timestamps: _write_rows(dest, [])
        path, rows = self._path, self._rows
        lines: list[int] | range
        if self._filter and self._search is not None:
            lines = list(self._search.matches[self._match_base:self._match_base + rows])
        else:
            lines = range(self._base, self._base + rows)
        index = self._index

        def write(dest: Path, timestamps: bool) -> int:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                reader = SegmentReader(index, fd, cache=4)
                return _write_rows(dest, (_plain_line(reader.line(n), timestamps)
                                          for n in lines))
            finally:
                os.close(fd)

        return write

    # -- QAbstractItemModel -------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Time", "Message")[section] if 0 <= section < 2 else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._rows:
            return None
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            row = self.row(index.row())
            if column == self.COLUMN_TIME:
                return row.local_time
            return row.plain
        if role == Qt.ItemDataRole.ToolTipRole:
            row = self.row(index.row())
            stamp = format_local_time(row.record.time, with_date=True)
            return f"{stamp} ({row.record.time}), {row.record.stream}" + (
                ", continues on the next line" if row.record.partial else "")
        if role == self.StreamRole:
            return self.row(index.row()).record.stream
        if role == self.SpansRole:
            return self.row(index.row()).spans
        if role == self.TimeRole:
            return self.row(index.row()).record.time
        if role == self.RowRole:
            return self.source_row(index.row())
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return row_flags(index)


def _plain_line(line: bytes, timestamps: bool) -> str:
    record = parse_line(line)
    text = ansi.strip(record.text)
    return f"{record.time} {record.stream} {text}" if timestamps else text


def _write_rows(dest: Path, lines: Iterable[str]) -> int:
    count = 0
    tmp = dest.with_name(f".{dest.name}.part")
    with open(tmp, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line)
            out.write("\n")
            count += 1
    os.replace(tmp, dest)
    return count
