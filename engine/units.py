"""Sizes and durations in Docker's units (its go-units package): one parser, one formatter.

Sizes people type (``--memory 512m``, the window's memory field) are read as
go-units' ``RAMInBytes``: 1024-based ``b k m g t p`` with an optional ``i`` and
``b`` (``512m``, ``1.5g``, ``2GiB``, ``100``). Sizes Skiff prints are
go-units' ``HumanSize``: 1000-based, so ``4.26MB`` (3 significant digits, as
docker's tables print them); memory figures are ``BytesSize`` (``1.5MiB``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.errors import InvalidArgument

__all__ = [
    "bytes_size",
    "format_cpus",
    "format_ram",
    "human_duration",
    "human_size",
    "parse_cpus",
    "parse_ram",
]

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_GO_FLOAT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_HINT = " (use a number with an optional unit b, k, m or g)"
_BINARY = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_ram(text: str) -> int:
    """go-units' RAMInBytes: ``512m`` → 536870912; InvalidArgument in its words otherwise."""
    sep = max(text.rfind(c) for c in "0123456789. ")
    if sep < 0:
        raise InvalidArgument(f"invalid size: '{text}'{_HINT}")
    number, suffix = (text[:sep + 1], text[sep + 1:]) if text[sep] != " " else \
        (text[:sep], text[sep + 1:])
    if not re.match(_GO_FLOAT, number) or float(number) < 0:
        raise InvalidArgument(f"invalid size: '{text}'{_HINT}")
    size = float(number)
    lowered = suffix.lower()
    if not lowered or lowered == "b":
        return int(size)
    if len(lowered) > 3 or lowered[0] not in _BINARY or lowered[1:] not in ("", "b", "ib"):
        raise InvalidArgument(f"invalid suffix: '{suffix}'{_HINT}")
    return int(size * _BINARY[lowered[0]])


def parse_cpus(text: str) -> int:
    """docker's ``--cpus`` (opts.NanoCPUs): a rational number of CPUs → nano CPUs, exactly
    (``1.5`` → 1500000000); 0 means no limit."""
    from fractions import Fraction  # with decimal and numbers, ~1.5 ms: only for --cpus

    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"failed to parse {text} as a rational number") from None
    if value < 0:
        raise InvalidArgument(f"invalid number of CPUs {text}: it must be positive")
    nano = value * 1_000_000_000
    if nano.denominator != 1:
        raise InvalidArgument("value is too precise")
    return int(nano)


def format_cpus(nano_cpus: int) -> str:
    """The ``--cpus`` value for nano CPUs: 1500000000 → ``1.5``."""
    whole, rest = divmod(nano_cpus, 1_000_000_000)
    return f"{whole}.{rest:09d}".rstrip("0") if rest else str(whole)


def format_ram(size: int) -> str:
    """The shortest form :func:`parse_ram` reads back exactly: 536870912 → ``512m``."""
    for unit in ("p", "t", "g", "m", "k"):
        if size and size % _BINARY[unit] == 0:
            return f"{size // _BINARY[unit]}{unit}"
    return str(size)


def _custom_size(size: float, base: float, units: Sequence[str], precision: int) -> str:
    index = 0
    while size >= base and index < len(units) - 1:
        size /= base
        index += 1
    return f"{size:.{precision}g}{units[index]}"  # Go's %.Ng, as C's, drops trailing zeros


def human_size(size: float, precision: int = 3) -> str:
    """docker's image, container and transfer sizes: 1000-based (``4.26MB``)."""
    return _custom_size(float(size), 1000.0, _DECIMAL_UNITS, precision)


def bytes_size(size: float) -> str:
    """docker's memory figures: 1024-based, 4 significant digits (``1.5MiB``)."""
    return _custom_size(float(size), 1024.0, _BINARY_UNITS, 4)


def human_duration(seconds: float) -> str:
    """go-units' HumanDuration: "Less than a second", "About a minute", "3 days"."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = int(seconds // 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int((seconds + 1800) // 3600)  # Go rounds to the nearest hour here
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"
