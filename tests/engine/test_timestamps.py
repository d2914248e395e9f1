"""Docker's --since/--until forms (moby's GetTimestamp) and the stored RFC 3339 times."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from engine.errors import InvalidArgument
from engine.timestamps import (
    format_rfc3339,
    go_duration,
    parse_duration,
    parse_timestamp,
    rfc3339_ns,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()  # 1714564800
S = 1_000_000_000
T = 1_714_564_800 * S  # NOW in ns


@pytest.fixture
def kolkata(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC+05:30 (no daylight saving), so zoneless times are told apart."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("text", "ns"), [
    ("10m", 600 * S), ("1h30m", 5400 * S), ("1.5s", S + S // 2), ("250ms", S // 4),
    ("-2s", -2 * S), ("+3h", 3 * 3600 * S), ("1h0.5m", 3630 * S), ("7us", 7000),
    ("7µs", 7000), ("12ns", 12), (".5s", S // 2), ("5.s", 5 * S), ("0", 0),
])
def test_go_durations(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["", "10", "m", "10x", "1h 30m", ".s", "1d", "-", "10M"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(("text", "ns"), [
    ("10m", T - 600 * S),  # a duration back from now
    ("-10m", T + 600 * S),  # Go durations may be negative: the future
    ("0", 0),  # "0" is the Unix epoch, not "now"
    ("1714564800", T),  # Unix seconds
    ("1714564800.5", T + S // 2),  # with a fraction
    ("1714564800.000000001", T + 1),
    ("2024-05-01T12:00:00Z", T),
    ("2024-05-01T12:00:00.25Z", T + S // 4),
    ("2024-05-01T14:00:00.000000001+02:00", T + 1),
    ("2024-05-01T07:00:00-05:00", T),  # three dashes: a zone
    ("2024-05-01T12Z", T),  # shorter zoned forms
    ("2024-05-01T12:00Z", T),
    ("2024-05-01T14:00+02:00", T),
    ("2024-05-01Z", T - 12 * 3600 * S),
])
def test_timestamps_with_a_zone_or_none_needed(text: str, ns: int) -> None:
    assert parse_timestamp(text, NOW) == ns


@pytest.mark.usefixtures("kolkata")
@pytest.mark.parametrize(("text", "ns"), [
    ("2024-05-01T17:30:00", T),  # no zone: local time (UTC+05:30 here)
    ("2024-05-01T17:30:00.5", T + S // 2),
    ("2024-05-01T17:30", T),
    ("2024-05-01T17", T - 30 * 60 * S),
    ("2024-05-01", T - (17 * 3600 + 30 * 60) * S),  # local midnight
])
def test_zoneless_times_are_local_as_in_docker(text: str, ns: int) -> None:
    assert parse_timestamp(text, NOW) == ns


@pytest.mark.parametrize("text", [
    "yesterday", "", "  ", "2024-13-01", "2024-05-01T25:00:00Z", "2024-05-01 12:00:00",
    "-5", "1714564800.x", "12:00", "2024-05-01T12:00:00+0200x",
])
def test_bad_times_are_one_line_errors(text: str) -> None:
    with pytest.raises(InvalidArgument, match="failed to parse value as time or duration") \
            as caught:
        parse_timestamp(text, NOW)
    assert "\n" not in str(caught.value)


def test_stored_rfc3339_round_trip() -> None:
    stamp = "2024-05-01T11:58:00.123456789Z"
    assert rfc3339_ns(stamp) == T - 120 * S + 123456789
    assert format_rfc3339(rfc3339_ns(stamp) or 0) == stamp
    assert rfc3339_ns("2024-05-01T13:58:00+02:00") == T - 120 * S
    assert rfc3339_ns("2024-05-01T11:58:00.1234567891Z") == T - 120 * S + 123456789
    assert format_rfc3339(T) == "2024-05-01T12:00:00.000000000Z"
    for bad in ("not a time", "", "2024-02-30T00:00:00Z", "2024-05-01T12:00:00"):
        assert rfc3339_ns(bad) is None


def test_stored_form_read_as_the_pattern_reads_it() -> None:
    """format_rfc3339's own form has a quicker way in; the answers are the same."""
    assert rfc3339_ns("2024-05-01T12:00:00.000000001Z") == T + 1
    assert rfc3339_ns("1970-01-01T00:00:00.000000000Z") == 0
    assert rfc3339_ns("2024-02-29T23:59:59.999999999Z") == \
        int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * S - 1
    for bad in ("2024-02-30T00:00:00.000000000Z", "2024-05-01T24:00:00.000000000Z",
                "2024-05-01T12:00:60.000000000Z", "2024-05-01T12:00:00.00000000xZ"):
        assert rfc3339_ns(bad) is None
    # what the pattern accepts beyond it still reads: other digits, a space for T
    assert rfc3339_ns("2024-05-01T1\uff12:00:00.000000000Z") == T
    assert rfc3339_ns("2024-05-01 12:00:00.000000001Z") == T + 1


@pytest.mark.usefixtures("kolkata")
def test_local_rfc3339() -> None:
    assert format_rfc3339(T + 5, local=True) == "2024-05-01T17:30:00.000000005+05:30"


def test_go_durations_as_docker_prints_them() -> None:
    assert [go_duration(n) for n in (30 * S, 90 * S, 3700 * S, 200_000_000)] == \
        ["30s", "1m30s", "1h1m40s", "200ms"]
