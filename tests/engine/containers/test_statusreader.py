"""The engine's reader of status files: a file the monitor rewrites within one tick of
the filesystem's clock, keeping its mtime, size and inode, is read afresh all the same."""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.containers.state import Status
from engine.containers.statusreader import StatusReader

ID = "c" * 64


def _write_in_place(path: Path, status: dict[str, object], mtime_ns: int) -> None:
    """The same inode and size (padded, still JSON), and the mtime it had: all a cache
    can tell by."""
    text = json.dumps(status).encode()
    with open(path, "r+b") as f:
        f.write(text + b" " * (os.fstat(f.fileno()).st_size - len(text)))
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_a_file_rewritten_within_its_mtime_s_tick_is_read_again(tmp_path: Path) -> None:
    (tmp_path / ID).mkdir()
    path = tmp_path / ID / "status.json"
    running = {"status": "running", "pid": 10, "monitor_pid": os.getpid(), "exit_code": 0}
    path.write_text(json.dumps(running))
    reader = StatusReader(lambda: tmp_path)
    assert reader.state(ID).status is Status.RUNNING
    before = os.stat(path)

    _write_in_place(path, {**running, "status": "exited", "pid": 0, "exit_code": 3},
                    before.st_mtime_ns)
    after = os.stat(path)
    assert (after.st_mtime_ns, after.st_size, after.st_ino) == (
        before.st_mtime_ns, before.st_size, before.st_ino)
    state = reader.state(ID)
    assert (state.status, state.exit_code) == (Status.EXITED, 3)


def test_a_settled_file_is_parsed_once(tmp_path: Path) -> None:
    (tmp_path / ID).mkdir()
    path = tmp_path / ID / "status.json"
    path.write_text(json.dumps({"status": "exited", "exit_code": 3}))
    old = os.stat(path).st_mtime_ns - 10**9
    os.utime(path, ns=(old, old))
    reader = StatusReader(lambda: tmp_path)
    first = reader.status(ID)
    assert first is not None and first.exit_code == 3
    assert reader.status(ID) is first


def test_a_fresh_file_s_monitor_is_known_to_the_waiters(tmp_path: Path) -> None:
    """Not cached as unchanged, but kept: wait follows the monitors it read."""
    (tmp_path / ID).mkdir()
    (tmp_path / ID / "status.json").write_text(json.dumps(
        {"status": "running", "pid": 10, "monitor_pid": 77}))
    reader = StatusReader(lambda: tmp_path)
    assert reader.status(ID) is not None
    assert reader.cached_monitor_pids([ID]) == [77]
