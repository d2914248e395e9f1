"""The event stream's wake-ups: inotify on files and directories, pidfds on processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from engine.changefeed import ChangeFeed
from engine.helper.runtime.spec import announce_changes
from engine.inotify import IN_CLOSE_WRITE, IN_CREATE, Inotify


async def woken(feed: ChangeFeed, within: float = 5.0) -> bool:
    try:
        await asyncio.wait_for(feed.wait(None), within)
    except TimeoutError:
        return False
    feed.clear()
    return True


async def quiet(feed: ChangeFeed) -> bool:
    """Nothing wakes it for a while (a fifth of a second is plenty on one machine)."""
    return not await woken(feed, 0.2)


def test_inotify_reports_entries_by_name(tmp_path: Path) -> None:
    with Inotify() as inotify:
        wd = inotify.add(tmp_path, IN_CREATE | IN_CLOSE_WRITE)
        assert inotify.read() == []  # non-blocking when nothing happened
        (tmp_path / "a.txt").write_text("x")
        events = inotify.read()
        assert [(e.wd, e.name) for e in events] == [(wd, "a.txt"), (wd, "a.txt")]
        assert events[0].mask & IN_CREATE and events[1].mask & IN_CLOSE_WRITE
        with pytest.raises(FileNotFoundError):
            inotify.add(tmp_path / "missing", IN_CREATE)


def test_announcing_creates_a_file_its_user_alone_reads_whatever_the_umask(
        tmp_path: Path) -> None:
    from engine.helper.privacy import GROUP_OBJ, MASK, OTHER, USER, USER_OBJ, encode_acl

    changes = tmp_path / "12345" / "changes"  # users/<uid>/changes
    changes.parent.mkdir()
    old = os.umask(0o077)
    try:
        announce_changes(changes)
    finally:
        os.umask(old)
    assert changes.stat().st_mode & 0o777 == 0o640
    assert os.getxattr(changes, "system.posix_acl_access") == encode_acl([
        (USER_OBJ, -1, 6), (USER, 12345, 4), (GROUP_OBJ, -1, 0), (MASK, -1, 4), (OTHER, -1, 0)])
    os.symlink(tmp_path / "elsewhere", tmp_path / "link")
    announce_changes(tmp_path / "link")  # never follows a link (and never raises)
    assert not (tmp_path / "elsewhere").exists()


async def test_the_changes_file_wakes_it_and_is_watched_again_once_recreated(
        tmp_path: Path) -> None:
    changes = tmp_path / "helper" / "changes"
    changes.parent.mkdir()
    (tmp_path / "db").mkdir()
    with ChangeFeed(changes, tmp_path / "db", "skiff.db") as feed:
        assert not feed.complete  # no helper has run yet: the stream must poll
        announce_changes(changes)
        await feed.wait(0)
        feed.clear()
        assert feed.complete
        assert await quiet(feed)
        announce_changes(changes)
        assert await woken(feed)
        changes.unlink()
        assert await woken(feed)
        await feed.wait(0)
        assert not feed.complete
        announce_changes(changes)
        await feed.wait(0)
        feed.clear()
        assert feed.complete
        announce_changes(changes)
        assert await woken(feed)


async def test_only_the_engine_database_wakes_it(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    announce_changes(changes)
    with ChangeFeed(changes, tmp_path, "skiff.db") as feed:
        assert feed.complete
        (tmp_path / "stats.db-wal").write_bytes(b"samples")  # written every second
        (tmp_path / "blobs").mkdir()
        assert await quiet(feed)
        (tmp_path / "skiff.db-wal").write_bytes(b"a rename")
        assert await woken(feed)


async def test_a_followed_process_wakes_it_when_it_exits(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    announce_changes(changes)
    child = subprocess.Popen(["sleep", "60"])
    try:
        with ChangeFeed(changes, tmp_path, "skiff.db") as feed:
            feed.follow([child.pid])
            assert await quiet(feed)
            child.kill()
            assert await woken(feed)
            assert feed.take_exited() == {child.pid}
            feed.follow([child.pid])  # already reported: not again, not a wake-up loop
            child.wait()
            assert await quiet(feed)
            assert feed.take_exited() == set()
    finally:
        child.kill()
        child.wait()


async def test_following_a_process_that_is_gone_wakes_it_once(tmp_path: Path) -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    with ChangeFeed(tmp_path / "changes", tmp_path, "skiff.db") as feed:
        feed.follow([child.pid, 0])
        assert await woken(feed)
        assert feed.take_exited() == {child.pid}


@pytest.mark.root
def test_a_desktop_user_may_watch_the_helpers_changes_file() -> None:
    """As the helper lays it out: root-owned, 0644, under directories the user may
    pass through (0711) but not list."""
    with tempfile.TemporaryDirectory(prefix="skiff-changes-") as top:
        _watch_as_nobody(Path(top))


def _watch_as_nobody(top: Path) -> None:
    user_dir = top / "users" / "65534"
    user_dir.mkdir(parents=True)
    for path in (top, top / "users", user_dir):
        path.chmod(0o711)
    announce_changes(user_dir / "changes")
    pid = os.fork()
    if pid == 0:  # the child: become nobody, then watch
        code = 1
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            with Inotify() as inotify:
                inotify.add(user_dir / "changes", IN_CLOSE_WRITE)
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


async def test_close_lets_go_of_the_inotify_instance(tmp_path: Path) -> None:
    (tmp_path / "changes").write_text("")
    feed = ChangeFeed(tmp_path / "changes", tmp_path, "skiff.db")
    assert feed.complete
    fd = feed._inotify.fileno()  # type: ignore[union-attr]
    feed.close()
    for thread in threading.enumerate():
        if thread.name == "inotify-close":
            thread.join(10)
    try:
        assert os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:inotify"
    except FileNotFoundError:
        pass  # closed, and the number not taken again
