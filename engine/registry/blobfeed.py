"""A layer blob handed to the unpacker while it still downloads.

Unpacking a layer once its download had finished put the two one after the other:
on a loopback registry the download is as long as the unpack. A feed gives the
unpacker a pipe that carries the blob as its bytes land in the partial file (the
download goes on writing that file, so it still resumes, and the blob store still
verifies what it keeps): a thread splices from the file to the pipe, never more
than is on disk, and simply waits when the unpacker is slower than the network. The
unpacker checks the digest as it reads, as it does for a stored blob.

A download that starts again from zero (the registry would not resume) fails the
feed, and so does any failure: the unpacker then sees the blob end early and
refuses it, and the puller unpacks the stored blob instead once it is complete.

Behind what was passed on, a second thread has the kernel start writing the file to
disk every 8 MiB (``POSIX_FADV_DONTNEED``: dirty pages are written back, not waited
for; pages still dirty or in the pipe are kept). The blob store's fsync at the
download's end then waits for the last few MiB only: it waited for all of the blob,
and the three layers of benchmarks/pull.py's random image ended their pulls 15-50 ms
after their unpacks, on those fsyncs. Not on the copying thread: with the disk busy
(others' writes), starting a writeback blocked it for up to 36 ms, and the unpacker
waited.
"""

from __future__ import annotations

import os
import threading

__all__ = ["BlobFeed"]

_WRITE_BACK = 8 << 20  # bytes passed on between two writebacks started


class BlobFeed:
    """Copies the partial file at ``path`` into a pipe; ``reader`` is the pipe's end.

    The downloader calls ``grew(bytes on disk)`` as it writes, then ``complete()``
    once the blob is committed, or ``fail()``; the owner calls ``close()`` when the
    unpacker is done with ``reader``.
    """

    def __init__(self, path: str, size: int) -> None:
        self.path = path
        self.size = size
        self.reader, self._writer = os.pipe2(os.O_CLOEXEC)
        self._file = -1
        self._on_disk = 0
        self._passed = 0  # bytes in the pipe so far
        self._state = "running"  # then "complete" or "failed"
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._copy, name="skiff-blob-feed", daemon=True)
        self._thread.start()
        threading.Thread(target=self._write_back, name="skiff-blob-writeback",
                         daemon=True).start()

    def grew(self, on_disk: int) -> None:
        with self._changed:
            if self._state != "running":
                return
            if on_disk < self._on_disk:
                self._state = "failed"  # the download started again: the pipe has had more
            elif self._file < 0:
                try:  # opened here, where the downloader has just written it
                    self._file = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    self._state = "failed"
            self._on_disk = max(self._on_disk, on_disk)
            self._changed.notify_all()

    def complete(self) -> None:
        """Every byte is on disk (and verified by the blob store)."""
        with self._changed:
            if self._state == "running" and self._file >= 0:
                self._state, self._on_disk = "complete", self.size
            else:
                self._state = "failed"
            self._changed.notify_all()

    def fail(self) -> None:
        with self._changed:
            self._state = "failed"
            self._changed.notify_all()

    def close(self) -> None:
        """Stop copying and wait for the thread (the unpacker no longer reads)."""
        self.fail()
        if self.reader >= 0:
            os.close(self.reader)  # a copy blocked on a full pipe gets EPIPE
            self.reader = -1
        self._thread.join()

    def _copy(self) -> None:
        sent = 0
        try:
            while sent < self.size:
                with self._changed:
                    while self._state == "running" and self._on_disk <= sent:
                        self._changed.wait()
                    if self._state == "failed":
                        return
                    available, source = self._on_disk, self._file
                while sent < available:
                    # From the page cache to the pipe without passing through us.
                    moved = os.splice(source, self._writer, available - sent, offset_src=sent)
                    if not moved:
                        return  # the file is shorter than the download said
                    sent += moved
                with self._changed:
                    self._passed = sent
                    self._changed.notify_all()
        except OSError:
            pass  # EPIPE: the unpacker stopped reading; it knows why
        finally:
            os.close(self._writer)
            with self._changed:
                self._state = "failed" if sent < self.size else "complete"
                if self._file >= 0:
                    os.close(self._file)
                    self._file = -1
                self._changed.notify_all()

    def _write_back(self) -> None:
        """Until the copy ends: start the writeback of each 8 MiB it passed on."""
        fd, started = -1, 0
        try:
            while True:
                with self._changed:
                    while self._state == "running" and self._passed - started < _WRITE_BACK:
                        self._changed.wait()
                    if self._state != "running":
                        return  # the rest: the blob store's fsync, now
                    passed = self._passed
                if fd < 0:
                    fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                os.posix_fadvise(fd, started, passed - started, os.POSIX_FADV_DONTNEED)
                started = passed
        except OSError:
            pass  # only sooner than at the blob store's fsync
        finally:
            if fd >= 0:
                os.close(fd)

