"""Events as ``docker events`` shows them, found by comparing snapshots of reality.

Every subscriber compares what it saw a moment ago with what is true now, so it
learns of every change whoever made it (the app, the CLI, a monitor restarting
a container, a crash), and nothing has to be written anywhere for it.

A snapshot maps ``container:<id>`` to (name, status, started_at, restart_count,
exit_code) and ``image:<id>`` to its sorted tags.
"""

from __future__ import annotations

import time

from engine.containers.model import Event

__all__ = ["Snapshot", "diff_snapshots"]

Snapshot = dict[str, tuple[str, ...]]


def diff_snapshots(before: Snapshot, after: Snapshot) -> list[Event]:
    """The events that lead from ``before`` to ``after``, creations first."""
    now = time.time_ns()
    events = []
    for key in after.keys() - before.keys():
        kind, ident = key.split(":", 1)
        if kind == "container":
            events.append(Event("container", "create", ident, now, {"name": after[key][0]}))
            if after[key][1] in ("running", "exited"):
                events.append(Event("container", "start", ident, now, {"name": after[key][0]}))
            if after[key][1] == "exited":
                events.append(Event("container", "die", ident, now,
                                    {"name": after[key][0], "exitCode": after[key][4]}))
        else:
            events.append(Event("image", "tag", ident, now, {"name": ",".join(after[key])}))
    for key in before.keys() - after.keys():
        kind, ident = key.split(":", 1)
        events.append(Event(kind, "destroy" if kind == "container" else "delete", ident, now,
                            {"name": before[key][0] if kind == "container" else ""}))
    for key in before.keys() & after.keys():
        old, new = before[key], after[key]
        if old == new:
            continue
        kind, ident = key.split(":", 1)
        if kind == "image":
            events.append(Event("image", "tag", ident, now, {"name": ",".join(new)}))
            continue
        attrs = {"name": new[0]}
        if old[0] != new[0]:
            events.append(Event("container", "rename", ident, now, {**attrs, "oldName": old[0]}))
        events.extend(Event("container", action, ident, now,
                            {**attrs, "exitCode": new[4]} if action == "die" else attrs)
                      for action in _transitions(old, new))
    events.sort(key=lambda e: (e.type != "container", e.action != "create"))
    return events


def _transitions(old: tuple[str, ...], new: tuple[str, ...]) -> list[str]:
    """The actions between two states of one container (a start time marks a run)."""
    old_status, new_status = old[1], new[1]
    ran_again = old[2] != new[2] and new[2] != ""
    was_up = old_status in ("running", "paused")
    if new_status == "paused":
        return ["pause"] if old_status != "paused" else []
    if new_status == "running":
        if old_status == "paused" and not ran_again:
            return ["unpause"]
        if ran_again:
            return ["die", "start"] if was_up else ["start"]
        return [] if old_status == "running" else ["start"]
    if new_status in ("exited", "restarting"):
        if was_up or (old_status == "restarting" and new_status == "exited" and ran_again):
            return ["die"]
        if ran_again:
            return ["start", "die"]  # the whole run fell between two looks
    return []
