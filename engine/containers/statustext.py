"""A container's state in docker's words: ``Up 3 minutes (healthy)``, ``Exited (0) 2 hours ago``.

docker ps's STATUS column and the Engine API's ``Status`` field say the same
thing; the CLI and the REST API both print :func:`status_text`.
"""

from __future__ import annotations

import time

from engine.timestamps import rfc3339_ns
from engine.units import human_duration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["status_text"]


def status_text(state: Any, now: float | None = None) -> str:
    """docker's words for a ContainerState (``now``: seconds, for the durations)."""
    now = time.time() if now is None else now
    status = str(getattr(state.status, "value", state.status))

    def ago(timestamp: str) -> str:
        ns = rfc3339_ns(timestamp)
        if ns is None:
            return "Less than a second"
        return human_duration(max(0.0, now - ns / 1e9))

    if status == "paused":
        return f"Up {ago(state.started_at)} (Paused)"
    if status == "restarting":
        return f"Restarting ({state.exit_code}) {ago(state.finished_at)} ago"
    if status == "running":
        health = getattr(state, "health", None)
        return f"Up {ago(state.started_at)}" + (f" ({health.label})" if health else "")
    if status == "removing":
        return "Removal In Progress"
    if status == "dead":
        return "Dead"
    if status == "created" or not state.started_at:
        return "Created"
    if not state.finished_at:
        return ""
    text = f"Exited ({state.exit_code}) {ago(state.finished_at)} ago"
    if getattr(state, "oom_killed", False):
        text += " (OOMKilled)"
    return text
