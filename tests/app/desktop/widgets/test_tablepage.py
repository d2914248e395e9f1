"""The list habits every page shares: filter, sort, multi-select, keys, context menu."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from app.desktop.widgets.prunedialog import Preview, PruneDialog
from app.desktop.widgets.rowtable import Column
from app.desktop.widgets.tablepage import TablePage


@dataclass(frozen=True)
class Row:
    name: str
    size: int


COLUMNS = (Column("Name", lambda r: r.name),
           Column("Size", lambda r: f"{r.size} B", sort=lambda r: r.size, right=True))
ROWS = [Row("web", 300), Row("db", 20), Row("web-cache", 1000), Row("queue", 5)]


def _page(qtbot: Any) -> tuple[TablePage, list[list[Row]]]:
    page = TablePage("Things", "Some things.", COLUMNS)
    qtbot.addWidget(page)
    removed: list[list[Row]] = []
    page.add_action("Remove…", lambda: removed.append(page.selected_rows()),
                    shortcut="Del")
    page.add_action("Open", lambda: removed.append([]), opens=True,
                    enabled=lambda rows: len(rows) == 1)
    page.set_rows(ROWS)
    page.show()
    return page, removed


def test_filter_sort_and_select(qtbot: Any, qtmodeltester: Any) -> None:
    page, _removed = _page(qtbot)
    qtmodeltester.check(page.proxy)
    assert [r.name for r in page.visible_rows()] == ["db", "queue", "web", "web-cache"]
    page.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # by size, not by text
    assert [r.name for r in page.visible_rows()] == ["web-cache", "web", "db", "queue"]
    page.filter.setText("WEB cache")  # every word, any case
    assert [r.name for r in page.visible_rows()] == ["web-cache"]
    page.filter.clear()
    assert page.select_where(lambda r: r.name.startswith("web")) == 2
    assert {r.name for r in page.selected_rows()} == {"web", "web-cache"}
    remove, open_ = page.actions_list()
    assert remove.isEnabled() and not open_.isEnabled()  # Open needs exactly one
    page.set_rows([*ROWS, Row("new", 1)])  # a refresh keeps the selection
    assert {r.name for r in page.selected_rows()} == {"web", "web-cache"}


def test_keys_and_context_menu(qtbot: Any) -> None:
    page, removed = _page(qtbot)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)  # shortcuts only reach the active window
    page.select_where(lambda r: r.name in ("db", "queue"))
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert [{r.name for r in rows} for rows in removed] == [{"db", "queue"}]
    page.select_where(lambda r: r.name == "db")
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert removed[-1] == []  # Enter opens
    page.table.customContextMenuRequested.emit(page.table.rect().center())
    menu = page.findChild(QMenu)
    assert menu is not None
    assert [a.text() for a in menu.actions()] == ["Remove…", "Open"]
    menu.close()


def test_prune_dialog_previews_each_choice(qtbot: Any) -> None:
    pruned: list[str] = []
    asked: list[tuple[str, Callable[[Preview], None]]] = []
    dialog = PruneDialog("Prune", (("some", "Some"), ("all", "All")),
                         lambda key, answer, _failed: asked.append((key, answer)),
                         pruned.append)
    qtbot.addWidget(dialog)
    assert [key for key, _ in asked] == ["some"] and not dialog.prune_button.isEnabled()
    asked[0][1]((["a"], 2000))
    assert dialog.previewed() == ["a"] and "2kB" in dialog.summary.text().replace(" ", "")
    dialog.choose("all")
    assert dialog.previewed() == [] and not dialog.prune_button.isEnabled()
    asked[0][1]((["late"], 1))  # the answer for a choice no longer made is dropped
    assert dialog.shown == "" and dialog.previewed() == []
    with qtbot.wait_signal(dialog.preview_shown):
        asked[1][1]((["a", "b"], -1))
    assert dialog.previewed() == ["a", "b"] and "returning" not in dialog.summary.text()
    dialog.prune_button.click()
    assert pruned == ["all"]


def test_a_failed_preview_says_why_instead_of_counting_for_ever(qtbot: Any) -> None:
    dialog = PruneDialog("Prune", (("a", "A"),),
                         lambda _key, _answer, failed: failed("The helper is not running."),
                         lambda _key: None)
    qtbot.addWidget(dialog)
    assert dialog.summary.text() == ("Could not count what would be removed. "
                                     "The helper is not running.")
    assert not dialog.prune_button.isEnabled() and dialog.previewed() == []
