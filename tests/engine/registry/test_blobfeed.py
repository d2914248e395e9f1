"""The feed that hands a layer's partial file to the unpacker while it downloads."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from engine.registry.blobfeed import BlobFeed


def _read_all(fd: int) -> bytes:
    out = bytearray()
    while chunk := os.read(fd, 1 << 16):
        out += chunk
    return bytes(out)


def _reader(feed: BlobFeed) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []
    thread = threading.Thread(target=lambda: got.append(_read_all(feed.reader)))
    thread.start()
    return thread, got


def test_the_pipe_carries_what_is_on_disk_then_ends(tmp_path: Path) -> None:
    path = tmp_path / "partial"
    blob = os.urandom(3 << 20)
    feed = BlobFeed(path, len(blob))
    thread, got = _reader(feed)
    with path.open("wb", buffering=0) as out:
        for start in range(0, len(blob), 700_000):
            out.write(blob[start:start + 700_000])
            feed.grew(min(start + 700_000, len(blob)))
    feed.complete()
    thread.join()
    feed.close()
    assert got == [blob]


def test_the_reader_gets_bytes_before_the_download_ends(tmp_path: Path) -> None:
    path = tmp_path / "partial"
    path.write_bytes(b"first part")
    feed = BlobFeed(path, 100)
    feed.grew(len(b"first part"))
    assert os.read(feed.reader, 100) == b"first part"  # the rest is not there yet
    feed.fail()
    assert os.read(feed.reader, 100) == b""  # a failed download: the blob ends short
    feed.close()


def test_a_download_that_starts_again_fails_the_feed(tmp_path: Path) -> None:
    path = tmp_path / "partial"
    path.write_bytes(b"x" * 1000)
    feed = BlobFeed(path, 2000)
    thread, got = _reader(feed)
    feed.grew(1000)
    feed.grew(0)  # the registry would not resume: the download restarts from zero
    path.write_bytes(b"y" * 2000)
    feed.grew(2000)
    feed.complete()
    thread.join()
    feed.close()
    assert len(got[0]) <= 1000 and set(got[0]) <= {ord("x")}


def test_close_while_the_pipe_is_full_and_nobody_reads(tmp_path: Path) -> None:
    path = tmp_path / "partial"
    blob = os.urandom(4 << 20)  # far more than a pipe holds
    path.write_bytes(blob)
    feed = BlobFeed(path, len(blob))
    feed.grew(len(blob))
    feed.complete()
    feed.close()  # returns: the copy blocked on the full pipe gets EPIPE
    assert feed.reader == -1


def test_what_was_passed_on_starts_its_way_to_disk(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every 8 MiB passed on, on a thread of its own: the blob store's fsync then waits
    for little, and a writeback that blocks (a busy disk) never holds the copy up."""
    started: list[tuple[int, int]] = []
    first, release = threading.Event(), threading.Event()
    real = os.posix_fadvise

    def fadvise(fd: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_DONTNEED
        started.append((offset, offset + length))
        real(fd, offset, length, advice)
        first.set()
        assert release.wait(30)  # a disk that keeps it waiting

    monkeypatch.setattr(os, "posix_fadvise", fadvise)
    path = tmp_path / "partial"
    blob = os.urandom(20 << 20)
    feed = BlobFeed(path, len(blob))
    thread, got = _reader(feed)
    with path.open("wb", buffering=0) as out:
        out.write(blob[:9 << 20])
        feed.grew(9 << 20)
        assert first.wait(30)  # 9 MiB passed on: their writeback started
        out.write(blob[9 << 20:])
        feed.grew(len(blob))
    thread.join(30)  # the whole blob came through the pipe while the writeback waited
    assert not thread.is_alive()
    assert got == [blob]
    release.set()
    feed.complete()
    feed.close()
    assert started[0] == (0, 9 << 20)
