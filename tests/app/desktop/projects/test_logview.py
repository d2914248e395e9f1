"""The project's log view: lines of every container in time order whatever order they come
in, each once, prefixes as wide as the longest name, and the filter."""

from __future__ import annotations

from pathlib import Path
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


def test_a_containers_lines_hide_the_view_jumps_and_saves(qtbot: Any, tmp_path: Path) -> None:
    from engine import rfc3339_ns

    view = ProjectLogView()
    qtbot.addWidget(view)
    view.set_containers(["shop-web-1", "shop-db-1"])
    view.add([LogLine(f"2026-01-01T00:00:0{n}.000000000Z", "shop-web-1" if n % 2 else
                      "shop-db-1", f"line {n}") for n in range(1, 8)])
    assert sorted(view._toggles) == ["shop-db-1", "shop-web-1"]
    view._toggles["shop-db-1"].click()  # hidden with its button
    assert view.shown_text().splitlines() == [
        "shop-web-1 | line 1", "shop-web-1 | line 3", "shop-web-1 | line 5",
        "shop-web-1 | line 7"]
    view.add([LogLine("2026-01-01T00:00:09.000000000Z", "shop-db-1", "still hidden")])
    assert "still hidden" not in view.shown_text()
    # the first shown line at or after 00:00:04 is web's line 5, the third shown
    assert view.jump_to(rfc3339_ns("2026-01-01T00:00:04Z") or 0) == 2
    assert view.text.textCursor().block().text().replace("\xa0", " ") == "shop-web-1 | line 5"
    assert view.jump_to(rfc3339_ns("2027-01-01T00:00:00Z") or 0) == 3  # after all: the last
    messages: list[str] = []
    view.message.connect(messages.append)
    dest = tmp_path / "shop.log"
    assert view.save_to(dest) == 4
    assert dest.read_text() == view.shown_text() + "\n"
    assert messages == [f"Saved 4 lines to {dest}"]
    assert view.save_to(tmp_path / "no" / "such" / "dir.log") == 0
    assert messages[-1].startswith("Could not save the logs to ")
    view.show_container("shop-db-1", True)
    assert view._toggles["shop-db-1"].isChecked() and "still hidden" in view.shown_text()
    view.clear()
    assert view._toggles == {} and view.jump_to(0) is None
