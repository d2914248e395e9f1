"""Points in time as Docker writes and reads them: the one parser for ``--since``/``--until``.

:func:`parse_timestamp` is Docker's ``GetTimestamp`` (moby ``api/types/time``,
now ``daemon/internal/timestamp``), used by ``logs`` and ``events`` in the CLI,
the window and the REST API alike. It accepts a Go duration back from now
(``10m``, ``1h30m``; ``0`` is the epoch), an RFC 3339 time, or a Unix timestamp
with an optional fraction (``1700000000.5``). A time without a zone (no ``Z``,
no ``+``, fewer than three dashes) is local time, at the reference time's UTC
offset, as Docker reads it; ``2024-05-01``, ``2024-05-01T12`` and
``2024-05-01T12:30`` are shorter forms of the same.

:func:`rfc3339_ns` and :func:`format_rfc3339` read and write the timestamps
Skiff stores (``2024-05-01T12:00:00.000000001Z``). Pure and stdlib-only: the
per-container monitor imports this.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

from engine.errors import InvalidArgument

__all__ = ["format_rfc3339", "go_duration", "parse_duration", "parse_timestamp",
           "rfc3339_ns"]

_NS = 1_000_000_000

# Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ with these units.
_DURATION_PART = r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)"
_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
                   "s": _NS, "m": 60 * _NS, "h": 3600 * _NS}

_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_ZONE = r"(Z|[+-]\d{2}:\d{2})"
# The layouts GetTimestamp picks from, by dots, colons and whether a zone is given.
# The patterns here are compiled by re's own cache when first used: compiling all
# of them at import was ~3 ms of every CLI command's start.
_LOCAL_NANO = rf"^{_DATE}T(\d{{1,2}}):(\d{{2}}):(\d{{2}})(?:\.(\d{{1,9}}))?$"
_ZONED_NANO = rf"^{_DATE}T(\d{{1,2}}):(\d{{2}}):(\d{{2}})(?:\.(\d{{1,9}}))?{_ZONE}$"
_LOCAL_CLOCK = (rf"^{_DATE}T(\d{{1,2}})()()()$",
                rf"^{_DATE}T(\d{{1,2}}):(\d{{2}})()()$",
                rf"^{_DATE}T(\d{{1,2}}):(\d{{2}}):(\d{{2}})()$")
_ZONED_CLOCK = (rf"^{_DATE}T(\d{{1,2}})()()(){_ZONE}$",
                rf"^{_DATE}T(\d{{1,2}}):(\d{{2}})()(){_ZONE}$",
                rf"^{_DATE}T(\d{{1,2}}):(\d{{2}}):(\d{{2}})(){_ZONE}$")
_LOCAL_DATE = rf"^{_DATE}()()()()$"
_ZONED_DATE = rf"^{_DATE}()()()(){_ZONE}$"
_UNIX = r"^\+?(\d+)(?:\.(\d+))?$"

# Stored timestamps: RFC 3339 with any fraction, Z or an offset (a space for T is tolerated).
_RFC3339 = (
    rf"^{_DATE}[Tt ](\d{{2}}):(\d{{2}}):(\d{{2}})(?:\.(\d+))?([Zz]|[+-]\d{{2}}:?\d{{2}})$")


def parse_duration(text: str) -> int | None:
    """A Go duration (``10m``, ``1h30m``, ``-1.5s``) in nanoseconds; None if it is not one."""
    body = text[1:] if text[:1] in "+-" else text
    if not body:
        return None
    if body == "0":
        return 0
    total = 0
    pos = 0
    for match in re.finditer(_DURATION_PART, body):
        whole, fraction, unit = match.groups()
        if match.start() != pos or (not whole and not fraction):
            return None
        scale = _DURATION_UNITS[unit]
        total += int(whole or 0) * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        pos = match.end()
    if pos != len(body):
        return None
    return -total if text.startswith("-") else total


def parse_timestamp(text: str, now: float | None = None) -> int:
    """A ``--since``/``--until`` value → nanoseconds since the epoch, as Docker reads it.

    ``now`` (seconds) is the reference for durations and for the local UTC
    offset; InvalidArgument names the value when it is none of Docker's forms.
    """
    now = time.time() if now is None else now
    value = text
    if not value.strip():
        raise InvalidArgument("failed to parse value as time or duration: value is empty")
    duration = parse_duration(value) if value != "0" else None
    if duration is not None:
        return round(now * _NS) - duration
    zoned = any(c in value for c in "zZ+") or value.count("-") == 3
    if "." in value:
        layout = _ZONED_NANO if zoned else _LOCAL_NANO
    elif "T" in value:
        colons = value.count(":")
        if zoned and "z" not in value.lower() and colons > 0:
            colons -= 1  # the offset's own colon
        layout = (_ZONED_CLOCK if zoned else _LOCAL_CLOCK)[min(colons, 2)]
    else:
        layout = _ZONED_DATE if zoned else _LOCAL_DATE
    match = re.match(layout, value)
    moment = _moment(match, zoned, now) if match else None
    if moment is not None:
        return moment
    unix = re.match(_UNIX, value)
    if "-" in value or unix is None:  # a dash: a date Docker could not read either
        raise InvalidArgument(f'failed to parse value as time or duration: "{text}"')
    seconds, fraction = unix.groups()
    nanos = int(int(fraction) * 10 ** (9 - len(fraction))) if fraction else 0
    return int(seconds) * _NS + nanos


def _moment(match: re.Match[str], zoned: bool, now: float) -> int | None:
    """Nanoseconds for a matched layout; None for an impossible date (month 13...)."""
    year, month, day, hour, minute, second, fraction, *zone = match.groups()
    if zoned:
        offset = _offset(zone[0])
    else:
        local = datetime.fromtimestamp(now).astimezone().utcoffset()
        offset = local or timedelta(0)
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=timezone(offset))
    except ValueError:
        return None
    return int(moment.timestamp()) * _NS + int((fraction or "0").ljust(9, "0"))


def _offset(zone: str) -> timedelta:
    if zone in ("Z", "z"):
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return timedelta(minutes=-minutes if zone[0] == "-" else minutes)


def rfc3339_ns(text: str) -> int | None:
    """Nanoseconds for a stored RFC 3339 time (any fraction, Z or offset); None if it is not one."""
    if (len(text) == 30 and text[19] == "." and text[29] == "Z"
            and text[4] + text[7] + text[10] + text[13] + text[16] == "--T::"):
        # What format_rfc3339 writes, read by datetime's C parser: the pattern below
        # took ~2-3x as long, and ps -a reads two or three of these a container.
        fraction = text[20:29]
        if fraction.isdecimal() and fraction.isascii():
            try:
                moment = datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
            except ValueError:
                pass  # the pattern decides
            else:
                return int(moment.timestamp()) * _NS + int(fraction)
    match = re.match(_RFC3339, text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:  # datetime, not calendar.timegm: calendar imports locale (~2 ms of a first `ps`)
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                          int(second), tzinfo=UTC)
    except ValueError:
        return None
    seconds = int(moment.timestamp())
    seconds -= int(_offset(zone).total_seconds())
    return seconds * _NS + int((fraction or "0")[:9].ljust(9, "0"))


_second_cache: tuple[int, str] = (-1, "")


def format_rfc3339(ns: int, local: bool = False) -> str:
    """Go's RFC3339NanoFixed: ``2024-01-02T03:04:05.000000000Z``, or with the local offset.

    The UTC form is written for every chunk of container output: the text of the
    last second is kept.
    """
    global _second_cache
    seconds, nanos = divmod(ns, _NS)
    if local:
        moment = datetime.fromtimestamp(seconds).astimezone()
        offset = moment.strftime("%z")
        zone = "Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
        return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{nanos:09d}{zone}"
    if _second_cache[0] != seconds:
        _second_cache = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{_second_cache[1]}.{nanos:09d}Z"


def go_duration(ns: int) -> str:
    """Go's time.Duration.String() for the whole units Docker's texts show: 30s, 1m30s, 500ms."""
    if ns % _NS:
        if ns % 1_000_000 == 0:
            return f"{ns // 1_000_000}ms"
        return f"{ns / _NS:g}s"
    seconds = ns // _NS
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}h" if hours else ""
    if hours or minutes:
        text += f"{minutes}m"
    return f"{text}{secs}s"
