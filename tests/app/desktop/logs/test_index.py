from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.desktop.logs import index as logindex
from app.desktop.logs.index import LogIndex, LogScanner, LogSearch, SegmentReader, parse_record


def record(i: int, stream: str = "stdout", text: str | None = None) -> bytes:
    content = f"line {i}" if text is None else text
    return f"2026-01-02T03:04:{i % 60:02d}.{i:09d}Z {stream} F {content}\n".encode()


@pytest.fixture
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logindex, "SEGMENT", 256)


@pytest.fixture
def fd(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    path = tmp_path / "ctr.log"
    path.write_bytes(b"")
    descriptor = os.open(path, os.O_RDONLY)
    yield path, descriptor
    os.close(descriptor)


def test_every_row_is_found(small_segments: None, fd: tuple[Path, int]) -> None:
    path, descriptor = fd
    path.write_bytes(b"".join(record(i) for i in range(1000)))
    index = LogIndex(path)
    while index.extend(descriptor, budget=1000):
        pass
    assert index.count == 1000
    assert index.segments() > 10
    reader = SegmentReader(index, descriptor)
    for i in (0, 1, 17, 500, 998, 999):
        assert parse_record(reader.line(i)).text == f"line {i}"


def test_growth_partial_lines_and_truncation(small_segments: None,
                                             fd: tuple[Path, int]) -> None:
    path, descriptor = fd
    index = LogIndex(path)
    reader = SegmentReader(index, descriptor)
    with open(path, "ab") as out:
        out.write(record(0) + record(1)[:10])
        out.flush()
        assert index.extend(descriptor)
        assert index.count == 1  # the unfinished line waits
        out.write(record(1)[10:] + b"".join(record(i) for i in range(2, 50)))
        out.flush()
        assert index.extend(descriptor)
        assert index.count == 50
        assert parse_record(reader.line(1)).text == "line 1"
        assert parse_record(reader.line(49)).text == "line 49"
    generation = index.generation
    path.write_bytes(record(7))  # truncated and rewritten (the container was recreated)
    assert index.extend(descriptor)
    assert index.generation == generation + 1
    index.extend(descriptor)
    assert index.count == 1
    assert parse_record(reader.line(0)).text == "line 7"


def test_a_line_longer_than_a_segment(small_segments: None, fd: tuple[Path, int]) -> None:
    path, descriptor = fd
    path.write_bytes(record(0) + record(1, text="x" * 5000) + record(2))
    index = LogIndex(path)
    while index.extend(descriptor):
        pass
    reader = SegmentReader(index, descriptor)
    assert index.count == 3
    assert parse_record(reader.line(1)).text == "x" * 5000
    assert parse_record(reader.line(2)).text == "line 2"


def test_records_and_garbage() -> None:
    rec = parse_record(b"2026-01-02T03:04:05.000000001Z stderr P half")
    assert (rec.stream, rec.partial, rec.text) == ("stderr", True, "half")
    assert parse_record(b"2026-01-02T03:04:05Z stdout F").text == ""
    assert parse_record(b"not a record").text == "not a record"


def scan_all(search: LogSearch, index: LogIndex, descriptor: int) -> list[int]:
    while search.scan(index, descriptor, budget=300):
        pass
    return list(search.matches)


def test_search_plain_regex_case_and_growth(small_segments: None,
                                            fd: tuple[Path, int]) -> None:
    path, descriptor = fd
    lines = [record(i, text=t) for i, t in enumerate(
        ["Hello", "hello world", "\x1b[31mhel\x1b[0mlo red", "bye", "stdout only"])]
    path.write_bytes(b"".join(lines))
    index = LogIndex(path)
    index.extend(descriptor)
    assert scan_all(LogSearch("hello"), index, descriptor) == [0, 1, 2]
    assert scan_all(LogSearch("hello", case=True), index, descriptor) == [1, 2]
    assert scan_all(LogSearch("^h.llo$", regex=True), index, descriptor) == [0]
    assert scan_all(LogSearch("stdout"), index, descriptor) == [4]  # content, not the prefix
    growing = LogSearch("hello")
    assert scan_all(growing, index, descriptor) == [0, 1, 2]
    with open(path, "ab") as out:
        out.write(b"".join(record(i, text="hello again") for i in range(5, 40)))
    while index.extend(descriptor):
        pass
    assert scan_all(growing, index, descriptor) == [0, 1, 2, *range(5, 40)]  # no duplicates


@contextlib.contextmanager
def _live_scanner(path: Path, poll: float
                  ) -> Iterator[tuple[LogIndex, threading.Event, LogScanner]]:
    """A scanner following ``path`` live, started: its index, the event its reports
    set, and itself; stopped after."""
    index = LogIndex(path)
    reported = threading.Event()
    scanner = LogScanner(index, reported.set, poll=poll)
    scanner.set_live(True)
    scanner.start()
    try:
        yield index, reported, scanner
    finally:
        scanner.stop()


def test_scanner_thread_follows_and_reports(fd: tuple[Path, int]) -> None:
    path, _ = fd
    with _live_scanner(path, poll=0.01) as (_index, reported, scanner):
        with open(path, "ab") as out:
            out.write(b"".join(record(i) for i in range(100)))
        assert reported.wait(10)
        assert scanner.idle.wait(10)
        search = LogSearch("line 9")
        scanner.set_search(search)
        assert scanner.idle.wait(10)
        while search.scanned_rows < 100:
            assert scanner.idle.wait(10)
        assert list(search.matches) == [9, *range(90, 100)]


def test_a_live_scanner_sleeps_until_the_file_is_written(fd: tuple[Path, int]) -> None:
    """With inotify it needs no polling: an hour's poll still sees each write at once."""
    path, _ = fd
    with _live_scanner(path, poll=3600) as (index, reported, scanner):
        assert scanner.idle.wait(10)
        for batch in range(3):
            reported.clear()
            with open(path, "ab") as out:
                out.write(b"".join(record(batch * 10 + i) for i in range(10)))
            assert reported.wait(10), "the write was not noticed"
            while index.count < (batch + 1) * 10:
                assert reported.wait(10)
        assert index.count == 30


def test_a_live_scanner_follows_a_rotated_log(fd: tuple[Path, int]) -> None:
    """The monitor rotates a log by renaming it away and starting a new file at its
    path: the scanner goes on in the new file (it stayed on the old one, and the
    Logs tab froze after the first 20 MB)."""
    path, _ = fd
    with _live_scanner(path, poll=3600) as (index, reported, _scanner):
        with open(path, "ab") as out:
            out.write(b"".join(record(i) for i in range(50)))
        while index.count < 50:
            assert reported.wait(10)
            reported.clear()
        generation = index.generation
        os.replace(path, path.with_name(path.name + ".1"))
        with open(path, "ab") as out:  # as the monitor does: the new file, then its lines
            for i in range(3):
                out.write(record(100 + i))
                out.flush()
        while index.generation == generation or index.count < 3:
            assert reported.wait(10), "the rotation was not followed"
            reported.clear()
        assert index.count == 3
        with open(path, "ab") as out:
            out.write(record(103))
        while index.count < 4:
            assert reported.wait(10), "the new file's growth was not noticed"
            reported.clear()
