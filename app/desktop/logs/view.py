"""The Logs tab: a table over the container's log file, with follow, search,
filter, jump to time, copy, save and clear (the view; deleting the log itself is
the owner's to do, on ``delete_requested``).

The table's model is :class:`~app.desktop.logs.model.LogModel`; it never holds
the log, so a ten-million-line file opens as fast as a small one and a flood
costs one row insertion per scanner report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QFontDatabase,
    QFontMetrics,
    QGuiApplication,
    QHideEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollBar,
    QSizePolicy,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.logs.delegate import LogDelegate
from app.desktop.logs.model import LogModel

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog, QFileDialog

__all__ = ["LogView"]

Runner = Callable[[str, Callable[[], Any], Callable[[Any], None]], object]


class LogView(QWidget):
    """``open(path, live)`` shows a log file; ``runner`` runs blocking work off the GUI
    thread (the bridge's ``run_in_thread``)."""

    following_changed = Signal(bool)
    message = Signal(str)  # a short status sentence ("Saved 1,204 lines to …")
    delete_requested = Signal()  # "Delete Log…": the log file's lines, for good

    def __init__(self, runner: Runner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logView")
        self.setAccessibleName("Logs")
        self._runner = runner
        self.model = LogModel(self)
        self.delegate = LogDelegate(self.model, self)
        self._auto_scroll = False
        self._search_error = ""

        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.table = QTableView(self)
        self.table.setAccessibleName("Log lines")
        self.table.setFont(font)
        self.table.setModel(self.model)
        self.table.setItemDelegate(self.delegate)
        self.delegate.set_font(font)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # millions of rows: O(1)
        vertical.setDefaultSectionSize(QFontMetrics(font).height() + 2)
        horizontal = self.table.horizontalHeader()
        horizontal.hide()
        horizontal.setStretchLastSection(True)
        horizontal.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(0, QFontMetrics(font).horizontalAdvance("00:00:00.000") + 16)
        scrollbar: QScrollBar = self.table.verticalScrollBar()
        scrollbar.actionTriggered.connect(self._on_scrollbar_action)

        self.follow = QCheckBox("Follow", self)
        self.follow.setAccessibleName("Follow new lines")
        self.follow.setToolTip("Keep showing the newest lines (End)")
        self.follow.setChecked(True)
        self.follow.toggled.connect(self._on_follow_toggled)
        self.timestamps = QCheckBox("Timestamps", self)
        self.timestamps.setAccessibleName("Show timestamps")
        self.timestamps.setChecked(True)
        self.timestamps.toggled.connect(self._on_timestamps_toggled)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search (Ctrl+F)")
        self.search.setAccessibleName("Search the log")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._schedule_search)
        self.search.returnPressed.connect(self.next_match)
        self.case = QCheckBox("Aa", self)
        self.case.setToolTip("Match case")
        self.case.setAccessibleName("Match case")
        self.case.toggled.connect(self._schedule_search)
        self.regex = QCheckBox(".*", self)
        self.regex.setToolTip("Regular expression")
        self.regex.setAccessibleName("Regular expression")
        self.regex.toggled.connect(self._schedule_search)
        self.only_matching = QCheckBox("Only matching", self)
        self.only_matching.setAccessibleName("Show only matching lines")
        self.only_matching.toggled.connect(self._on_only_matching_toggled)
        self.matches = QLabel("", self)
        self.matches.setAccessibleName("Search results")
        self.matches.setMinimumWidth(QFontMetrics(self.font()).horizontalAdvance(
            "000,000 matches"))

        self.a_previous = self._action("Previous Match", "Shift+F3", self.previous_match)
        self.a_next = self._action("Next Match", "F3", self.next_match)
        self.a_find = self._action("Find…", "Ctrl+F", self.focus_search)
        self.a_jump = self._action("Jump to Time…", "Ctrl+J", self.ask_jump)
        self.a_copy = self._action("Copy Lines", "Ctrl+C", self.copy_selection)
        self.a_save = self._action("Save Log…", "Ctrl+S", self.ask_save)
        self.a_clear = self._action("Clear View", "Ctrl+Shift+K", self.clear)
        self.a_delete = self._action("Delete Log…", "Ctrl+Shift+Del",
                                     self.delete_requested.emit)
        self.a_delete.setToolTip("Delete every line the container wrote so far, for good "
                                 "(Ctrl+Shift+Del)")
        self.a_end = self._action("Follow Newest Lines", "End", lambda: self.follow.setChecked(
            True))
        self.a_copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.table.addAction(self.a_copy)
        # While the Logs tab is showing, these work wherever the focus is in the window;
        # on other tabs they are off (Ctrl+S must not save a log from the Settings tab).
        self._window_actions = (self.a_find, self.a_next, self.a_previous, self.a_jump,
                                self.a_save, self.a_clear, self.a_delete)
        for action in self._window_actions:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setEnabled(False)

        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.follow)
        top.addWidget(self.timestamps)
        top.addSpacing(12)
        top.addWidget(self.search, 1)
        top.addWidget(self.case)
        top.addWidget(self.regex)
        for action in (self.a_previous, self.a_next):
            top.addWidget(self._button(action, "◀" if action is self.a_previous else "▶"))
        bottom = QHBoxLayout()
        bottom.addWidget(self.only_matching)
        bottom.addWidget(self.matches)
        for action, short in ((self.a_jump, "Jump to…"), (self.a_copy, "Copy"),
                              (self.a_save, "Save…"), (self.a_clear, "Clear"),
                              (self.a_delete, "Delete…")):
            bottom.addWidget(self._button(action, short))
        self.status = QLabel("", self)
        self.status.setAccessibleName("Log status")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setMinimumWidth(60)
        bottom.addWidget(self.status, 1)
        self.placeholder = QLabel("", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAccessibleName("Log message")
        self.placeholder.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.placeholder, 1)
        layout.addLayout(bottom)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self.apply_search)
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(200)
        self._status_timer.timeout.connect(self._update_status)
        self.model.grew.connect(self._on_model_grew)
        self.model.search_progress.connect(self._on_model_search_progress)
        self.model.modelReset.connect(self._on_model_reset)
        # Scrolled up to read, a rotation of the log does not pull the rows away.
        self.following_changed.connect(self.model.set_follow_rotation)
        self._update_status()

    def _action(self, text: str, shortcut: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        native = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{text.rstrip('…')} ({native})")
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _button(self, action: QAction, text: str = "") -> QToolButton:
        if text:  # the button's short label; menus show text(). (A label set on the
            # button itself is lost whenever the action changes, e.g. is enabled.)
            action.setIconText(text)
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setAccessibleName(action.text().rstrip("…"))
        return button

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        for action in self._window_actions:
            action.setEnabled(True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if not event.spontaneous():  # a tab or page change, not the window minimised
            for action in self._window_actions:
                action.setEnabled(False)

    def menu_actions(self) -> list[QAction]:
        return [self.a_find, self.a_next, self.a_previous, self.a_jump, self.a_copy,
                self.a_save, self.a_clear, self.a_delete, self.a_end]

    # -- the file -------------------------------------------------------------------

    def open(self, path: Path, *, live: bool) -> None:
        self.delegate.current_match = -1
        try:
            self.model.open(path, live=live)
        except FileNotFoundError:
            self.model.close()
            self.show_placeholder("Nothing written yet: the log appears when the container "
                                  "starts.")
            return
        except OSError as exc:
            self.model.close()
            self.show_placeholder(f"The log cannot be read: {exc.strerror or exc}. Check that "
                                  "you may read it, or restart Skiff.")
            return
        self.placeholder.hide()
        self.table.show()
        if self.search.text():
            self.apply_search()
        self._update_status()

    def close_log(self) -> None:
        self.model.close()

    def is_open(self) -> bool:
        return self.model.path is not None

    def set_live(self, live: bool) -> None:
        self.model.set_live(live)
        self.model.refresh()

    def show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.placeholder.show()
        self.table.hide()

    # -- following ------------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self.follow.isChecked()

    def _on_follow_toggled(self, on: bool) -> None:
        if on:
            self.table.scrollToBottom()
        self.following_changed.emit(on)

    def _on_scrollbar_action(self, _action: int) -> None:
        bar = self.table.verticalScrollBar()
        at_bottom = bar.sliderPosition() >= bar.maximum()
        if self.follow.isChecked() != at_bottom:
            self.follow.blockSignals(True)
            self.follow.setChecked(at_bottom)
            self.follow.blockSignals(False)
            self.following_changed.emit(at_bottom)

    def _on_model_grew(self) -> None:
        if self.follow.isChecked():
            self.table.scrollToBottom()
        if not self._status_timer.isActive():  # at most five updates a second
            self._update_status()
            self._status_timer.start()

    def _on_model_reset(self) -> None:
        self.delegate.current_match = -1
        if self.follow.isChecked():
            QTimer.singleShot(0, self.table.scrollToBottom)
        self._update_status()

    def _on_timestamps_toggled(self, on: bool) -> None:
        self.table.setColumnHidden(LogModel.COLUMN_TIME, not on)

    # -- search ---------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _schedule_search(self) -> None:
        self._search_timer.start()

    def apply_search(self) -> None:
        """Search now (the box waits a moment after each key)."""
        self._search_timer.stop()
        text = self.search.text()
        try:
            self.model.set_search(text, regex=self.regex.isChecked(),
                                  case=self.case.isChecked())
        except re.error as exc:
            self._search_error = f"Invalid regular expression: {exc}"
            self.search.setStyleSheet("QLineEdit { border: 2px solid #d9534f; }")
            self.search.setToolTip(self._search_error)
            self.matches.setText("Invalid pattern")
            return
        self._search_error = ""
        self.search.setStyleSheet("")
        self.search.setToolTip("")
        self.delegate.current_match = -1
        self.table.viewport().update()
        if not text:
            self.matches.setText("")

    def _on_model_search_progress(self, count: int, done: bool) -> None:
        if self.model.search is None:
            self.matches.setText("")
            return
        if done:
            self.matches.setText("No matches" if count == 0 else
                                 f"{count:,} match{'es' if count != 1 else ''}")
        else:
            self.matches.setText(f"searching… {count:,} matches")

    def _on_only_matching_toggled(self, on: bool) -> None:
        if on and self.model.search is None and self.search.text():
            self.apply_search()
        self.model.set_filter(on)

    def next_match(self) -> None:
        self._step_match(backwards=False)

    def previous_match(self) -> None:
        self._step_match(backwards=True)

    def _step_match(self, backwards: bool) -> None:
        if self._search_timer.isActive() or (self.model.search is None and self.search.text()):
            self.apply_search()
        current = self.table.currentIndex()
        row = current.row() if current.isValid() else -1
        if row < 0 and backwards:
            row = self.model.rowCount()
        target = self.model.next_match(row, backwards=backwards)
        if target is None:
            self.message.emit("No more matches" if self.model.match_count else "No matches")
            return
        self.go_to_row(target)
        self.delegate.current_match = target

    def go_to_row(self, row: int) -> None:
        self.follow.setChecked(False)
        index = self.model.index(row, LogModel.COLUMN_MESSAGE)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    # -- jump, copy, save, clear ------------------------------------------------------

    def jump_to(self, ns: int) -> int | None:
        """Show the first line at or after ``ns`` (ns since the epoch); its row."""
        if self.model.rowCount() == 0:
            return None
        row = self.model.row_for_time(ns)
        self.go_to_row(row)
        return row

    def ask_jump(self) -> QDialog:
        # The dialogs' module (and Qt's date, spin box and file dialog classes) when one
        # opens: ~13 M instructions off a launch's way to its first paint.
        from app.desktop.widgets.timedialogs import ask_jump_time, utc_stamp_to_local

        current = self.table.currentIndex()
        initial = QDateTime.currentDateTime()
        if current.isValid() or self.model.rowCount():
            initial = utc_stamp_to_local(str(self.model.index(
                current.row() if current.isValid() else 0, 0).data(LogModel.TimeRole) or ""))
        return ask_jump_time(self, initial, self.jump_to)

    def selected_rows(self) -> list[tuple[int, int]]:
        """Selected row ranges (first, last), without materialising every index."""
        selection = self.table.selectionModel().selection()
        ranges = []
        for i in range(selection.count()):
            part = selection.at(i)
            ranges.append((part.top(), part.bottom()))
        return sorted(ranges)

    def copy_selection(self) -> str:
        ranges = self.selected_rows()
        if not ranges:
            return ""
        rows = (row for first, last in ranges for row in range(first, last + 1))
        text, cut = self.model.rows_text(rows, self.timestamps.isChecked())
        QGuiApplication.clipboard().setText(text)
        if cut:
            self.message.emit("Copied the first 100,000 lines; use Save Log… to keep them all.")
        return text

    def ask_save(self) -> QFileDialog:
        from app.desktop.widgets.timedialogs import ask_save_path

        return ask_save_path(self, self.save_to)

    def save_to(self, dest: Path) -> None:
        """Write the shown rows (after clear and filter) as plain text, off the GUI thread."""
        writer = self.model.snapshot()
        timestamps = self.timestamps.isChecked()
        self.status.setText(f"Saving to {dest.name}…")

        def done(count: int) -> None:
            self.status.setText(f"Saved {count:,} lines to {dest}")
            self.message.emit(f"Saved {count:,} lines to {dest}")

        if self._runner is None:
            done(writer(dest, timestamps))
        else:
            self._runner(f"save the log to {dest}", lambda: writer(dest, timestamps), done)

    def clear(self) -> None:
        self.model.clear_view()

    def _update_status(self) -> None:
        if self.model.path is None:
            self.status.setText("")
            return
        shown = self.model.rowCount()
        total = self.model.indexed_lines
        if not total and _empty(self.model.path):  # a shell waiting for input, say
            text = "Nothing written yet"
        else:
            lines = "line" if total == 1 else "lines"
            text = f"{shown:,} {lines}" if shown == total else f"{shown:,} of {total:,} {lines}"
        self.status.setText(text)


def _empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False
