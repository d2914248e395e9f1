"""The project's log view: lines of every container in time order whatever order they come
in, each once, prefixes as wide as the longest name, and the filter."""

from __future__ import annotations

from typing import Any

from app.desktop.projects.logview import LogLine, ProjectLogView


def test_lines_interleave_in_time_once_each(qtbot: Any) -> None:
    view = ProjectLogView()
    qtbot.addWidget(view)
    view.set_containers(["shop-web-1", "shop-db-1"])
    view.add([LogLine("2026-01-01T00:00:02.000000000Z", "shop-web-1", "web 2"),
              LogLine("2026-01-01T00:00:01.000000000Z", "shop-db-1", "db 1")])
    # an older line arriving late (a follow that starts from the last lines) goes in place
    late = LogLine("2026-01-01T00:00:01.500000000Z", "shop-web-1", "web 1.5")
    view.add([late, LogLine("2026-01-01T00:00:03.000000000Z", "shop-db-1", "db 3")])
    view.add([late])  # followed again: not twice
    assert view.shown_text().splitlines() == ["shop-db-1  | db 1", "shop-web-1 | web 1.5",
                                              "shop-web-1 | web 2", "shop-db-1  | db 3"]
    view.filter.setText("DB")  # a line's text or its container's name, any case
    assert view.shown_text().splitlines() == ["shop-db-1  | db 1", "shop-db-1  | db 3"]
    view.case.setChecked(True)
    assert view.shown_text() == ""
    view.case.setChecked(False)
    view.regex.setChecked(True)
    view.filter.setText("web [12]$")
    assert view.shown_text().splitlines() == ["shop-web-1 | web 2"]
    view.filter.setText("web [")  # not a pattern yet: nothing hidden meanwhile
    assert len(view.shown_text().splitlines()) == 4
    view.filter.setText("")
    view.timestamps.setChecked(True)
    assert view.shown_text().splitlines()[0].startswith("shop-db-1  | ")
    assert view.shown_text().splitlines()[0].endswith(".000 db 1")
    view.timestamps.setChecked(False)
    view.set_containers(["shop-worker-10"])  # a longer name: the prefixes line up again
    assert view.shown_text().splitlines()[0] == "shop-db-1      | db 1"
    view.clear()
    assert view.shown_text() == "" and view.lines() == []
