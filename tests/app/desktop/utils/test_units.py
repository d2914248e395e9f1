from __future__ import annotations

from app.desktop.utils.units import age


def test_age() -> None:
    now = 1_700_000_000.0
    assert age("2023-11-14T22:13:20Z", now) == "just now"
    assert age("2023-11-11T22:13:20.5Z", now) == "3 days ago"
    assert age("", now) == ""
