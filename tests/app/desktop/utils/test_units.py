from __future__ import annotations

import pytest

from app.desktop.utils.units import age, format_size_limit, human_size, parse_size
from engine.errors import InvalidArgument


def test_human_size() -> None:
    assert human_size(0) == "0 B"
    assert human_size(999) == "999 B"
    assert human_size(4_260_000) == "4.26 MB"


def test_parse_and_format_size_limits() -> None:
    assert parse_size("") is None
    assert parse_size("512m") == 512 * 1024 * 1024
    assert parse_size("1.5g") == int(1.5 * 1024**3)
    assert parse_size("1048576") == 1048576
    assert format_size_limit(512 * 1024 * 1024) == "512m"
    assert format_size_limit(None) == ""
    with pytest.raises(InvalidArgument, match="not a size"):
        parse_size("lots")


def test_age() -> None:
    now = 1_700_000_000.0
    assert age("2023-11-14T22:13:20Z", now) == "just now"
    assert age("2023-11-11T22:13:20.5Z", now) == "3 days ago"
    assert age("", now) == ""
