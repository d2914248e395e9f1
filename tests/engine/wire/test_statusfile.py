"""One reading of status.json and one verdict on a dead monitor, for the engine and the helper."""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.timestamps import rfc3339_ns
from engine.wire.statusfile import (
    ACTIVE,
    MONITOR_DIED,
    monitor_death,
    read_status_dict,
    read_status_file,
)


def test_a_dead_monitor_means_killed_at_the_files_last_change(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    # a restarted container: its record still holds the previous run's code and end
    path.write_text(json.dumps({"status": "running", "pid": 42, "monitor_pid": 41,
                                "exit_code": 3, "finished_at": "2020-01-01T00:00:00Z"}))
    os.utime(path, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    verdict = monitor_death(path)
    assert verdict == {"status": "exited", "pid": 0, "exit_code": 137, "error": MONITOR_DIED,
                       "finished_at": "2023-11-14T22:13:20.000000000Z"}
    helper_view = {**read_status_dict(path), **verdict}
    record = read_status_file(path)
    assert record is not None and record.status in ACTIVE
    engine_view = {**record.as_dict(), **verdict}
    assert helper_view == engine_view  # the same fields, the same values


def test_a_missing_file_dies_now(tmp_path: Path) -> None:
    assert (rfc3339_ns(monitor_death(tmp_path / "gone.json")["finished_at"]) or 0) > 0


def test_what_the_record_already_said_is_kept(tmp_path: Path) -> None:
    assert monitor_death(tmp_path / "status.json", "status.json is damaged: bad pid")[
        "error"] == "status.json is damaged: bad pid"
