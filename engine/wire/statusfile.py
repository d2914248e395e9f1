"""Reading a monitor's ``status.json`` without trusting it.

The file is written atomically by the container's monitor, but a crash, a full
disk or a hand edit can leave anything there. One damaged file must never hide
the other containers or crash a listing: every field is checked, a field of
the wrong type takes its default, and a file that cannot be read at all says
so (the container shows as dead, with the reason, and nothing is rewritten, so
the evidence stays for whoever looks).

The engine and the helper both read the file here, and both judge a record
whose monitor died while the container was active with :func:`monitor_death`:
exited, 137 (the code of a killed process), finished when the file last changed.
"""

from __future__ import annotations

import json
import os
import time

from engine.frozen import fields, frozen
from engine.timestamps import format_rfc3339
from engine.wire.healthstate import HealthState, parse_health

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path
    from typing import Any

__all__ = ["ACTIVE", "MONITOR_DIED", "StatusRecord", "monitor_death", "parse_status",
           "read_status_dict", "read_status_file"]

STATUSES = ("created", "running", "restarting", "paused", "exited", "removing", "dead")
#: The statuses a live monitor keeps: found with a dead monitor, they are out of date.
ACTIVE = ("running", "restarting")
MONITOR_DIED = "the container's monitor process died"


@frozen
class StatusRecord:
    status: str = "created"
    pid: int = 0
    monitor_pid: int = 0
    exit_code: int = 0
    oom_killed: bool = False
    started_at: str = ""
    finished_at: str = ""
    error: str = ""
    restart_count: int = 0
    stopped_by_user: bool = False
    signal: int = 0
    damaged: str = ""  # why (part of) the file could not be used; "" when it was fine
    health: HealthState | None = None  # a container with a healthcheck, once started

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("damaged", "health")}


# The fields a file may set and the type of each (its default's): looked up once,
# not for every file read (ps -a reads one a container).
_CHECKED = tuple((f.name, type(f.default)) for f in fields(StatusRecord)
                 if f.name not in ("damaged", "health"))


def parse_status(data: bytes | str, where: str = "status.json") -> StatusRecord:
    try:
        document = json.loads(data)
    except ValueError as exc:
        return StatusRecord(status="dead", damaged=f"{where} is damaged: {exc}")
    if not isinstance(document, dict):
        return StatusRecord(status="dead", damaged=f"{where} is damaged: not a JSON object")
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, kind in _CHECKED:
        if name not in document:
            continue
        value = document[name]
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        else:
            ok = isinstance(value, str) and len(value) <= 65536
        if ok and name == "status" and value not in STATUSES:
            ok = False
        if ok:
            values[name] = value
        else:
            problems.append(name)
    if "status" in problems:
        values["status"] = "dead"
    damaged = f"{where} is damaged: bad {', '.join(problems)}" if problems else ""
    return StatusRecord(**values, damaged=damaged, health=parse_health(document.get("health")))


def read_status_file(path: str | PathLike[str]) -> StatusRecord | None:
    """None when there is no file (a container never started)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return StatusRecord(status="dead", damaged=f"{path} cannot be read: {exc.strerror}")
    return parse_status(data, str(path))


def monitor_death(path: str | PathLike[str], error: str = "") -> dict[str, Any]:
    """What an active record at ``path`` becomes once its monitor is found dead: the
    monitor took the container's processes with it, killed. ``error``: what the record
    already says went wrong (a damaged file), kept before the monitor's death."""
    try:
        when = format_rfc3339(os.stat(path).st_mtime_ns)
    except OSError:
        when = format_rfc3339(time.time_ns())
    return {"status": "exited", "pid": 0, "exit_code": 137, "error": error or MONITOR_DIED,
            "finished_at": when}


def read_status_dict(path: Path) -> dict[str, Any]:
    """The helper's view: the file's fields with the known ones checked (others, such as
    fields a newer monitor writes, kept as they are); {} when there is no file."""
    try:
        data = path.read_bytes()  # once: the monitor may replace the file between reads
    except FileNotFoundError:
        return {}
    except OSError as exc:
        data = b""
        record = StatusRecord(status="dead", damaged=f"{path} cannot be read: {exc.strerror}")
    else:
        record = parse_status(data, str(path))
    try:
        document = json.loads(data)
    except ValueError:
        document = {}
    extra = document if isinstance(document, dict) else {}
    checked = record.as_dict()
    if record.damaged and not checked["error"]:
        checked["error"] = record.damaged
    return {**extra, **checked}
