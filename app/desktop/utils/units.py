"""Sizes and ages as people read them, and sizes as people type them."""

from __future__ import annotations

import re
import time

from engine.errors import InvalidArgument
from engine.timestamps import rfc3339_ns

__all__ = ["age", "human_size", "parse_size"]

_UNITS = ("B", "kB", "MB", "GB", "TB")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


def human_size(n: int) -> str:
    """Decimal units, as docker prints them: 4.26MB."""
    value = float(n)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1000
    return f"{n} B"


def parse_size(text: str) -> int | None:
    """``512m``, ``1.5g``, ``1048576`` → bytes (binary units, like docker's --memory);
    empty → None; anything else raises InvalidArgument."""
    if not text.strip():
        return None
    match = _SIZE.match(text)
    if not match:
        raise InvalidArgument(f"{text!r} is not a size: write a number with an optional "
                              "unit, such as 512m or 2g")
    number, unit = float(match.group(1)), match.group(2).lower()
    factor = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[unit]
    return int(number * factor)


def format_size_limit(n: int | None) -> str:
    """The inverse of parse_size for the settings form: 536870912 → 512m."""
    if not n:
        return ""
    for suffix, factor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
        if n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


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


__all__ += ["format_size_limit"]
