"""Ages as people read them ("3 days ago"); sizes are the engine's (engine.units)."""

from __future__ import annotations

import time

from engine import rfc3339_ns

__all__ = ["age"]

def age(created: str, now: float | None = None) -> str:
    """"3 days ago" from an RFC 3339 UTC time; "" when unknown."""
    ns = rfc3339_ns(created)
    if ns is None:
        return ""
    then = ns // 1_000_000_000
    seconds = max(0, int((time.time() if now is None else now) - then))
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
                       ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"

