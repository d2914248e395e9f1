"""A page listing one kind of thing (images, volumes, networks) the way the
containers list does: a filter box, sortable columns, several rows selected at
once for a bulk action, the actions as buttons, in a context menu and on keys.

A page describes its columns once (:class:`~app.desktop.widgets.rowtable.Column`),
hands rows to :meth:`TablePage.set_rows` and adds its actions with
:meth:`TablePage.add_action`; each action sees the selected rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.widgets.rowtable import Column, RowTable

__all__ = ["TablePage"]


class _Filter(QSortFilterProxyModel):
    """Keeps the rows whose text, in any column, contains every word typed."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setSortRole(RowTable.SortRole)

    def set_text(self, text: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+: invalidateFilter is deprecated
            self.beginFilterChange()
            self._words = text.lower().split()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._words = text.lower().split()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Any) -> bool:
        if not self._words:
            return True
        model = self.sourceModel()
        text = " ".join(str(model.index(source_row, column, source_parent).data() or "")
                        for column in range(model.columnCount())).lower()
        return all(word in text for word in self._words)


class TablePage(QWidget):
    """``selection_changed`` fires when the selected rows change; ``activated(row)``
    when a row is opened (double click, Enter)."""

    selection_changed = Signal()
    activated = Signal(object)
    message = Signal(str)  # for the status bar

    def __init__(self, title: str, blurb: str, columns: Sequence[Column],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RowTable(columns, self)
        self.proxy = _Filter(self)
        self.proxy.setSourceModel(self.model)
        heading = QLabel(f"<b>{title}</b>", self)
        heading.setAccessibleName(title)
        self.blurb = QLabel(blurb, self)
        self.blurb.setWordWrap(True)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(f"Filter {title.lower()}")
        self.filter.setAccessibleName(f"Filter {title.lower()}")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.table = QTableView(self)
        self.table.setAccessibleName(title)
        self.setFocusProxy(self.table)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Interactive)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self._selection_changed())
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(4)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.filter, 1)
        self.body = QVBoxLayout()
        self.body.addWidget(self.table, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.blurb)
        layout.addLayout(self.buttons)
        layout.addLayout(self.body, 1)
        self.buttons.addStretch(1)
        self._actions: list[tuple[QAction, Callable[[list[Any]], bool]]] = []
        self._open: QAction | None = None

    # -- what a page adds --------------------------------------------------------------

    def add_action(self, text: str, slot: Callable[[], None], *,
                   enabled: Callable[[list[Any]], bool] = lambda rows: bool(rows),
                   shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                   button: bool = True,
                   opens: bool = False) -> QAction:
        """An action over the selected rows; ``enabled(rows)`` says when it applies.
        ``opens``: the action run by a double click or Enter."""
        action = QAction(text, self)
        action.triggered.connect(lambda _c=False: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(action)
        self._actions.append((action, enabled))
        if button:
            tool = QToolButton(self)
            tool.setDefaultAction(action)
            tool.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.buttons.insertWidget(self.buttons.count() - 1, tool)
        if opens:
            self._open = action
        self._selection_changed()
        return action

    def actions_list(self) -> list[QAction]:
        return [action for action, _enabled in self._actions]

    # -- rows ------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Any]) -> None:
        """New rows; the selection is kept for the rows with the same key."""
        chosen = {self.key(row) for row in self.selected_rows()}
        first = not self.model.rows()
        self.model.set_rows(rows)
        if first:
            self.table.resizeColumnsToContents()
        if chosen:
            self.select_where(lambda row: self.key(row) in chosen)
        self._selection_changed()

    def key(self, row: Any) -> Any:
        """What identifies a row across refreshes (pages override it)."""
        return row

    def rows(self) -> list[Any]:
        return self.model.rows()

    def visible_rows(self) -> list[Any]:
        return [self.proxy.index(n, 0).data(RowTable.RowRole)
                for n in range(self.proxy.rowCount())]

    def selected_rows(self) -> list[Any]:
        rows = self.table.selectionModel().selectedRows()
        return [index.data(RowTable.RowRole) for index in sorted(rows, key=lambda i: i.row())]

    def select_where(self, wanted: Callable[[Any], bool]) -> int:
        """Select the rows ``wanted`` accepts; returns how many."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        for number in range(self.proxy.rowCount()):
            index = self.proxy.index(number, 0)
            if wanted(index.data(RowTable.RowRole)):
                selection.select(index, index)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | \
            QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(selection, flags)
        return len(selection.indexes())

    # -- internals ------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        rows = self.selected_rows()
        for action, enabled in self._actions:
            action.setEnabled(enabled(rows))
        self.selection_changed.emit()

    def _on_table_context_menu(self, point: QPoint) -> None:
        menu = QMenu(self)
        for action in self.actions_list():
            menu.addAction(action)
        menu.popup(self.table.viewport().mapToGlobal(point))

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        if self._open is not None and self._open.isEnabled():
            self._open.trigger()
        else:
            self.activated.emit(index.data(RowTable.RowRole))

    def keyPressEvent(self, event: Any) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._open is not None \
                and self._open.isEnabled():
            self._open.trigger()
            return
        super().keyPressEvent(event)
