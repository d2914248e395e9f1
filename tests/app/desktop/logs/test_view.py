from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from app.desktop.logs.model import time_key
from app.desktop.logs.view import LogView
from tests.app.desktop.conftest import screenshot, wait_for

T0 = 1_767_322_800


def line(i: int, text: str, stream: str = "stdout") -> bytes:
    return f"{time_key((T0 + i) * 1_000_000_000)} {stream} F {text}\n".encode()


SAMPLE = [
    ("stdout", "\x1b[1mStarting web server\x1b[0m on port 8080"),
    ("stdout", "\x1b[32mINFO\x1b[0m  loaded configuration from /etc/app/config.yml"),
    ("stdout", "\x1b[32mINFO\x1b[0m  connected to database at db:5432"),
    ("stderr", "\x1b[33mWARN\x1b[0m  cache directory /var/cache/app is not writable"),
    ("stdout", "\x1b[36mGET\x1b[0m /healthz 200 0.4ms"),
    ("stdout", "\x1b[36mGET\x1b[0m /api/items 200 12.1ms"),
    ("stderr", "\x1b[31mERROR\x1b[0m request /api/orders failed: timeout after 5s"),
    ("stdout", "\x1b[36mPOST\x1b[0m /api/orders 201 31.7ms"),
]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "ctr.log"
    data = [line(i, text, stream) for i, (stream, text) in
            enumerate(SAMPLE * 30)]
    path.write_bytes(b"".join(data))
    return path


@pytest.fixture
def view(qapp: Any, log_path: Path) -> Iterator[LogView]:
    widget = LogView()
    widget.resize(980, 520)
    widget.show()
    widget.open(log_path, live=False)
    assert widget.model.wait_idle()
    qapp.processEvents()
    qapp.processEvents()
    yield widget
    widget.close_log()
    widget.close()


def test_opens_at_the_end_and_follows(view: LogView) -> None:
    assert view.model.rowCount() == 240
    assert view.following
    bar = view.table.verticalScrollBar()
    assert bar.value() == bar.maximum()
    assert view.status.text() == "240 lines"


def test_search_highlight_steps_and_filter(qapp: Any, view: LogView) -> None:
    view.search.setText("api/orders")
    view.apply_search()
    assert view.model.wait_idle()
    qapp.processEvents()
    qapp.processEvents()
    assert view.matches.text() == "60 matches"
    view.table.setCurrentIndex(view.model.index(0, 1))
    view.next_match()
    assert view.table.currentIndex().row() == 6
    assert not view.following  # stepping to a match stops following
    view.next_match()
    assert view.table.currentIndex().row() == 7
    view.previous_match()
    assert view.table.currentIndex().row() == 6
    screenshot(view, "log-view")
    view.only_matching.setChecked(True)
    assert view.model.rowCount() == 60
    assert all("/api/orders" in view.model.index(r, 1).data() for r in range(60))
    view.only_matching.setChecked(False)
    assert view.model.rowCount() == 240


def test_regex_and_invalid_pattern(qapp: Any, view: LogView) -> None:
    view.regex.setChecked(True)
    view.search.setText(r"\d+\.\dms$")
    view.apply_search()
    assert view.model.wait_idle()
    qapp.processEvents()
    qapp.processEvents()
    assert view.model.match_count == 90
    view.search.setText("([")
    view.apply_search()
    assert view.matches.text() == "Invalid pattern"
    assert "Invalid regular expression" in view.search.toolTip()


def test_timestamps_toggle_copy_clear_and_jump(qapp: Any, view: LogView) -> None:
    view.timestamps.setChecked(False)
    assert view.table.isColumnHidden(0)
    view.table.selectRow(3)
    assert view.copy_selection() == "WARN  cache directory /var/cache/app is not writable\n"
    assert QGuiApplication.clipboard().text().startswith("WARN")
    view.timestamps.setChecked(True)
    assert view.copy_selection().startswith(time_key((T0 + 3) * 1_000_000_000) + " stderr")
    assert view.jump_to((T0 + 100) * 1_000_000_000) == 100
    assert view.table.currentIndex().row() == 100
    view.clear()
    assert view.model.rowCount() == 0
    assert view.status.text() == "0 of 240 lines"


def test_save_writes_what_is_shown(qapp: Any, view: LogView, tmp_path: Path) -> None:
    view.search.setText("ERROR")
    view.apply_search()
    assert view.model.wait_idle()
    qapp.processEvents()
    view.only_matching.setChecked(True)
    view.timestamps.setChecked(False)
    dest = tmp_path / "errors.log"
    view.save_to(dest)
    assert dest.read_text().splitlines() == ["ERROR request /api/orders failed: timeout "
                                             "after 5s"] * 30


def test_following_a_growing_log(run: Callable[..., Any], qapp: Any, tmp_path: Path) -> None:
    path = tmp_path / "live.log"
    path.write_bytes(b"")
    view = LogView()
    view.resize(600, 300)
    view.show()
    view.open(path, live=True)
    try:
        with open(path, "ab") as out:
            out.write(b"".join(line(i, f"tick {i}") for i in range(500)))
        run(wait_for(lambda: view.model.rowCount() == 500, view.model.rowsInserted,
                     what="500 rows"))
        bar = view.table.verticalScrollBar()
        assert bar.value() == bar.maximum()
        bar.triggerAction(bar.SliderAction.SliderToMinimum)  # the user scrolls up
        assert not view.following
        with open(path, "ab") as out:
            out.write(line(500, "tick 500"))
        run(wait_for(lambda: view.model.rowCount() == 501, view.model.rowsInserted,
                     what="501 rows"))
        assert bar.value() == 0  # not following: the view stays where the user put it
        view.follow.setChecked(True)
        assert bar.value() == bar.maximum()
    finally:
        view.close_log()
        view.close()


def test_a_rotation_while_reading_back_waits_for_following(run: Callable[..., Any], qapp: Any,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "live.log"
    path.write_bytes(b"".join(line(i, f"tick {i}") for i in range(500)))
    view = LogView()
    view.resize(600, 300)
    view.show()
    view.open(path, live=True)
    try:
        run(wait_for(lambda: view.model.rowCount() == 500, view.model.rowsInserted,
                     what="500 rows"))
        bar = view.table.verticalScrollBar()
        bar.triggerAction(bar.SliderAction.SliderToMinimum)  # the user scrolls up
        path.rename(path.with_name("live.log.1"))  # the monitor rotates the log
        path.write_bytes(line(500, "tick 500"))
        view.model.refresh()
        assert view.model.wait_idle()
        qapp.processEvents()
        assert view.model.rowCount() == 500 and bar.value() == 0  # still reading
        view.follow.setChecked(True)
        run(wait_for(lambda: view.model.rowCount() == 1, view.model.modelReset,
                     view.model.rowsInserted, what="the new file's row"))
        assert view.model.index(0, 1).data() == "tick 500"
    finally:
        view.close_log()
        view.close()


def test_missing_log_shows_a_sentence(qapp: Any, tmp_path: Path) -> None:
    view = LogView()
    view.open(tmp_path / "nothing.log", live=False)
    assert "Nothing written yet" in view.placeholder.text()
    assert not view.is_open()


def test_an_empty_log_says_nothing_was_written(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    path.write_bytes(b"")
    view = LogView()
    qtbot.addWidget(view)
    view.open(path, live=True)
    assert view.model.wait_idle()
    assert view.is_open() and view.status.text() == "Nothing written yet"
    path.write_bytes(line(0, "hello"))
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    view._update_status()
    assert view.status.text() == "1 line"
    view.close_log()


def test_the_jump_and_save_dialogs_open(qtbot: Any, log_path: Path) -> None:
    from PySide6.QtWidgets import QDateTimeEdit

    view = LogView()
    qtbot.addWidget(view)
    view.open(log_path, live=False)
    qtbot.waitUntil(lambda: view.model.rowCount() == len(SAMPLE) * 30)
    jump = view.ask_jump()
    edit = jump.findChild(QDateTimeEdit)
    assert edit is not None and edit.dateTime().toSecsSinceEpoch() == T0  # the first line's
    jump.reject()
    save = view.ask_save()
    assert save.isVisible()
    save.reject()
