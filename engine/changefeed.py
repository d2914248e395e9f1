"""When to look again: the wake-ups behind the event stream.

Events are read from this user's journals (``engine/eventlog.py``), and ``wait``
sees the container states the monitors record. Both sleep until something may
have changed:

- the helper's ``changes`` file for this user, which monitors and the helper
  touch after every journal entry, status or pause change (status files sit in
  directories the user may not list, so they cannot be watched one by one);
- the engine's own files (its database and its journal), whoever wrote them;
- each running container's monitor, through a pidfd, for a monitor killed
  before it could record anything.

Whatever cannot be watched (no inotify, no ``changes`` file yet) is made up
for by looking every ``interval``; the caller asks ``complete``.

A reader that keeps what it computed (the API server's listings) asks ``look``
instead of sleeping: a number that moves with every wake-up queued so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from engine.inotify import (
    IN_ATTRIB,
    IN_CLOSE_WRITE,
    IN_CREATE,
    IN_DELETE,
    IN_DELETE_SELF,
    IN_IGNORED,
    IN_MODIFY,
    IN_MOVE_SELF,
    IN_MOVED_TO,
    IN_Q_OVERFLOW,
    Inotify,
)

__all__ = ["SAFETY_LOOK", "ChangeFeed"]

log = logging.getLogger(__name__)

#: Seconds between a follower's looks when nothing woke it, even when the feed is
#: ``complete``: only for what no watch covers (a monitor from an older Skiff that
#: does not announce its changes). Read at each use, so tests can lengthen it.
SAFETY_LOOK = 10.0

_FILE_EVENTS = IN_CLOSE_WRITE | IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF
_DIR_EVENTS = IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_TO


class ChangeFeed:
    """``await wait(timeout)`` returns once something may have changed, or at the timeout.

    ``changes_file`` is the helper's file for this user; ``db_dir`` and
    ``db_prefix`` name the engine's files whose writes wake it (``skiff.db``, its
    ``-wal``, the engine's event journal).
    Must be used on one running asyncio loop.
    """

    def __init__(self, changes_file: Path, db_dir: Path,
                 db_prefix: str | tuple[str, ...]) -> None:
        self._changes_file = changes_file
        self._db_dir = db_dir
        self._db_prefix = db_prefix
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        self._inotify: Inotify | None = None
        self._changes_wd = -1
        self._db_wd = -1
        self._pidfds: dict[int, int] = {}  # monitor pid -> pidfd
        self._gone: set[int] = set()  # pids whose exit was already reported
        self._exited: set[int] = set()  # pids seen exiting since take_exited
        self._generation = 0  # one more at each wake-up (look)
        try:
            self._inotify = Inotify()
        except OSError as exc:
            log.info("no inotify (%s): the event stream polls", exc)
            return
        self._loop.add_reader(self._inotify.fileno(), self._on_inotify)
        try:
            self._db_wd = self._inotify.add(db_dir, _DIR_EVENTS)
        except OSError as exc:
            log.info("cannot watch %s (%s): the event stream polls", db_dir, exc)
        self._watch_changes_file()

    @property
    def complete(self) -> bool:
        """Every source is watched: no need to look without a reason."""
        return self._db_wd >= 0 and self._changes_wd >= 0

    def follow(self, pids: Iterable[int]) -> None:
        """Wake when any of these (monitor) processes exits; stop following others."""
        wanted = {pid for pid in pids if pid > 0} - self._gone
        for pid in list(self._pidfds.keys() - wanted):
            self._unfollow(pid)
        for pid in wanted - self._pidfds.keys():
            try:
                fd = os.pidfd_open(pid)
            except ProcessLookupError:
                self._mark_exited(pid)
                continue
            except OSError as exc:  # no pidfd (old kernel): the safety look catches it
                log.debug("no pidfd for %d: %s", pid, exc)
                self._gone.add(pid)
                continue
            self._pidfds[pid] = fd
            self._loop.add_reader(fd, self._on_exit, pid)

    async def wait(self, timeout: float | None) -> None:
        """Until a wake-up (kept until ``clear``) or ``timeout`` seconds."""
        if self._changes_wd < 0:
            self._watch_changes_file()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation
        # that arrives as the wake-up does, and a cancelled follower then sleeps on.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._woken.wait()

    def look(self) -> int | None:
        """A number that differs from any earlier answer once something may have
        changed since it was given: what inotify queued until now is counted first,
        so a change whose write finished before this call is never missed. None
        while not everything is watched (then nothing can be kept)."""
        if self._inotify is None:
            return None
        if self._changes_wd < 0:
            self._watch_changes_file()
            self._wake()  # whatever happened before the watch is unknown
        self._on_inotify()
        return self._generation if self.complete else None

    def take_exited(self) -> set[int]:
        """The followed processes seen exiting since the last call."""
        exited, self._exited = self._exited, set()
        return exited

    def clear(self) -> None:
        """Call just before looking: what wakes it later is news."""
        self._woken.clear()

    def close(self) -> None:
        for pid in list(self._pidfds):
            self._unfollow(pid)
        if self._inotify is not None:
            self._loop.remove_reader(self._inotify.fileno())
            # Closing an inotify instance that has watches waits for the kernel's RCU
            # grace period (fsnotify's mark reaper): ~15 ms here, between `run`'s wait
            # for the exit and its remove. A thread of its own waits, and we go on.
            threading.Thread(target=self._inotify.close, name="inotify-close",
                             daemon=True).start()
            self._inotify = None

    def __enter__(self) -> ChangeFeed:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- wake-ups ---------------------------------------------------------------------

    def _watch_changes_file(self) -> None:
        if self._inotify is None:
            return
        try:
            self._changes_wd = self._inotify.add(self._changes_file, _FILE_EVENTS)
        except FileNotFoundError:
            self._changes_wd = -1  # no helper has run for this user yet
        except OSError as exc:
            log.info("cannot watch %s (%s): the event stream polls", self._changes_file, exc)
            self._changes_wd = -1

    def _on_inotify(self) -> None:
        assert self._inotify is not None
        try:
            events = self._inotify.read()
        except OSError:
            log.warning("reading inotify events failed", exc_info=True)
            events = []
        for event in events:
            if event.mask & IN_Q_OVERFLOW:
                self._wake()
            elif event.wd == self._changes_wd:
                if event.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF):
                    self._changes_wd = -1  # watched again on the next wait
                self._wake()
            elif event.wd == self._db_wd:
                if event.mask & IN_IGNORED:
                    self._db_wd = -1
                    self._wake()
                elif event.name.startswith(self._db_prefix):
                    self._wake()

    def _on_exit(self, pid: int) -> None:
        self._unfollow(pid)
        self._mark_exited(pid)

    def _mark_exited(self, pid: int) -> None:
        self._gone.add(pid)
        self._exited.add(pid)
        self._wake()

    def _wake(self) -> None:
        self._generation += 1
        self._woken.set()

    def _unfollow(self, pid: int) -> None:
        fd = self._pidfds.pop(pid)
        self._loop.remove_reader(fd)
        os.close(fd)
