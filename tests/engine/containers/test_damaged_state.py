"""Damaged state: one container's broken status file hides nothing else, and a
damaged database is named with the way out, never rewritten (issue 12, item 7)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from engine.wire.statusfile import parse_status
from tests.fixtures.cli import skiff as _cli


def test_wrong_types_take_defaults_and_say_so() -> None:
    record = parse_status(json.dumps({"status": "exited", "exit_code": "3", "pid": [],
                                      "oom_killed": True}))
    assert (record.status, record.exit_code, record.pid, record.oom_killed) == (
        "exited", 0, 0, True)
    assert "exit_code" in record.damaged and "pid" in record.damaged
    assert parse_status(b'{"status": 7}').status == "dead"
    assert parse_status(b"\x00\x01garbage").status == "dead"
    assert parse_status(b"[1, 2]").damaged.endswith("not a JSON object")
    fine = parse_status(b'{"status": "running", "pid": 12, "monitor_pid": 10}')
    assert fine.damaged == "" and fine.pid == 12


@pytest.mark.root
def test_one_damaged_status_file_hides_no_other_container(busybox_image: str,
                                                          skiff_root: Path) -> None:
    created = [_cli("create", "--name", f"damaged-{n}", busybox_image, "true").stdout.strip()
               for n in range(3)]
    try:
        users = skiff_root / "helper" / "users" / str(os.getuid()) / "containers"
        for cid, content in zip(created[:2], (b'{"status": "running", "pid": "x", '
                                              b'"monitor_pid": {}}', b"\xff{{not json"),
                                strict=True):
            (users / cid).mkdir(parents=True, exist_ok=True)
            (users / cid / "status.json").write_bytes(content)
        listed = _cli("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}")
        assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
        lines = dict(line.split(" ", 1) for line in listed.stdout.splitlines())
        assert set(created) <= set(lines)
        assert lines[created[2]] == "Created"
        inspected = json.loads(_cli("inspect", created[1]).stdout)[0]
        assert inspected["State"]["Status"] == "dead"
        assert "is damaged" in inspected["State"]["Error"]
        assert (users / created[1] / "status.json").read_bytes() == b"\xff{{not json"
        inspected = json.loads(_cli("inspect", created[0]).stdout)[0]
        assert "is damaged: bad pid, monitor_pid" in inspected["State"]["Error"]
    finally:
        removed = _cli("rm", "-f", *created)
        assert removed.returncode == 0, removed.stderr


def test_a_damaged_database_is_named_and_left_alone(tmp_path: Path) -> None:
    database = tmp_path / "engine" / "skiff.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is not an SQLite header" + bytes(4000))
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    env = dict(os.environ, SKIFF_ROOT=str(tmp_path))
    for command in (("ps", "-a"), ("images",), ("rm", "-f", "web")):
        done = _cli(*command, env=env)
        assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
        assert str(database) in done.stderr and "mv " in done.stderr, done.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
