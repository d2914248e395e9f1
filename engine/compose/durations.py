"""Compose's durations ("1m30s") and byte sizes ("512m", "1gb") in a service's fields.

Durations are Go's (engine/timestamps.py); sizes are Docker's RAMInBytes
(1024-based b, k, m, g, t with an optional "b"), or a plain number of bytes.
"""

from __future__ import annotations

import re
from typing import Any

from engine.errors import InvalidArgument
from engine.timestamps import parse_duration

__all__ = ["parse_compose_duration", "parse_size"]

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_compose_duration(value: Any, where: str) -> int:
    """Nanoseconds; InvalidArgument naming the field when it is not a duration."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 1_000_000_000 if value else 0
    found = parse_duration(str(value))
    if found is None or found < 0:
        raise InvalidArgument(f'{where}: invalid duration "{value}"')
    return found


def parse_size(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value).strip())
    if match is None:
        raise InvalidArgument(f'{where}: invalid size "{value}"')
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
